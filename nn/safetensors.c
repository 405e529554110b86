/* safetensors.c - safetensors checkpoints (format in safetensors.h).
 *
 * Writing: the JSON header is built with cJSON, padded with spaces to a
 * multiple of 8 bytes, and the tensors follow contiguously in the order given.
 * Everything goes through core/atomicfile ("path.tmp", flushed, fsync'ed,
 * closed and renamed over path; on any failure the temporary file is removed).
 *
 * Reading: the whole file is read into one buffer and every field is checked
 * before a tensor is exposed, so any byte sequence either loads or yields a
 * message (the test suite feeds truncations, bit flips and garbage). After
 * validation the data section is moved to the start of the buffer (malloc
 * alignment) and a tensor whose offset is not a multiple of its element size
 * gets its own aligned copy, so StTensor.data can always be read through a
 * pointer of its dtype. Tuned for checkpoints of a few MB: simple, not
 * streaming. */
#include "safetensors.h"

#include <assert.h>
#include <cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/atomicfile.h"
#include "../core/errmsg.h"
#include "../core/file.h"

enum { ST_MAX_HEADER = 100 * 1024 * 1024 };
#define ST_META "__metadata__"
/* Largest integer a JSON number (a double in cJSON) holds exactly. */
#define ST_MAX_INT 9007199254740992.0

struct StFile {
    char *path;      /* for messages */
    uint8_t *buf;    /* the file; after validation, starts with the data section */
    size_t dsize;    /* bytes of the data section */
    StTensor *t;     /* (n) in header order */
    int n;
    void **copies;   /* (n) aligned copies of misaligned tensors, or NULL */
    cJSON *meta;     /* the __metadata__ object (owned by root), or NULL */
    cJSON *root;
};

static const char *const dtype_names[] = { "F32", "U8", "U32", "I64" };
static const size_t dtype_sizes[] = { 4, 1, 4, 8 };

/* 0 on a little-endian host; else -1 with a message naming path: the data
 * is little-endian and this reader/writer does not swap bytes. */
static int check_host_order(const char *path, char *err, size_t errlen)
{
    const uint16_t one = 1;
    uint8_t b;
    memcpy(&b, &one, 1);
    if (b == 1)
        return 0;
    return errmsg_set(err, errlen, "%s: this machine is big-endian; safetensors data is little-endian and byte swapping is not implemented", path);
}

/* Largest byte count handled: what size_t and a JSON number both hold. */
static size_t max_bytes(void) { return (double)SIZE_MAX < ST_MAX_INT ? SIZE_MAX : (size_t)ST_MAX_INT; }

static int dtype_valid(StDtype d) { return (int)d >= 0 && (int)d < 4; }

/* Formats a shape as "[a, b, c]" into buf. */
static const char *shape_str(char *buf, size_t len, int ndim, const int64_t *shape)
{
    size_t used = 0;
    used += (size_t)snprintf(buf, len, "[");
    for (int i = 0; i < ndim && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (used < len)
        snprintf(buf + used, len - used, "]");
    return buf;
}

/* Bytes of a tensor, or -1 if they exceed limit (overflow-safe). */
static int tensor_bytes(const StTensor *t, size_t limit, size_t *bytes)
{
    size_t count = 1;
    for (int i = 0; i < t->ndim; i++)
        if (t->shape[i] == 0)
            count = 0;
    for (int i = 0; i < t->ndim && count; i++) {
        uint64_t d = (uint64_t)t->shape[i];
        if (d > limit || count > limit / (size_t)d)
            return -1;
        count *= (size_t)d;
    }
    size_t es = dtype_sizes[t->dtype];
    if (count > limit / es)
        return -1;
    *bytes = count * es;
    return 0;
}

/* ---------------------------------------------------------------- writing */

/* Checks that s[0..len) is well-formed UTF-8 (no overlongs, no surrogates). */
static int utf8_valid(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        size_t k;
        uint32_t cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            k = 1, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            k = 2, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            k = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return 0;
        }
        if (len - i <= k)
            return 0;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + j] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += k + 1;
    }
    return 1;
}

