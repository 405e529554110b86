/* fuzz_safetensors.c - libFuzzer harness for the safetensors reader
 * (st_open, through a memory file). Every input must either open or give a
 * message naming the file; a file that opens must expose only what it
 * promises: every tensor's bytes readable through a pointer of its dtype
 * (read here in full, so ASan sees any overrun), st_find and st_expect
 * finding each tensor by its own name, dtype and shape. */
#include <stdint.h>
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
    st_close(f);
    return 0;
}
