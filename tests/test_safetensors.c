/* test_safetensors.c - Check suite for nn/safetensors: bit-exact round
 * trips of every dtype, transposed writing, metadata, atomic writes, one case
 * per corruption with its message, and a fuzz pass (every truncation, random
 * byte flips, random garbage) that must load or fail cleanly, never crash. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../nn/safetensors.h"
#include "../core/rng.h"
#include "check_main.h"
#include "testutil.h"

static char dir[64];
static char path[128];

static void setup(void)
{
    /* tmpfs when there is one: the fuzz cases write thousands of files. */
    snprintf(dir, sizeof dir, "%s/test_st_XXXXXX", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp failed: %s", strerror(errno));
    snprintf(path, sizeof path, "%s/x.safetensors", dir);
}

static void teardown(void)
{
    char tmp[160];
    remove(path);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    remove(tmp);
    rmdir(dir);
}

static int exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

static void spit(const char *p, const void *b, size_t n)
{
    FILE *fp = fopen(p, "wb");
    ck_assert_msg(fp != NULL, "cannot create %s", p);
    ck_assert_msg(fwrite(b, 1, n, fp) == n, "write %s", p);
    fclose(fp);
}

/* Writes a file with header length hlen (or strlen(json) if hlen < 0), the
 * JSON text and dlen data bytes. */
static void write_raw(const char *json, long long hlen, size_t dlen)
{
    size_t jl = strlen(json), n = 8 + jl + dlen;
    uint8_t *b = calloc(1, n);
    uint64_t h = hlen < 0 ? (uint64_t)jl : (uint64_t)hlen;
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(h >> (8 * i));
    memcpy(b + 8, json, jl);
    for (size_t i = 0; i < dlen; i++)
        b[8 + jl + i] = (uint8_t)(i * 7 + 1);
    spit(path, b, n);
    free(b);
}

static StTensor mk(const char *name, StDtype d, int ndim, const int64_t *shape, const void *data)
{
    StTensor t;
    memset(&t, 0, sizeof t);
    snprintf(t.name, sizeof t.name, "%s", name);
    t.dtype = d;
    t.ndim = ndim;
    for (int i = 0; i < ndim; i++)
        t.shape[i] = shape[i];
    t.data = data;
    return t;
}

/* Opens path, expecting failure with a message that names the file and
 * contains want. */
static void expect_fail(const char *want)
{
    char err[512] = "";
    StFile *f = st_open(path, err, sizeof err);
    ck_assert_msg(f == NULL, "st_open accepted a file that should fail with \"%s\"", want);
    ck_assert_msg(strncmp(err, path, strlen(path)) == 0, "message does not start with the path: %s", err);
    ck_assert_msg(strstr(err, want) != NULL, "message \"%s\" lacks \"%s\"", err, want);
}

/* ------------------------------------------------------------ round trip */

static const uint32_t f32_bits[] = { 0x7fc00001u, 0xffa00000u, 0x80000000u, 0x00000000u, 0x7f800000u, 0xff800000u, 0x00000001u, 0x3f800000u, 0xc0490fdbu, 0x7fffffffu, 0x007fffffu, 0xbf000000u };