/* Checks the tensors and metadata given to st_write; fills bytes[i]. */
static int check_write_args(const char *path, const StTensor *t, int n, const char *const *mk, const char *const *mv, int nmeta, size_t *bytes, char *err, size_t errlen)
{
    if (n < 0 || nmeta < 0 || (n > 0 && !t) || (nmeta > 0 && (!mk || !mv))) {
        errmsg_set(err, errlen, "%s: invalid arguments (n = %d, nmeta = %d)", path, n, nmeta);
        return -1;
    }
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        const StTensor *x = &t[i];
        char sh[128];
        if (!memchr(x->name, '\0', ST_NAME) || x->name[0] == '\0' || strcmp(x->name, ST_META) == 0) {
            errmsg_set(err, errlen, "%s: tensor %d: name must be 1..%d bytes and not \"%s\"", path, i, ST_NAME - 1, ST_META);
            return -1;
        }
        if (!utf8_valid((const uint8_t *)x->name, strlen(x->name))) {
            errmsg_set(err, errlen, "%s: tensor %d: name is not valid UTF-8", path, i);
            return -1;
        }
        for (int j = 0; j < i; j++)
            if (strcmp(t[j].name, x->name) == 0) {
                errmsg_set(err, errlen, "%s: tensor %s: duplicate name", path, x->name);
                return -1;
            }
        if (!dtype_valid(x->dtype)) {
            errmsg_set(err, errlen, "%s: tensor %s: unknown dtype %d (allowed: ST_F32, ST_U8, ST_U32, ST_I64)", path, x->name, (int)x->dtype);
            return -1;
        }
        if (x->ndim < 0 || x->ndim > ST_MAX_DIM) {
            errmsg_set(err, errlen, "%s: tensor %s: ndim %d, allowed 0..%d", path, x->name, x->ndim, ST_MAX_DIM);
            return -1;
        }
        for (int k = 0; k < x->ndim; k++)
            if (x->shape[k] < 0 || (double)x->shape[k] >= ST_MAX_INT) {
                errmsg_set(err, errlen, "%s: tensor %s: shape %s has a negative or huge dimension", path, x->name, shape_str(sh, sizeof sh, x->ndim, x->shape));
                return -1;
            }
        if (x->transpose2d && x->ndim != 2) {
            errmsg_set(err, errlen, "%s: tensor %s: transpose2d needs a 2-D shape, got %s", path, x->name, shape_str(sh, sizeof sh, x->ndim, x->shape));
            return -1;
        }
        if (tensor_bytes(x, max_bytes(), &bytes[i]) != 0 || bytes[i] > max_bytes() - total) {
            errmsg_set(err, errlen, "%s: tensor %s: shape %s is too large", path, x->name, shape_str(sh, sizeof sh, x->ndim, x->shape));
            return -1;
        }
        total += bytes[i];
        if (bytes[i] > 0 && !x->data) {
            errmsg_set(err, errlen, "%s: tensor %s: data is NULL", path, x->name);
            return -1;
        }
    }
    for (int i = 0; i < nmeta; i++) {
        if (!mk[i] || !mv[i]) {
            errmsg_set(err, errlen, "%s: metadata entry %d: key and value must not be NULL", path, i);
            return -1;
        }
        if (!utf8_valid((const uint8_t *)mk[i], strlen(mk[i])) || !utf8_valid((const uint8_t *)mv[i], strlen(mv[i]))) {
            errmsg_set(err, errlen, "%s: metadata entry \"%.40s\": key or value is not valid UTF-8", path, mk[i]);
            return -1;
        }
        for (int j = 0; j < i; j++)
            if (strcmp(mk[j], mk[i]) == 0) {
                errmsg_set(err, errlen, "%s: metadata key \"%s\" given twice", path, mk[i]);
                return -1;
            }
    }
    return 0;
}

