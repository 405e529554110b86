/* fuzz_safetensors.c - libFuzzer harness for the safetensors reader
 * (st_open, through a memory file). Every input must either open or give a
 * message naming the file; a file that opens must expose only what it
 * promises: every tensor's bytes readable through a pointer of its dtype
 * (read here in full, so ASan sees any overrun), st_find and st_expect
 * finding each tensor by its own name, dtype and shape; and what was read
 * survives st_write (to a temporary file) and st_open again, bit for bit. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../nn/safetensors.h"
#include "memfile.h"

static size_t elem_size(StDtype d) { return d == ST_U8 ? 1 : d == ST_I64 ? 8 : 4; }

/* Reads every element of t through its dtype; returns a checksum. */
static uint64_t touch(const StTensor *t)
{
    size_t n = 1;
    for (int d = 0; d < t->ndim; d++)
        n *= (size_t)t->shape[d];
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        switch (t->dtype) {
        case ST_U8: sum += ((const uint8_t *)t->data)[i]; break;
        case ST_U32: sum += ((const uint32_t *)t->data)[i]; break;
        case ST_I64: sum += (uint64_t)((const int64_t *)t->data)[i]; break;
        default: {
            float v = ((const float *)t->data)[i];
            uint32_t bits;
            memcpy(&bits, &v, sizeof bits);
            sum += bits;
        }
        }
    }
    if (n > 0 && (uintptr_t)t->data % elem_size(t->dtype) != 0)
        abort(); /* the header promises aligned data */
    return sum;
}

/* Writes f's tensors to a temporary file, reads them back and compares. */
static void check_round_trip(const StFile *f)
{
    int n = st_count(f);
    StTensor *t = malloc(sizeof *t * (size_t)(n ? n : 1));
    if (!t)
        return;
    for (int i = 0; i < n; i++)
        t[i] = *st_at(f, i);
    const char *dir = getenv("TMPDIR");
    char path[512], err[1024];
    snprintf(path, sizeof path, "%s/equigrid-fuzz-%ld.safetensors", dir && dir[0] ? dir : "/tmp", (long)getpid());
    if (st_write(path, t, n, NULL, NULL, 0, err, sizeof err) != 0)
        abort(); /* what the reader accepts, the writer must write */
    StFile *g = st_open(path, err, sizeof err);
    remove(path);
    if (!g || st_count(g) != n)
        abort();
    for (int i = 0; i < n; i++) {
        const StTensor *a = &t[i], *b = st_find(g, a->name);
        if (!b || b->dtype != a->dtype || b->ndim != a->ndim || memcmp(b->shape, a->shape, sizeof a->shape[0] * (size_t)a->ndim) != 0)
            abort();
        size_t bytes = elem_size(a->dtype);
        for (int d = 0; d < a->ndim; d++)
            bytes *= (size_t)a->shape[d];
        if (bytes && memcmp(a->data, b->data, bytes) != 0)
            abort();
    }
    st_close(g);
    free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64], err[1024] = "";
    int fd = memfile_open(data, size, path, sizeof path);
    if (fd < 0)
        return 0;
    StFile *f = st_open(path, err, sizeof err);
    close(fd);
    if (!f) {
        if (strncmp(err, path, strlen(path)) != 0)
            abort(); /* every failure names the file */
        return 0;
    }
    volatile uint64_t sink = 0;
    for (int i = 0; i < st_count(f); i++) {
        const StTensor *t = st_at(f, i);
        if (!t || t->ndim < 0 || t->ndim > ST_MAX_DIM || !memchr(t->name, '\0', ST_NAME))
            abort();
        if (st_find(f, t->name) != t)
            abort(); /* names are unique */
        if (st_expect(f, t->name, t->dtype, t->ndim, t->shape, err, sizeof err) != t)
            abort();
        sink += touch(t);
    }
    if (st_at(f, st_count(f)) != NULL || st_at(f, -1) != NULL)
        abort();
    const char *keys[] = {"format", "config", "step", ""};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        const char *v = st_meta(f, keys[k]);
        if (v)
            sink += strlen(v);
    }
    (void)sink;
    check_round_trip(f);
    st_close(f);
    return 0;
}
