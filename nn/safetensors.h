/* safetensors.h - reading and writing safetensors files (the checkpoint
 * format, docs/design.md): 8-byte little-endian header length N, N bytes of JSON
 * header {name: {"dtype", "shape", "data_offsets": [begin, end]}, ...,
 * "__metadata__": {string: string}}, then the raw little-endian data. Parsed
 * with cJSON. Writes go to "path.tmp" and are renamed over path only when
 * complete and flushed, so a crash never leaves a half-written file. Reads
 * validate everything (length, JSON, dtypes, shapes vs. byte sizes, offsets in
 * bounds and non-overlapping) before any tensor is used. */
#ifndef EQUIGRID_SAFETENSORS_H
#define EQUIGRID_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

typedef enum { ST_F32, ST_U8, ST_U32, ST_I64 } StDtype;

enum { ST_MAX_DIM = 4, ST_NAME = 96 };

/* A tensor to write, or one found in a file. */
typedef struct {
    char name[ST_NAME];
    StDtype dtype;
    int ndim;
    int64_t shape[ST_MAX_DIM];
    const void *data;   /* little-endian on disk; this machine is little-endian (checked) */
    int transpose2d;    /* write only: data is the 2-D transpose (shape[1], shape[0]) in memory */
} StTensor;

/* Writes tensors and metadata (nmeta key/value string pairs) to path
 * atomically. Returns 0, or -1 with "path: what failed (errno text)". */
int st_write(const char *path, const StTensor *t, int n, const char *const *meta_keys, const char *const *meta_vals, int nmeta, char *err, size_t errlen);

typedef struct StFile StFile;
/* Reads and validates a whole file. Returns NULL with a message naming the
 * file and what is wrong: missing, too short, header length beyond the file,
 * not JSON, unknown dtype, shape/offset mismatch, data past the end, not a
 * safetensors file at all. st_close(NULL) is a no-op. */
StFile *st_open(const char *path, char *err, size_t errlen);
void st_close(StFile *f);
/* Finds a tensor by name; NULL if absent. The StTensor's data points into the
 * file's buffer (valid until st_close). */
const StTensor *st_find(const StFile *f, const char *name);
/* Like st_find, but also checks dtype and shape (ndim entries); returns NULL
 * with "path: tensor NAME: missing / has dtype X shape [..], expected ..." */
const StTensor *st_expect(const StFile *f, const char *name, StDtype dtype, int ndim, const int64_t *shape, char *err, size_t errlen);
/* Copies a 2-D F32 tensor transposing it (file (R, C) -> memory (C, R)). */
void st_copy_transposed(float *dst, const StTensor *t);
/* Value of a metadata key, or NULL. */
const char *st_meta(const StFile *f, const char *key);
int st_count(const StFile *f);
const StTensor *st_at(const StFile *f, int i);

#endif