/* Builds the header JSON (unpadded). Returns a malloc'ed string or NULL. */
static char *build_header(const StTensor *t, int n, const size_t *bytes, const char *const *mk, const char *const *mv, int nmeta)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    size_t off = 0;
    int ok = 1;
    for (int i = 0; i < n && ok; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON *shape = cJSON_CreateArray();
        cJSON *offs = cJSON_CreateArray();
        ok = e && shape && offs;
        if (!ok) {
            cJSON_Delete(e);
            cJSON_Delete(shape);
            cJSON_Delete(offs);
            break;
        }
        for (int k = 0; k < t[i].ndim && ok; k++)
            ok = cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)t[i].shape[k]));
        ok = ok && cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)off));
        ok = ok && cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)(off + bytes[i])));
        ok = ok && cJSON_AddStringToObject(e, "dtype", dtype_names[t[i].dtype]) != NULL;
        /* The object takes ownership of shape/offs even if a later add fails. */
        if (!cJSON_AddItemToObject(e, "shape", shape)) {
            cJSON_Delete(shape);
            ok = 0;
        }
        if (!cJSON_AddItemToObject(e, "data_offsets", offs)) {
            cJSON_Delete(offs);
            ok = 0;
        }
        if (!cJSON_AddItemToObject(root, t[i].name, e)) {
            cJSON_Delete(e);
            ok = 0;
        }
        off += bytes[i];
    }
    if (ok && nmeta > 0) {
        cJSON *meta = cJSON_AddObjectToObject(root, ST_META);
        ok = meta != NULL;
        for (int i = 0; i < nmeta && ok; i++)
            ok = cJSON_AddStringToObject(meta, mk[i], mv[i]) != NULL;
    }
    char *s = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    return s;
}

/* Writes tensor data in file layout; returns 0 or -1 (errno set). */
static int write_tensor(FILE *fp, const StTensor *t, size_t bytes)
{
    if (bytes == 0)
        return 0;
    if (!t->transpose2d)
        return fwrite(t->data, 1, bytes, fp) == bytes ? 0 : -1;
    /* Memory (C, R), file (R, C): gather one file row at a time. */
    size_t es = dtype_sizes[t->dtype], R = (size_t)t->shape[0], C = (size_t)t->shape[1];
    uint8_t *row = malloc(C * es);
    if (!row)
        return -1;
    const uint8_t *src = t->data;
    int rc = 0;
    for (size_t r = 0; r < R && rc == 0; r++) {
        for (size_t c = 0; c < C; c++)
            memcpy(row + c * es, src + (c * R + r) * es, es);
        if (fwrite(row, es, C, fp) != C)
            rc = -1;
    }
    free(row);
    return rc;
}

/* Writes tensors and metadata to path through path.tmp and a rename. */
int st_write(const char *path, const StTensor *t, int n, const char *const *meta_keys, const char *const *meta_vals, int nmeta, char *err, size_t errlen)
{
    if (check_host_order(path, err, errlen) != 0)
        return -1;
    size_t *bytes = malloc(sizeof *bytes * (size_t)(n > 0 ? n : 1));
    if (!bytes) {
        errmsg_set(err, errlen, "%s: out of memory", path);
        return -1;
    }
    if (check_write_args(path, t, n, meta_keys, meta_vals, nmeta, bytes, err, errlen) != 0) {
        free(bytes);
        return -1;
    }
    char *json = build_header(t, n, bytes, meta_keys, meta_vals, nmeta);
    if (!json) {
        errmsg_set(err, errlen, "%s: out of memory building the header", path);
        free(bytes);
        return -1;
    }
    size_t jlen = strlen(json), hlen = (jlen + 7) / 8 * 8;
    uint8_t len8[8];
    for (int i = 0; i < 8; i++)
        len8[i] = (uint8_t)((uint64_t)hlen >> (8 * i));
    static const char spaces[8] = "        ";

    int rc = -1;
    AtomicFile *af = atomicfile_open(path, err, errlen);
    if (af) {
        FILE *fp = atomicfile_stream(af);
        int bad = fwrite(len8, 1, 8, fp) != 8 || fwrite(json, 1, jlen, fp) != jlen || fwrite(spaces, 1, hlen - jlen, fp) != hlen - jlen;
        for (int i = 0; i < n && !bad; i++)
            bad = write_tensor(fp, &t[i], bytes[i]) != 0;
        if (bad) {
            errmsg_set(err, errlen, "%s: write failed: %s", path, strerror(errno));
            atomicfile_abort(af);
        } else {
            rc = atomicfile_commit(af, err, errlen);
        }
    }
    free(json);
    free(bytes);
    return rc;
}

