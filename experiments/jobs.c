/* jobs.c - job lists for external schedulers (see jobs.h): one shell
 * command per run, safe to run in any order and more than once. */
#include "jobs.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "../core/errmsg.h"
#include "plan.h"

/* Writes s single-quoted for sh. */
static void shell_quote(FILE *f, const char *s)
{
    int plain = *s != '\0';
    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("-_./=,:+@%", *p))
            plain = 0;
    if (plain) {
        fputs(s, f);
        return;
    }
    fputc('\'', f);
    for (const char *p = s; *p; p++) {
        if (*p == '\'')
            fputs("'\\''", f);
        else
            fputc(*p, f);
    }
    fputc('\'', f);
}

int compare_emit_jobs(const CompareSpec *s, const char *const *sets, int nsets, const char *exe, const char *cwd, FILE *f, char *err, size_t errlen)
{
    int lines = 0;
    char dir[CMP_PATH * 2];
    for (int v = 0; v < s->nvariants; v++)
        for (int k = 0; k < s->nseeds; k++) {
            char **argv;
            if (compare_run_argv(s, v, s->seeds[k], sets, nsets, exe, 0, &argv, err, errlen) != 0)
                return -1;
            compare_run_dir(s, v, s->seeds[k], dir, sizeof dir);
            fputs("cd ", f);
            shell_quote(f, cwd);
            fputs(" && d=", f);
            shell_quote(f, dir);
            fputs(" && { [ -e \"$d/done\" ] || { mkdir -p \"$d\" && r= && { [ -e \"$d/checkpoint.safetensors\" ] && r=--resume || rm -f \"$d/metrics.csv\" \"$d/eval.csv\"; } && OPENBLAS_NUM_THREADS=1", f);
            for (char **p = argv; *p; p++) {
                fputc(' ', f);
                shell_quote(f, *p);
            }
            fputs(" $r >> \"$d/log.txt\" 2>&1 && echo ok > \"$d/done\"; }; }\n", f);
            compare_argv_free(argv);
            lines++;
        }
    if (ferror(f)) {
        errmsg_set(err, errlen, "cannot write the job list: %s", strerror(errno));
        return -1;
    }
    return lines;
}
