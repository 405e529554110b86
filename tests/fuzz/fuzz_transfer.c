/* fuzz_transfer.c - libFuzzer harness for the transfer spec reader
 * (transfer_load, through a memory file). Every input must either load or
 * give a message naming the file; a spec that loads must hold what its
 * contract says (1..TR_MAX_ENVS envs with a config each, list and override
 * counts in range), and each of its three stages must become a compare spec
 * with 1..CMP_MAX_SEEDS distinct seeds, or fail with a message naming the
 * file. Config files named in the spec are not opened. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../experiments/transfer.h"
#include "memfile.h"

/* Aborts when the spec breaks the contract of transfer.h. */
static void check_spec(const TransferSpec *t)
{
    if (t->nenvs < 1 || t->nenvs > TR_MAX_ENVS || t->nmethods < 1 || t->nmethods > TR_MAX_LIST || t->ngroups < 1 || t->ngroups > TR_MAX_LIST || t->nproxies < 1 ||
        t->nproxies > TR_MAX_LIST || t->nfits < 1 || t->nfits > TR_MAX_LIST)
        abort();
    TransferRow rows[TR_MAX_ROWS];
    if (transfer_rows(t, rows) >= TR_MAX_ROWS)
        abort();
    int counts[] = {t->nall, t->ntd, t->nft, t->nscratch};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
        if (counts[i] < 0 || counts[i] > TR_MAX_SETS)
            abort();
    for (int e = 0; e < t->nenvs; e++)
        if (t->envs[e].config[0] == '\0' || t->envs[e].nsets < 0 || t->envs[e].nsets > TR_MAX_SETS)
            abort();
    if (t->td_steps < 0 || t->finetune_steps < 1 || t->jobs < 0 || t->prior_updates < 1 || !(t->prior > 0) || !(t->pretrain_success >= 0 && t->pretrain_success <= 1))
        abort();
}

/* Builds the compare spec of each stage and checks its seeds. */
static void check_stages(const TransferSpec *t)
{
    for (int stage = 0; stage < TRANSFER_STAGES; stage++) {
        char err[2048] = "";
        CompareSpec *s = transfer_stage(t, (TransferStage)stage, err, sizeof err);
        if (!s) {
            if (strncmp(err, t->path, strlen(t->path)) != 0)
                abort(); /* every failure names the spec */
            continue;
        }
        if (s->nseeds < 1 || s->nseeds > CMP_MAX_SEEDS || s->nvariants < 1 || s->nvariants > CMP_MAX_VARIANTS)
            abort();
        for (int i = 0; i < s->nseeds; i++)
            for (int j = 0; j < i; j++)
                if (s->seeds[i] == s->seeds[j])
                    abort(); /* two runs would share a directory */
        compare_spec_free(s);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64], err[2048] = "";
    int fd = memfile_open(data, size, path, sizeof path);
    if (fd < 0)
        return 0;
    TransferSpec *t = malloc(sizeof *t);
    if (!t) {
        close(fd);
        return 0;
    }
    if (transfer_load(t, path, err, sizeof err) == 0) {
        check_spec(t);
        check_stages(t);
    } else if (strncmp(err, path, strlen(path)) != 0) {
        abort(); /* every failure names the file */
    }
    close(fd);
    free(t);
    return 0;
}