/* ---------------------------------------------------------------- reading */

void st_close(StFile *f)
{
    if (!f)
        return;
    if (f->copies)
        for (int i = 0; i < f->n; i++)
            free(f->copies[i]);
    free(f->copies);
    free(f->t);
    cJSON_Delete(f->root);
    free(f->buf);
    free(f->path);
    free(f);
}

/* Reads a JSON number that must be an integer in [0, 2^53]. */
static int json_uint(const cJSON *x, int64_t *out)
{
    if (!cJSON_IsNumber(x))
        return -1;
    double d = x->valuedouble;
    if (!(d >= 0.0 && d <= ST_MAX_INT) || d != (double)(int64_t)d)
        return -1;
    *out = (int64_t)d;
    return 0;
}

/* Reads the file at path into a new buffer after checking its first 8 bytes
 * (header length) against the file size and the header limit, so a huge
 * non-safetensors file is rejected without being read. */
static uint8_t *read_file(const char *path, size_t *size, uint64_t *hlen, char *err, size_t errlen)
{
    FILE *fp = file_open_read(path, err, errlen);
    if (!fp)
        return NULL;
    struct stat st;
    if (fstat(fileno(fp), &st) != 0) {
        errmsg_set(err, errlen, "%s: cannot stat: %s", path, strerror(errno));
        fclose(fp);
        return NULL;
    }
    if ((uint64_t)st.st_size > (uint64_t)SIZE_MAX - 1) {
        errmsg_set(err, errlen, "%s: file too large (%lld bytes)", path, (long long)st.st_size);
        fclose(fp);
        return NULL;
    }
    size_t n = (size_t)st.st_size;
    uint8_t len8[8];
    if (n < 8 || fread(len8, 1, 8, fp) != 8) {
        errmsg_set(err, errlen, "%s: not a safetensors file (%zu bytes, shorter than the 8-byte header length)", path, n);
        fclose(fp);
        return NULL;
    }
    uint64_t h = 0;
    for (int i = 7; i >= 0; i--)
        h = (h << 8) | len8[i];
    int text = 1;
    for (int i = 0; i < 8; i++)
        text &= (len8[i] >= 0x20 && len8[i] < 0x7f) || len8[i] == '\n' || len8[i] == '\r' || len8[i] == '\t';
    if (text && h > (uint64_t)(n - 8)) {
        char shown[40];
        size_t k = 0;
        for (int i = 0; i < 8; i++)
            k += (size_t)snprintf(shown + k, sizeof shown - k, len8[i] == '\n' ? "\\n" : len8[i] == '\r' ? "\\r" : len8[i] == '\t' ? "\\t" : "%c", len8[i]);
        errmsg_set(err, errlen, "%s: not a safetensors file: it starts with text \"%s\" (a config or map file?); allowed: a checkpoint written by equigrid train", path, shown);
        fclose(fp);
        return NULL;
    }
    if (h > (uint64_t)(n - 8)) {
        errmsg_set(err, errlen, "%s: not a safetensors file (header length %llu exceeds file size %zu)", path, (unsigned long long)h, n);
        fclose(fp);
        return NULL;
    }
    if (h > ST_MAX_HEADER) {
        errmsg_set(err, errlen, "%s: header length %llu exceeds the %d-byte limit", path, (unsigned long long)h, ST_MAX_HEADER);
        fclose(fp);
        return NULL;
    }
    uint8_t *buf = malloc(n);
    if (!buf) {
        errmsg_set(err, errlen, "%s: out of memory reading %zu bytes", path, n);
        fclose(fp);
        return NULL;
    }
    memcpy(buf, len8, 8);
    size_t got = fread(buf + 8, 1, n - 8, fp);
    int bad = got != n - 8 || ferror(fp);
    fclose(fp);
    if (bad) {
        errmsg_set(err, errlen, "%s: read failed after %zu of %zu bytes (file changed while reading?)", path, got + 8, n);
        free(buf);
        return NULL;
    }
    *size = n;
    *hlen = h;
    return buf;
}