START_TEST(test_roundtrip_bits)
{
    uint8_t u8[7] = { 0, 1, 2, 127, 128, 254, 255 };
    uint32_t u32[6] = { 0, 1, 0xffffffffu, 0x80000000u, 12345, 0xdeadbeefu };
    int64_t i64[4] = { INT64_MIN, -1, 0, INT64_MAX };
    float zero_dummy = 0.0f;
    int64_t s_f[2] = { 3, 4 }, s_u8[1] = { 7 }, s_u32[3] = { 1, 2, 3 }, s_i64[4] = { 1, 2, 1, 2 }, s_empty[2] = { 0, 3 };
    /* U8 of odd size first, so the F32 after it sits at an unaligned offset. */
    StTensor t[6] = {
        mk("bytes", ST_U8, 1, s_u8, u8), mk("floats", ST_F32, 2, s_f, f32_bits), mk("u32", ST_U32, 3, s_u32, u32),
        mk("i64", ST_I64, 4, s_i64, i64), mk("empty", ST_F32, 2, s_empty, NULL), mk("scalar", ST_F32, 0, NULL, &zero_dummy),
    };
    char err[256] = "";
    ck_assert_msg(st_write(path, t, 6, NULL, NULL, 0, err, sizeof err) == 0, "st_write failed: %s", err);
    StFile *f = st_open(path, err, sizeof err);
    ck_assert_msg(f != NULL, "st_open failed: %s", err);
    ck_assert_msg(st_count(f) == 6, "count %d, expected 6", st_count(f));
    const size_t bytes[6] = { 7, 48, 24, 32, 0, 4 };
    for (int i = 0; i < 6; i++) {
        const StTensor *r = st_at(f, i);
        ck_assert_msg(r && strcmp(r->name, t[i].name) == 0, "tensor %d: name %s, expected %s", i, r ? r->name : "(null)", t[i].name);
        ck_assert_msg(r->dtype == t[i].dtype && r->ndim == t[i].ndim, "tensor %s: dtype/ndim differ", r->name);
        for (int k = 0; k < r->ndim; k++)
            ck_assert_msg(r->shape[k] == t[i].shape[k], "tensor %s: shape[%d] = %lld", r->name, k, (long long)r->shape[k]);
        ck_assert_msg(bytes[i] == 0 || memcmp(r->data, t[i].data, bytes[i]) == 0, "tensor %s: bytes differ after the round trip", r->name);
        size_t align = r->dtype == ST_U8 ? 1 : r->dtype == ST_I64 ? 8 : 4;
        ck_assert_msg((uintptr_t)r->data % align == 0, "tensor %s: data not aligned to %zu", r->name, align);
        ck_assert_msg(st_find(f, t[i].name) == r, "st_find(%s) is not st_at(%d)", t[i].name, i);
    }
    const float *fl = st_find(f, "floats")->data;
    ck_assert_msg(isnan(fl[0]) && signbit(fl[2]) && fl[2] == 0.0f, "NaN / -0.0 not preserved");
    ck_assert_msg(st_at(f, 6) == NULL && st_at(f, -1) == NULL, "st_at out of range must be NULL");
    ck_assert_msg(st_find(f, "nope") == NULL, "st_find of a missing name must be NULL");
    ck_assert_msg(st_meta(f, "anything") == NULL, "no metadata written, st_meta must be NULL");
    st_close(f);

    /* File layout: header length multiple of 8, padded with spaces, data
     * contiguous in order. */
    size_t n;
    uint8_t *b = (uint8_t *)test_slurp(path, &n);
    ck_assert_msg(b != NULL, "cannot read %s", path);
    uint64_t h = 0;
    for (int i = 7; i >= 0; i--)
        h = (h << 8) | b[i];
    ck_assert_msg(h % 8 == 0 && b[8] == '{', "header length %llu not a multiple of 8 or not starting with '{'", (unsigned long long)h);
    ck_assert_msg(n == 8 + h + 7 + 48 + 24 + 32 + 4, "file size %zu, expected %llu", n, (unsigned long long)(8 + h + 115));
    ck_assert_msg(memcmp(b + 8 + h, u8, 7) == 0 && memcmp(b + 8 + h + 7, f32_bits, 48) == 0, "data not contiguous in the order given");
    free(b);
    st_close(NULL);
}
END_TEST

START_TEST(test_transposed)
{
    enum { IN = 5, OUT = 3 };
    float w[IN * OUT]; /* memory (in, out) */
    for (int i = 0; i < IN * OUT; i++)
        w[i] = (float)i * 0.5f - 3.0f;
    int64_t shape[2] = { OUT, IN };
    StTensor t = mk("q.0.weight", ST_F32, 2, shape, w);
    t.transpose2d = 1;
    char err[256] = "";
    ck_assert_msg(st_write(path, &t, 1, NULL, NULL, 0, err, sizeof err) == 0, "st_write: %s", err);
    StFile *f = st_open(path, err, sizeof err);
    ck_assert_msg(f != NULL, "st_open: %s", err);
    const StTensor *r = st_expect(f, "q.0.weight", ST_F32, 2, shape, err, sizeof err);
    ck_assert_msg(r != NULL, "st_expect: %s", err);
    const float *d = r->data;
    for (int o = 0; o < OUT; o++)
        for (int i = 0; i < IN; i++)
            ck_assert_msg(d[o * IN + i] == w[i * OUT + o], "file [%d][%d] = %g, expected w[%d][%d] = %g", o, i, d[o * IN + i], i, o, w[i * OUT + o]);
    float back[IN * OUT];
    st_copy_transposed(back, r);
    ck_assert_msg(memcmp(back, w, sizeof w) == 0, "st_copy_transposed does not give back the memory layout");
    st_close(f);
}
END_TEST

