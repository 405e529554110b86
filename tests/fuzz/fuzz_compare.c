/* fuzz_compare.c - libFuzzer harness for the compare spec reader
 * (compare_spec_load, through a memory file). Every input must either load
 * or give a message naming the file; a spec that loads must hold what its
 * contract says (a name, 1..CMP_MAX_SEEDS distinct seeds, threshold in [0, 1], jobs
 * >= 0, variants with a config each), and its run directories and argument
 * vectors are built for every run, which expands {seed} and {out} in each
 * override. Config files named in the spec are not opened. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../experiments/compare.h"
#include "memfile.h"

/* Builds every run's directory and argv. */
static void plan_runs(const CompareSpec *s)
{
    char err[1024];
    for (int v = 0; v < s->nvariants; v++)
        for (int i = 0; i < s->nseeds; i++) {
            char dir[2 * CMP_PATH];
            compare_run_dir(s, v, s->seeds[i], dir, sizeof dir);
            char **argv = NULL;
            if (compare_run_argv(s, v, s->seeds[i], NULL, 0, "equigrid", i & 1, &argv, err, sizeof err) == 0) {
                if (!argv || !argv[0])
                    abort();
                compare_argv_free(argv);
            }
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64], err[2048] = "";
    int fd = memfile_open(data, size, path, sizeof path);
    if (fd < 0)
        return 0;
    CompareSpec *s = compare_spec_load(path, err, sizeof err);
    close(fd);
    if (!s) {
        if (strncmp(err, path, strlen(path)) != 0)
            abort(); /* every failure names the file */
        return 0;
    }
    if (s->nseeds < 1 || s->nseeds > CMP_MAX_SEEDS || !(s->threshold >= 0 && s->threshold <= 1) || s->jobs < 0 ||
        s->nvariants < 0 || s->nvariants > CMP_MAX_VARIANTS || !memchr(s->name, '\0', sizeof s->name))
        abort();
    for (int i = 0; i < s->nseeds; i++)
        for (int j = 0; j < i; j++)
            if (s->seeds[i] == s->seeds[j])
                abort(); /* two runs would share a directory */
    for (int v = 0; v < s->nvariants; v++)
        if (s->variants[v].config[0] == '\0' || s->variants[v].nsets < 0 || s->variants[v].nsets > CMP_MAX_SETS)
            abort();
    plan_runs(s);
    compare_spec_free(s);
    return 0;
}