/* Fills f->t[i] from header entry e; checks dtype, shape and offsets. */
static int parse_tensor(StFile *f, const cJSON *e, StTensor *t, int64_t *range, char *err, size_t errlen)
{
    const char *p = f->path, *name = e->string;
    char sh[128];
    if (strlen(name) >= ST_NAME) {
        errmsg_set(err, errlen, "%s: tensor name \"%.40s...\" is %zu bytes, at most %d allowed", p, name, strlen(name), ST_NAME - 1);
        return -1;
    }
    if (name[0] == '\0') {
        errmsg_set(err, errlen, "%s: a tensor has the empty name \"\"; allowed: names of 1..%d bytes (what st_write writes)", p, ST_NAME - 1);
        return -1;
    }
    memset(t, 0, sizeof *t);
    memcpy(t->name, name, strlen(name) + 1);
    if (!cJSON_IsObject(e)) {
        errmsg_set(err, errlen, "%s: tensor %s: entry is not a JSON object", p, name);
        return -1;
    }
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(e, "shape");
    const cJSON *offs = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    if (!cJSON_IsString(dt)) {
        errmsg_set(err, errlen, "%s: tensor %s: missing \"dtype\" string", p, name);
        return -1;
    }
    int d = -1;
    for (int i = 0; i < 4; i++)
        if (strcmp(dt->valuestring, dtype_names[i]) == 0)
            d = i;
    if (d < 0) {
        errmsg_set(err, errlen, "%s: tensor %s: unknown dtype \"%.16s\" (supported: F32, U8, U32, I64)", p, name, dt->valuestring);
        return -1;
    }
    t->dtype = (StDtype)d;
    int nd = cJSON_IsArray(shape) ? cJSON_GetArraySize(shape) : -1;
    if (nd < 0 || nd > ST_MAX_DIM) {
        errmsg_set(err, errlen, "%s: tensor %s: \"shape\" must be an array of at most %d non-negative integers", p, name, ST_MAX_DIM);
        return -1;
    }
    t->ndim = nd;
    int k = 0;
    for (const cJSON *x = shape->child; x; x = x->next, k++)
        if (json_uint(x, &t->shape[k]) != 0) {
            errmsg_set(err, errlen, "%s: tensor %s: shape entry %d is not a non-negative integer", p, name, k);
            return -1;
        }
    if (!cJSON_IsArray(offs) || cJSON_GetArraySize(offs) != 2 || json_uint(offs->child, &range[0]) != 0 || json_uint(offs->child->next, &range[1]) != 0) {
        errmsg_set(err, errlen, "%s: tensor %s: \"data_offsets\" must be [begin, end], two non-negative integers", p, name);
        return -1;
    }
    int64_t b = range[0], en = range[1];
    if (b > en) {
        errmsg_set(err, errlen, "%s: tensor %s: data_offsets [%lld, %lld] has begin > end", p, name, (long long)b, (long long)en);
        return -1;
    }
    size_t need;
    if (tensor_bytes(t, max_bytes(), &need) != 0 || need != (size_t)(en - b)) {
        errmsg_set(err, errlen, "%s: tensor %s: dtype %s shape %s does not match data_offsets [%lld, %lld] (%lld bytes)", p, name, dtype_names[d], shape_str(sh, sizeof sh, nd, t->shape), (long long)b, (long long)en, (long long)(en - b));
        return -1;
    }
    if ((uint64_t)en > (uint64_t)f->dsize) {
        errmsg_set(err, errlen, "%s: truncated: tensor %s needs bytes [%lld, %lld) but the data section has only %zu bytes", p, name, (long long)b, (long long)en, f->dsize);
        return -1;
    }
    return 0;
}