START_TEST(test_metadata)
{
    const char *keys[] = { "config", "format", "weird \"key\"" };
    const char *vals[] = { "{\"train\": {\"lr\": 0.001}, \"env\": \"lava\\n\"}", "pt", "λ-equitune\n\ttab" };
    uint8_t one = 1;
    int64_t s[1] = { 1 };
    StTensor t = mk("x", ST_U8, 1, s, &one);
    char err[256] = "";
    ck_assert_msg(st_write(path, &t, 1, keys, vals, 3, err, sizeof err) == 0, "st_write: %s", err);
    StFile *f = st_open(path, err, sizeof err);
    ck_assert_msg(f != NULL, "st_open: %s", err);
    for (int i = 0; i < 3; i++) {
        const char *v = st_meta(f, keys[i]);
        ck_assert_msg(v && strcmp(v, vals[i]) == 0, "metadata %s = %s, expected %s", keys[i], v ? v : "(null)", vals[i]);
    }
    ck_assert_msg(st_meta(f, "missing") == NULL, "missing key must give NULL");
    ck_assert_msg(st_count(f) == 1, "__metadata__ must not count as a tensor (count %d)", st_count(f));
    st_close(f);
}
END_TEST

START_TEST(test_atomic)
{
    float v[2] = { 1.0f, 2.0f };
    int64_t s[1] = { 2 };
    StTensor t = mk("v", ST_F32, 1, s, v);
    char err[256] = "", tmp[200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    ck_assert_msg(st_write(path, &t, 1, NULL, NULL, 0, err, sizeof err) == 0, "st_write: %s", err);
    ck_assert_msg(exists(path) && !exists(tmp), "after success the file must exist and the .tmp must be gone");
    v[1] = 5.0f; /* overwrite an existing file */
    ck_assert_msg(st_write(path, &t, 1, NULL, NULL, 0, err, sizeof err) == 0, "second st_write: %s", err);
    StFile *f = st_open(path, err, sizeof err);
    ck_assert_msg(f && ((const float *)st_find(f, "v")->data)[1] == 5.0f, "overwrite did not take effect");
    st_close(f);

    char bad[160];
    snprintf(bad, sizeof bad, "%s/no/such/dir/x.safetensors", dir);
    err[0] = '\0';
    ck_assert_msg(st_write(bad, &t, 1, NULL, NULL, 0, err, sizeof err) == -1, "write into a missing directory must fail");
    ck_assert_msg(strncmp(err, bad, strlen(bad)) == 0 && strstr(err, strerror(ENOENT)), "message must name the path and the errno text: %s", err);
    snprintf(tmp, sizeof tmp, "%s.tmp", bad);
    ck_assert_msg(!exists(bad) && !exists(tmp), "a failed write must leave no file");

    /* A directory in the way of the rename: the .tmp is removed again. */
    char sub[160];
    snprintf(sub, sizeof sub, "%s/sub", dir);
    ck_assert_msg(mkdir(sub, 0700) == 0, "mkdir");
    char keep[180];
    snprintf(keep, sizeof keep, "%s/keep", sub);
    spit(keep, "k", 1);
    ck_assert_msg(st_write(sub, &t, 1, NULL, NULL, 0, err, sizeof err) == -1, "renaming over a non-empty directory must fail");
    ck_assert_msg(strstr(err, "rename failed") != NULL, "message: %s", err);
    snprintf(tmp, sizeof tmp, "%s.tmp", sub);
    ck_assert_msg(!exists(tmp), "the .tmp must be removed after a failed rename");
    remove(keep);
    rmdir(sub);
}
END_TEST

START_TEST(test_write_invalid)
{
    float v[4] = { 0 };
    int64_t s1[1] = { 4 }, s2[2] = { 2, 2 }, neg[1] = { -1 };
    char err[256];
    StTensor t[2] = { mk("a", ST_F32, 1, s1, v), mk("a", ST_F32, 1, s1, v) };
    ck_assert_msg(st_write(path, t, 2, NULL, NULL, 0, err, sizeof err) == -1 && strstr(err, "duplicate"), "duplicate names: %s", err);
    t[1] = mk("b", ST_F32, 1, s1, v);
    t[1].transpose2d = 1;
    ck_assert_msg(st_write(path, t, 2, NULL, NULL, 0, err, sizeof err) == -1 && strstr(err, "transpose2d"), "transpose2d 1-D: %s", err);
    t[1] = mk("b", ST_F32, 1, neg, v);
    ck_assert_msg(st_write(path, t, 2, NULL, NULL, 0, err, sizeof err) == -1 && strstr(err, "shape"), "negative dim: %s", err);
    t[1] = mk("b", (StDtype)9, 2, s2, v);
    ck_assert_msg(st_write(path, t, 2, NULL, NULL, 0, err, sizeof err) == -1 && strstr(err, "dtype"), "bad dtype: %s", err);
    t[1] = mk("__metadata__", ST_F32, 1, s1, v);
    ck_assert_msg(st_write(path, t, 2, NULL, NULL, 0, err, sizeof err) == -1 && strstr(err, "name"), "reserved name: %s", err);
    t[1] = mk("b", ST_F32, 1, s1, NULL);
    ck_assert_msg(st_write(path, t, 2, NULL, NULL, 0, err, sizeof err) == -1 && strstr(err, "NULL"), "NULL data: %s", err);
    t[1] = mk("b\xc3", ST_F32, 1, s1, v);
    ck_assert_msg(st_write(path, t, 2, NULL, NULL, 0, err, sizeof err) == -1 && strstr(err, "UTF-8"), "invalid UTF-8 name: %s", err);
    const char *k[2] = { "x", "x" }, *val[2] = { "1", "2" };
    ck_assert_msg(st_write(path, t, 1, k, val, 2, err, sizeof err) == -1 && strstr(err, "twice"), "duplicate metadata key: %s", err);
    ck_assert_msg(!exists(path), "invalid writes must not create the file");
    /* Zero tensors is a valid (empty) file. */
    ck_assert_msg(st_write(path, NULL, 0, NULL, NULL, 0, err, sizeof err) == 0, "empty file: %s", err);
    StFile *f = st_open(path, err, sizeof err);
    ck_assert_msg(f && st_count(f) == 0, "empty file must load with 0 tensors: %s", err);
    st_close(f);
}
END_TEST

START_TEST(test_expect)
{
    float v[6] = { 0 };
    int64_t s[2] = { 2, 3 }, wrong[2] = { 3, 2 };
    StTensor t = mk("w", ST_F32, 2, s, v);
    char err[256] = "";
    ck_assert_msg(st_write(path, &t, 1, NULL, NULL, 0, err, sizeof err) == 0, "st_write: %s", err);
    StFile *f = st_open(path, err, sizeof err);
    ck_assert_msg(f != NULL, "st_open: %s", err);
    ck_assert_msg(st_expect(f, "w", ST_F32, 2, s, err, sizeof err) != NULL, "matching st_expect failed: %s", err);
    ck_assert_msg(st_expect(f, "w", ST_F32, 2, wrong, err, sizeof err) == NULL, "wrong shape accepted");
    ck_assert_msg(strstr(err, "tensor w: has dtype F32 shape [2, 3], expected dtype F32 shape [3, 2]"), "message: %s", err);
    ck_assert_msg(st_expect(f, "w", ST_U8, 2, s, err, sizeof err) == NULL && strstr(err, "expected dtype U8"), "wrong dtype: %s", err);
    ck_assert_msg(st_expect(f, "w", ST_F32, 1, s, err, sizeof err) == NULL, "wrong ndim accepted");
    ck_assert_msg(st_expect(f, "q", ST_F32, 2, s, err, sizeof err) == NULL && strstr(err, "tensor q: missing"), "missing: %s", err);
    ck_assert_msg(strncmp(err, path, strlen(path)) == 0, "message must name the file: %s", err);
    st_close(f);
}
END_TEST

/* ------------------------------------------------------------ corruption */

START_TEST(test_corrupt)
{
    char err[256];
    ck_assert_msg(st_open("/nonexistent/x.safetensors", err, sizeof err) == NULL && strstr(err, "cannot open"), "missing file: %s", err);
    ck_assert_msg(st_open(dir, err, sizeof err) == NULL && strstr(err, "not a regular file"), "directory: %s", err);
    spit(path, "abc", 3);
    expect_fail("not a safetensors file (3 bytes");
    write_raw("{}", 1000, 0);
    expect_fail("not a safetensors file (header length 1000 exceeds file size 10)");
    write_raw("{\"a\"", -1, 0);
    expect_fail("header is not valid JSON");
    write_raw("{}  x", -1, 0);
    expect_fail("header is not valid JSON (extra bytes");
    write_raw("[1, 2]  ", -1, 0);
    expect_fail("header is not a JSON object");
    write_raw("{\"\xff\": 1}", -1, 0);
    expect_fail("not valid UTF-8");
    write_raw("{\"w\": 3}", -1, 0);
    expect_fail("tensor w: entry is not a JSON object");
    write_raw("{\"w\": {\"dtype\": \"BF16\", \"shape\": [2], \"data_offsets\": [0, 4]}}", -1, 4);
    expect_fail("tensor w: unknown dtype \"BF16\" (supported: F32, U8, U32, I64)");
    write_raw("{\"w\": {\"shape\": [2], \"data_offsets\": [0, 4]}}", -1, 4);
    expect_fail("tensor w: missing \"dtype\"");
    write_raw("{\"w\": {\"dtype\": \"U8\", \"shape\": 2, \"data_offsets\": [0, 2]}}", -1, 2);
    expect_fail("tensor w: \"shape\" must be an array");
    write_raw("{\"w\": {\"dtype\": \"U8\", \"shape\": [1,1,1,1,2], \"data_offsets\": [0, 2]}}", -1, 2);
    expect_fail("tensor w: \"shape\" must be an array of at most 4");
    write_raw("{\"w\": {\"dtype\": \"U8\", \"shape\": [-2], \"data_offsets\": [0, 2]}}", -1, 2);
    expect_fail("tensor w: shape entry 0 is not a non-negative integer");
    write_raw("{\"w\": {\"dtype\": \"U8\", \"shape\": [1.5], \"data_offsets\": [0, 2]}}", -1, 2);
    expect_fail("shape entry 0 is not a non-negative integer");
    write_raw("{\"w\": {\"dtype\": \"U8\", \"shape\": [2], \"data_offsets\": [0]}}", -1, 2);
    expect_fail("tensor w: \"data_offsets\" must be [begin, end]");
    write_raw("{\"w\": {\"dtype\": \"U8\", \"shape\": [0], \"data_offsets\": [3, 2]}}", -1, 4);
    expect_fail("tensor w: data_offsets [3, 2] has begin > end");
    write_raw("{\"w\": {\"dtype\": \"F32\", \"shape\": [2, 2], \"data_offsets\": [0, 12]}}", -1, 16);
    expect_fail("tensor w: dtype F32 shape [2, 2] does not match data_offsets [0, 12] (12 bytes)");
    write_raw("{\"w\": {\"dtype\": \"F32\", \"shape\": [1073741824, 1073741824, 1073741824, 1073741824], \"data_offsets\": [0, 16]}}", -1, 16);
    expect_fail("does not match data_offsets");
    write_raw("{\"w\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]}}", -1, 8);
    expect_fail("truncated: tensor w needs bytes [0, 16) but the data section has only 8 bytes");
    write_raw("{\"a\": {\"dtype\": \"U8\", \"shape\": [8], \"data_offsets\": [0, 8]}, \"b\": {\"dtype\": \"U8\", \"shape\": [8], \"data_offsets\": [4, 12]}}", -1, 12);
    expect_fail("tensors a and b overlap");
    write_raw("{\"a\": {\"dtype\": \"U8\", \"shape\": [4], \"data_offsets\": [0, 4]}, \"a\": {\"dtype\": \"U8\", \"shape\": [4], \"data_offsets\": [4, 8]}}", -1, 8);
    expect_fail("tensor a appears twice");
    write_raw("{\"__metadata__\": {\"k\": 3}}", -1, 0);
    expect_fail("__metadata__ key \"k\" is not a string");
    write_raw("{\"__metadata__\": [\"k\"]}", -1, 0);
    expect_fail("__metadata__ must be one JSON object of strings");
    char longname[300];
    memset(longname, 'n', 200);
    longname[200] = '\0';
    char json[512];
    snprintf(json, sizeof json, "{\"%s\": {\"dtype\": \"U8\", \"shape\": [0], \"data_offsets\": [0, 0]}}", longname);
    write_raw(json, -1, 0);
    expect_fail("is 200 bytes, at most 95 allowed");

    /* A header length beyond the 100 MB limit (sparse file, never read). */
    write_raw("{}", 100 * 1024 * 1024 + 8, 0);
    ck_assert_msg(truncate(path, 100 * 1024 * 1024 + 64) == 0, "truncate: %s", strerror(errno));
    expect_fail("header length 104857608 exceeds the 104857600-byte limit");

    /* Accepted oddities: zero-size tensors anywhere, whitespace padding. */
    write_raw("{\"e\": {\"dtype\": \"I64\", \"shape\": [0, 5], \"data_offsets\": [3, 3]}, \"a\": {\"dtype\": \"U8\", \"shape\": [4], \"data_offsets\": [0, 4]}}   \n", -1, 4);
    StFile *f = st_open(path, err, sizeof err);
    ck_assert_msg(f && st_count(f) == 2, "valid hand-written file rejected: %s", err);
    st_close(f);
}
END_TEST

/* ------------------------------------------------------------ fuzz */

/* Opens path: it must either load (then every byte of every tensor is read,
 * so ASan sees any bad pointer) or fail with a message naming the file. */
static int open_or_fail(void)
{
    char err[512];
    err[0] = '\0';
    StFile *f = st_open(path, err, sizeof err);
    if (!f) {
        ck_assert_msg(strncmp(err, path, strlen(path)) == 0 && strlen(err) > strlen(path) + 2, "failure without a proper message: \"%s\"", err);
        return 0;
    }
    unsigned sum = 0;
    for (int i = 0; i < st_count(f); i++) {
        const StTensor *t = st_at(f, i);
        size_t n = t->dtype == ST_U8 ? 1 : t->dtype == ST_I64 ? 8 : 4;
        for (int k = 0; k < t->ndim; k++)
            n *= (size_t)t->shape[k];
        for (size_t j = 0; j < n; j++)
            sum += ((const uint8_t *)t->data)[j];
        ck_assert_msg(st_find(f, t->name) != NULL, "loaded tensor %d not found by name", i);
    }
    volatile unsigned sink = sum; /* keeps the reads */
    (void)sink;
    (void)st_meta(f, "config");
    st_close(f);
    return 1;
}

static uint8_t *valid_file(size_t *n)
{
    float w[12];
    uint8_t b[5] = { 1, 2, 3, 4, 5 };
    int64_t l[2] = { -7, 9 };
    for (int i = 0; i < 12; i++)
        w[i] = (float)i - 2.5f;
    int64_t sw[2] = { 3, 4 }, sb[1] = { 5 }, sl[2] = { 2, 1 };
    StTensor t[3] = { mk("q.0.weight", ST_F32, 2, sw, w), mk("b", ST_U8, 1, sb, b), mk("steps", ST_I64, 2, sl, l) };
    t[0].transpose2d = 1;
    const char *k[1] = { "config" }, *v[1] = { "{\"seed\": 1}" };
    char err[256];
    ck_assert_msg(st_write(path, t, 3, k, v, 1, err, sizeof err) == 0, "st_write: %s", err);
    uint8_t *bytes = (uint8_t *)test_slurp(path, n);
    ck_assert_msg(bytes != NULL, "cannot read %s", path);
    return bytes;
}

/* A FIFO or a directory is refused before it is opened for reading (a FIFO
 * would block until some writer appeared). */
START_TEST(test_not_regular)
{
    char fifo[160];
    snprintf(fifo, sizeof fifo, "%s/fifo.safetensors", dir);
    ck_assert_msg(mkfifo(fifo, 0600) == 0, "mkfifo: %s", strerror(errno));
    char err[512] = "";
    ck_assert_msg(st_open(fifo, err, sizeof err) == NULL, "a FIFO was accepted");
    ck_assert_msg(strncmp(err, fifo, strlen(fifo)) == 0 && strstr(err, "is a FIFO") && strstr(err, "allowed: a regular file"), "FIFO message: %s", err);
    unlink(fifo);
    ck_assert_msg(st_open(dir, err, sizeof err) == NULL && strstr(err, "is a directory"), "directory message: %s", err);
}
END_TEST

/* A header of n empty U8 tensors t0..t{n-1}, plus a repeat of t{dup} if dup >= 0. */
static char *many_tensors(int n, int dup)
{
    size_t cap = (size_t)n * 64 + 128, len = 0;
    char *j = malloc(cap);
    ck_assert_msg(j != NULL, "oom");
    j[len++] = '{';
    for (int i = 0; i < n + (dup >= 0); i++)
        len += (size_t)snprintf(j + len, cap - len, "%s\"t%d\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}", i ? "," : "", i < n ? i : dup);
    j[len++] = '}';
    j[len] = '\0';
    return j;
}

/* Duplicate names are found by sorting, not by comparing every pair: 100k
 * tensors load well within the 30 s timeout of this case (the pairwise scan
 * took about 40 s). */
START_TEST(test_many_tensors)
{
    char *j = many_tensors(100000, -1);
    write_raw(j, -1, 0);
    free(j);
    char err[512] = "";
    StFile *f = st_open(path, err, sizeof err);
    ck_assert_msg(f != NULL && st_count(f) == 100000, "100k tensors: %s", err);
    st_close(f);
    j = many_tensors(100000, 4711);
    write_raw(j, -1, 0);
    free(j);
    expect_fail("tensor t4711 appears twice in the header");
}
END_TEST

/* Metadata keys are unique, the header holds no NUL (raw or escaped: cJSON
 * would cut the string there), and a text file is named as such instead of
 * reading its first 8 bytes as a header length. */
START_TEST(test_header_hygiene)
{
    write_raw("{\"__metadata__\": {\"config\": \"a\", \"format\": \"x\", \"config\": \"b\"}}", -1, 0);
    expect_fail("metadata key \"config\" appears twice");
    write_raw("{\"__metadata__\": {\"config\": \"a\\u0000b\"}}", -1, 0);
    expect_fail("NUL");
    write_raw("{\"__metadata__\": {\"config\": \"a\\\\u0000b\"}}", -1, 0);
    char err[512] = "";
    StFile *f = st_open(path, err, sizeof err);
    ck_assert_msg(f != NULL && strcmp(st_meta(f, "config"), "a\\u0000b") == 0, "an escaped backslash before u0000 is no NUL: %s", err);
    st_close(f);
    const char raw[] = "{\"__metadata__\": {\"a\": \"x\"}}";
    uint8_t b[8 + sizeof raw];
    memset(b, 0, sizeof b);
    b[0] = (uint8_t)(sizeof raw - 1);
    memcpy(b + 8, raw, sizeof raw - 1);
    b[8 + 25] = '\0';
    spit(path, b, 8 + sizeof raw - 1);
    expect_fail("NUL byte");
    /* an empty tensor name, which st_write refuses (found by fuzz_safetensors' round trip) */
    write_raw("{\"\": {\"dtype\": \"U8\", \"shape\": [1], \"data_offsets\": [0, 1]}}", -1, 1);
    expect_fail("a tensor has the empty name \"\"; allowed: names of 1..95 bytes");
    const char *ini = "[run]\nseed = 1\nname = goal-none\n";
    spit(path, ini, strlen(ini));
    expect_fail("not a safetensors file: it starts with text \"[run]");
}
END_TEST

START_TEST(test_fuzz_truncate)
{
    size_t n;
    uint8_t *good = valid_file(&n);
    ck_assert_msg(open_or_fail() == 1, "the valid file must load");
    for (size_t len = 0; len < n; len++) {
        spit(path, good, len);
        ck_assert_msg(open_or_fail() == 0, "file truncated to %zu of %zu bytes was accepted", len, n);
    }
    free(good);
}
END_TEST

START_TEST(test_fuzz_flips)
{
    size_t n;
    uint8_t *good = valid_file(&n);
    uint8_t *b = malloc(n);
    Rng rng;
    rng_seed(&rng, 42, 7);
    int loaded = 0;
    for (int it = 0; it < 3000; it++) {
        memcpy(b, good, n);
        int flips = 1 + (int)rng_below(&rng, 4);
        for (int k = 0; k < flips; k++) {
            size_t at = rng_below(&rng, (uint32_t)n);
            if (rng_below(&rng, 2))
                b[at] ^= (uint8_t)(1u << rng_below(&rng, 8));
            else
                b[at] = (uint8_t)rng_u32(&rng);
        }
        spit(path, b, n);
        loaded += open_or_fail();
    }
    /* Flips in the data section keep the file valid: some must load. */
    ck_assert_msg(loaded > 0 && loaded < 3000, "%d of 3000 mutated files loaded; expected some but not all", loaded);
    free(b);
    free(good);
}
END_TEST

START_TEST(test_fuzz_garbage)
{
    static const char *tok[] = { "{", "}", "[", "]", ",", ":", "\"dtype\"", "\"shape\"", "\"data_offsets\"", "\"F32\"", "\"U8\"", "\"I64\"", "\"__metadata__\"", "\"w\"", "0", "4", "-1", "1e300", "2.5", "null", "true", "\"", "\\u0000", " " };
    Rng rng;
    rng_seed(&rng, 9, 1);
    uint8_t b[600];
    for (int it = 0; it < 3000; it++) {
        size_t n;
        if (it % 2 == 0) { /* raw random bytes, sometimes with a plausible length */
            n = rng_below(&rng, 300);
            for (size_t i = 0; i < n; i++)
                b[i] = (uint8_t)rng_u32(&rng);
            if (n >= 8 && rng_below(&rng, 2)) {
                uint64_t h = rng_below(&rng, (uint32_t)(n - 7));
                for (int i = 0; i < 8; i++)
                    b[i] = (uint8_t)(h >> (8 * i));
            }
        } else { /* token soup: JSON-ish headers with data behind them */
            size_t j = 8;
            int ntok = 1 + (int)rng_below(&rng, 40);
            for (int k = 0; k < ntok; k++) {
                const char *s = tok[rng_below(&rng, sizeof tok / sizeof *tok)];
                size_t l = strlen(s);
                memcpy(b + j, s, l);
                j += l;
            }
            uint64_t h = j - 8;
            for (int i = 0; i < 8; i++)
                b[i] = (uint8_t)(h >> (8 * i));
            size_t data = rng_below(&rng, 32);
            for (size_t i = 0; i < data; i++)
                b[j++] = (uint8_t)rng_u32(&rng);
            n = j;
        }
        spit(path, b, n);
        open_or_fail();
    }
}
END_TEST

static Suite *st_suite(void)
{
    Suite *s = suite_create("safetensors");
    TCase *tc = tcase_create("roundtrip");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_roundtrip_bits);
    tcase_add_test(tc, test_transposed);
    tcase_add_test(tc, test_metadata);
    tcase_add_test(tc, test_expect);
    suite_add_tcase(s, tc);
    tc = tcase_create("write");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_atomic);
    tcase_add_test(tc, test_write_invalid);
    suite_add_tcase(s, tc);
    tc = tcase_create("corrupt");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_corrupt);
    tcase_add_test(tc, test_not_regular);
    tcase_add_test(tc, test_header_hygiene);
    suite_add_tcase(s, tc);
    tc = tcase_create("many");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30); /* about 1 s here; the pairwise scan took about 40 s */
    tcase_add_test(tc, test_many_tensors);
    suite_add_tcase(s, tc);
    tc = tcase_create("fuzz");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_fuzz_truncate);
    tcase_add_test(tc, test_fuzz_flips);
    tcase_add_test(tc, test_fuzz_garbage);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(st_suite)
