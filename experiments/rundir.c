/* rundir.c - the state on disk of a compare output directory (see
 * rundir.h): spec.ini, which binds the directory to one spec, and the
 * done / checkpoint / CSV files that tell how far each run got. */
#include "rundir.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/atomicfile.h"
#include "../core/buf.h"
#include "../core/errmsg.h"
#include "../core/file.h"
#include "plan.h"

/* Copies the run-defining lines of a normalised spec into a new string. */
static char *defining_lines(const char *text)
{
    size_t n = strlen(text);
    char *out = malloc(n + 1), *o = out;
    if (!out)
        return NULL;
    for (const char *p = text; *p;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        int skip = len == 0 || p[0] == ';' || strncmp(p, "name =", 6) == 0 || strncmp(p, "seeds =", 7) == 0 || strncmp(p, "threshold =", 11) == 0 || strncmp(p, "jobs =", 6) == 0;
        if (!skip) {
            memcpy(o, p, len);
            o += len;
            *o++ = '\n';
        }
        p += len + (eol ? 1 : 0);
    }
    *o = '\0';
    return out;
}

char *compare_read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    Buf b = {0};
    char chunk[4096];
    size_t k;
    while ((k = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(&b, chunk, k);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        buf_free(&b);
        return NULL;
    }
    return buf_take(&b);
}

int compare_out_prepare(const CompareSpec *s, const char *const *sets, int nsets, int write, char *err, size_t errlen)
{
    char *norm = compare_spec_normalised(s, sets, nsets);
    if (!norm) {
        /* a config that does not load: compare_spec_check names it */
        if (compare_spec_check(s, sets, nsets, err, errlen) == 0)
            errmsg_set(err, errlen, "out of memory");
        return -1;
    }
    char path[CMP_PATH + 16];
    snprintf(path, sizeof path, "%s/spec.ini", s->out);
    char *old = compare_read_text(path);
    int rc = 0;
    if (old) {
        char *a = defining_lines(old), *b = defining_lines(norm);
        if (!a || !b) {
            errmsg_set(err, errlen, "out of memory");
            rc = -1;
        } else if (strcmp(a, b) != 0) {
            const char *p = a, *q = b;
            while (*p && *p == *q)
                p++, q++;
            while (p > a && p[-1] != '\n')
                p--;
            while (q > b && q[-1] != '\n')
                q--;
            const char *pe = strchr(p, '\n'), *qe = strchr(q, '\n');
            errmsg_set(err, errlen, "%s: %s holds runs of a different spec (its %s has '%.*s' where %s has '%.*s'); use another [compare] out, or remove the directory",
                s->path, s->out, path, (int)(pe ? pe - p : (long)strlen(p)), p, s->path, (int)(qe ? qe - q : (long)strlen(q)), q);
            rc = -1;
        }
        free(a);
        free(b);
    }
    if (rc == 0 && write) {
        if (file_mkdir_p(s->out, err, errlen) != 0 || atomicfile_write(path, norm, strlen(norm), err, errlen) != 0)
            rc = -1;
    }
    free(old);
    free(norm);
    return rc;
}

static int exists_in(const char *dir, const char *file)
{
    char p[CMP_PATH * 2 + 64];
    snprintf(p, sizeof p, "%s/%s", dir, file);
    return access(p, F_OK) == 0;
}

RunState compare_run_state(const char *dir)
{
    if (exists_in(dir, "done"))
        return RUN_DONE;
    if (exists_in(dir, "checkpoint.safetensors"))
        return RUN_RESUME;
    if (exists_in(dir, "metrics.csv") || exists_in(dir, "eval.csv"))
        return RUN_STALE;
    return RUN_FRESH;
}