typedef struct {
    int64_t b, e;
    int i;
} Span;

static int span_cmp(const void *a, const void *b)
{
    const Span *x = a, *y = b;
    if (x->b != y->b)
        return x->b < y->b ? -1 : 1;
    return (x->e > y->e) - (x->e < y->e);
}

static int str_cmp(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* The first name that occurs twice among names[0..n) (sorted in place, so
 * O(n log n)), or NULL. */
static const char *first_duplicate(const char **names, int n)
{
    qsort(names, (size_t)n, sizeof *names, str_cmp);
    for (int i = 1; i < n; i++)
        if (strcmp(names[i - 1], names[i]) == 0)
            return names[i];
    return NULL;
}

/* Fails naming a tensor or a metadata key that appears twice in f's header. */
static int check_unique_names(const StFile *f, char *err, size_t errlen)
{
    int nmeta = f->meta ? cJSON_GetArraySize(f->meta) : 0;
    int cap = f->n > nmeta ? f->n : nmeta;
    const char **names = malloc(sizeof *names * (size_t)(cap ? cap : 1));
    if (!names) {
        errmsg_set(err, errlen, "%s: out of memory for %d tensors", f->path, f->n);
        return -1;
    }
    for (int i = 0; i < f->n; i++)
        names[i] = f->t[i].name;
    const char *dup = first_duplicate(names, f->n);
    int rc = 0;
    if (dup) {
        errmsg_set(err, errlen, "%s: tensor %s appears twice in the header", f->path, dup);
        rc = -1;
    }
    int k = 0;
    for (const cJSON *m = f->meta ? f->meta->child : NULL; m && rc == 0; m = m->next)
        names[k++] = m->string;
    if (rc == 0 && (dup = first_duplicate(names, k))) {
        errmsg_set(err, errlen, "%s: metadata key \"%.40s\" appears twice in %s; allowed: each key once", f->path, dup, ST_META);
        rc = -1;
    }
    free(names);
    return rc;
}

/* Offset of the first NUL in the header, raw or as a \u0000 escape inside a
 * JSON string (cJSON would cut the string there), or -1. */
static long header_nul(const uint8_t *json, size_t len)
{
    const uint8_t *z = memchr(json, 0, len);
    if (z)
        return (long)(z - json);
    int in_str = 0;
    for (size_t i = 0; i < len; i++) {
        if (!in_str) {
            in_str = json[i] == '"';
            continue;
        }
        if (json[i] == '"')
            in_str = 0;
        else if (json[i] == '\\') {
            if (i + 5 < len && json[i + 1] == 'u' && memcmp(json + i + 2, "0000", 4) == 0)
                return (long)i;
            i++; /* the escaped character */
        }
    }
    return -1;
}

/* Parses and validates the header; on success fills f->t, f->n, f->meta and
 * the tensor byte ranges (ranges, 2 per tensor, malloc'ed). */
static int parse_header(StFile *f, const uint8_t *json, size_t hlen, int64_t **ranges, char *err, size_t errlen)
{
    const char *p = f->path;
    long nul = header_nul(json, hlen);
    if (nul >= 0) {
        errmsg_set(err, errlen, "%s: header holds a NUL byte at offset %ld; allowed: JSON text without NUL (\\u0000 included)", p, nul + 8);
        return -1;
    }
    if (!utf8_valid(json, hlen)) {
        errmsg_set(err, errlen, "%s: header is not valid UTF-8", p);
        return -1;
    }
    const char *end = NULL;
    f->root = cJSON_ParseWithLengthOpts((const char *)json, hlen, &end, 0);
    if (!f->root) {
        errmsg_set(err, errlen, "%s: header is not valid JSON", p);
        return -1;
    }
    for (const char *c = end; c < (const char *)json + hlen; c++)
        if (*c != ' ' && *c != '\t' && *c != '\n' && *c != '\r') {
            errmsg_set(err, errlen, "%s: header is not valid JSON (extra bytes after the object at offset %td)", p, (const uint8_t *)c - json);
            return -1;
        }
    if (!cJSON_IsObject(f->root)) {
        errmsg_set(err, errlen, "%s: header is not a JSON object (not a safetensors file)", p);
        return -1;
    }
    int count = 0;
    for (const cJSON *e = f->root->child; e; e = e->next) {
        if (strcmp(e->string, ST_META) != 0) {
            count++;
            continue;
        }
        if (f->meta || !cJSON_IsObject(e)) {
            errmsg_set(err, errlen, "%s: %s must be one JSON object of strings", p, ST_META);
            return -1;
        }
        for (const cJSON *m = e->child; m; m = m->next)
            if (!cJSON_IsString(m)) {
                errmsg_set(err, errlen, "%s: %s key \"%.40s\" is not a string", p, ST_META, m->string);
                return -1;
            }
        f->meta = (cJSON *)e;
    }
    size_t cnt = (size_t)count;
    f->t = malloc(sizeof *f->t * (cnt ? cnt : 1));
    f->copies = calloc(cnt ? cnt : 1, sizeof *f->copies);
    *ranges = malloc(sizeof **ranges * 2 * (cnt ? cnt : 1));
    Span *spans = malloc(sizeof *spans * (cnt ? cnt : 1));
    if (!f->t || !f->copies || !*ranges || !spans) {
        errmsg_set(err, errlen, "%s: out of memory for %d tensors", p, count);
        free(spans);
        return -1;
    }
    int i = 0;
    for (const cJSON *e = f->root->child; e; e = e->next) {
        if (strcmp(e->string, ST_META) == 0)
            continue;
        if (parse_tensor(f, e, &f->t[i], *ranges + 2 * i, err, errlen) != 0) {
            free(spans);
            return -1;
        }
        spans[i] = (Span){ (*ranges)[2 * i], (*ranges)[2 * i + 1], i };
        f->n = ++i;
    }
    /* Names are unique and non-empty byte ranges do not overlap. */
    int rc = 0;
    qsort(spans, cnt, sizeof *spans, span_cmp);
    int64_t prev_end = 0;
    int prev = -1;
    for (size_t k = 0; k < cnt && rc == 0; k++) {
        if (spans[k].b == spans[k].e)
            continue;
        if (prev >= 0 && spans[k].b < prev_end) {
            errmsg_set(err, errlen, "%s: tensors %s and %s overlap in the data section", p, f->t[prev].name, f->t[spans[k].i].name);
            rc = -1;
        }
        prev_end = spans[k].e;
        prev = spans[k].i;
    }
    free(spans);
    return rc == 0 ? check_unique_names(f, err, errlen) : rc;
}

/* Reads and validates a whole file. */
StFile *st_open(const char *path, char *err, size_t errlen)
{
    if (check_host_order(path, err, errlen) != 0)
        return NULL;
    StFile *f = calloc(1, sizeof *f);
    size_t plen = strlen(path);
    if (!f || !(f->path = malloc(plen + 1))) {
        errmsg_set(err, errlen, "%s: out of memory", path);
        free(f);
        return NULL;
    }
    memcpy(f->path, path, plen + 1);
    size_t size = 0;
    uint64_t hlen = 0;
    if (!(f->buf = read_file(path, &size, &hlen, err, errlen))) {
        st_close(f);
        return NULL;
    }
    size_t off = 8 + (size_t)hlen;
    f->dsize = size - off;
    int64_t *ranges = NULL;
    if (parse_header(f, f->buf + 8, (size_t)hlen, &ranges, err, errlen) != 0) {
        free(ranges);
        st_close(f);
        return NULL;
    }
    /* Data section to the (malloc-aligned) start of the buffer. */
    memmove(f->buf, f->buf + off, f->dsize);
    for (int i = 0; i < f->n; i++) {
        StTensor *t = &f->t[i];
        size_t b = (size_t)ranges[2 * i], len = (size_t)(ranges[2 * i + 1] - ranges[2 * i]);
        /* An empty tensor points at the aligned start of the buffer. */
        t->data = len > 0 ? f->buf + b : f->buf;
        if (b % dtype_sizes[t->dtype] != 0 && len > 0) {
            if (!(f->copies[i] = malloc(len))) {
                errmsg_set(err, errlen, "%s: out of memory", path);
                free(ranges);
                st_close(f);
                return NULL;
            }
            memcpy(f->copies[i], f->buf + b, len);
            t->data = f->copies[i];
        }
    }
    free(ranges);
    return f;
}

/* Finds a tensor by name; NULL if absent. */
const StTensor *st_find(const StFile *f, const char *name)
{
    for (int i = 0; f && i < f->n; i++)
        if (strcmp(f->t[i].name, name) == 0)
            return &f->t[i];
    return NULL;
}

/* Finds a tensor and checks its dtype and shape. */
const StTensor *st_expect(const StFile *f, const char *name, StDtype dtype, int ndim, const int64_t *shape, char *err, size_t errlen)
{
    const StTensor *t = st_find(f, name);
    char have[128], want[128];
    if (!t) {
        errmsg_set(err, errlen, "%s: tensor %s: missing", f ? f->path : "(null)", name);
        return NULL;
    }
    int ok = t->dtype == dtype && t->ndim == ndim;
    for (int i = 0; ok && i < ndim; i++)
        ok = t->shape[i] == shape[i];
    if (!ok) {
        const char *wd = dtype_valid(dtype) ? dtype_names[dtype] : "?";
        errmsg_set(err, errlen, "%s: tensor %s: has dtype %s shape %s, expected dtype %s shape %s", f->path, name, dtype_names[t->dtype], shape_str(have, sizeof have, t->ndim, t->shape), wd,
               shape_str(want, sizeof want, ndim >= 0 && ndim <= ST_MAX_DIM ? ndim : 0, shape));
        return NULL;
    }
    return t;
}

/* Copies a 2-D F32 tensor (R, C) into dst as (C, R). */
void st_copy_transposed(float *dst, const StTensor *t)
{
    assert(t->dtype == ST_F32 && t->ndim == 2);
    size_t R = (size_t)t->shape[0], C = (size_t)t->shape[1];
    const float *src = t->data;
    for (size_t r = 0; r < R; r++)
        for (size_t c = 0; c < C; c++)
            dst[c * R + r] = src[r * C + c];
}

/* Value of a metadata key, or NULL. */
const char *st_meta(const StFile *f, const char *key)
{
    if (!f || !f->meta)
        return NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(f->meta, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Number of tensors in the file. */
int st_count(const StFile *f) { return f ? f->n : 0; }

/* Tensor i in header order, or NULL if out of range. */
const StTensor *st_at(const StFile *f, int i) { return f && i >= 0 && i < f->n ? &f->t[i] : NULL; }
