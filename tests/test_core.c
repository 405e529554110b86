/* test_core.c - the shared helpers of core/: did-you-mean distances and
 * their caps, message formatting and truncation, the text buffer, atomic
 * file writes (success, replace, missing directory, failed rename, abort), the
 * progress formats and the monotonic clock. */
#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../core/atomicfile.h"
#include "../core/buf.h"
#include "../core/clock.h"
#include "../core/errmsg.h"
#include "../core/progress.h"
#include "../core/suggest.h"
#include "check_main.h"

static char tmpdir[64];

static void mk_tmp(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/eqg-core-XXXXXX");
    ck_assert_msg(mkdtemp(tmpdir) != NULL, "mkdtemp: %s", strerror(errno));
}

static void rm_tmp(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    ck_assert_msg(system(cmd) == 0, "cannot remove %s", tmpdir);
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    static char text[4096];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

START_TEST(test_suggest_distance)
{
    ck_assert_msg(suggest_distance("kitten", "sitting") == 3, "kitten/sitting: %d", suggest_distance("kitten", "sitting"));
    ck_assert_msg(suggest_distance("", "abc") == 3, "empty/abc");
    ck_assert_msg(suggest_distance("seeds", "seeds") == 0, "equal words");
    ck_assert_msg(suggest_distance("sedes", "seeds") == 1, "a swap of neighbours is one edit: %d", suggest_distance("sedes", "seeds"));
    char a63[64], a64[65];
    memset(a63, 'a', 63);
    a63[63] = '\0';
    memset(a64, 'a', 64);
    a64[64] = '\0';
    ck_assert_msg(suggest_distance(a63, a63) == 0, "63 characters are within the cap");
    ck_assert_msg(suggest_distance(a64, a64) == SUGGEST_FAR, "64 characters are beyond the cap: %d", suggest_distance(a64, a64));
    ck_assert_msg(suggest_distance("a", a64) == SUGGEST_FAR, "either side beyond the cap");
}
END_TEST

START_TEST(test_suggest_nearest)
{
    ck_assert_msg(suggest_closeness("trian", "train") == 1, "swap: %d", suggest_closeness("trian", "train"));
    ck_assert_msg(suggest_closeness("x", "y") == -1, "a one-letter candidate is never 1 edit away");
    ck_assert_msg(suggest_closeness("thresh", "threshold") == 3, "prefix: %d", suggest_closeness("thresh", "threshold"));
    ck_assert_msg(suggest_closeness("zzzzzz", "seeds") == -1, "far words");
    const char *const keys[] = {"name", "seeds", "out", "threshold", "jobs"};
    ck_assert_msg(suggest_nearest("seed", keys, 5) == 1, "seed -> seeds");
    ck_assert_msg(suggest_nearest("job", keys, 5) == 4, "job -> jobs");
    ck_assert_msg(suggest_nearest("qqqqq", keys, 5) == -1, "nothing close");
    const char *const tie[] = {"abd", "abe"};
    ck_assert_msg(suggest_nearest("abc", tie, 2) == 0, "ties go to the lowest index");
    ck_assert_msg(suggest_nearest("abc", tie, 0) == -1, "no candidates");
}
END_TEST

START_TEST(test_errmsg)
{
    char err[64];
    ck_assert_msg(errmsg_set(NULL, 10, "x") == -1, "NULL buffer: -1 and no write");
    ck_assert_msg(errmsg_set(err, 0, "x") == -1, "zero length: -1");
    errmsg_set(err, sizeof err, "%s = %d", "jobs", 3);
    ck_assert_msg(strcmp(err, "jobs = 3") == 0, "plain: '%s'", err);
    errmsg_at(err, sizeof err, "a.ini", 12, "[train] lr = %d: must be > 0", -1);
    ck_assert_msg(strcmp(err, "a.ini:12: [train] lr = -1: must be > 0") == 0, "located: '%s'", err);
    char small[8];
    errmsg_at(small, sizeof small, "long-name.ini", 7, "what");
    ck_assert_msg(strlen(small) == 7 && strncmp(small, "long-na", 7) == 0, "truncated and terminated: '%s'", small);
}
END_TEST

static int vat(char *err, size_t n, long col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = errmsg_vat(err, n, "m.txt", 3, col, fmt, ap);
    va_end(ap);
    return rc;
}

START_TEST(test_errmsg_column)
{
    char err[64];
    ck_assert_msg(vat(err, sizeof err, 5, "bad '%c'", 'x') == -1, "returns -1");
    ck_assert_msg(strcmp(err, "m.txt:3:5: bad 'x'") == 0, "with column: '%s'", err);
    vat(err, sizeof err, 0, "bad");
    ck_assert_msg(strcmp(err, "m.txt:3: bad") == 0, "column 0 is left out: '%s'", err);
}
END_TEST

START_TEST(test_buf)
{
    Buf b = {0};
    char *empty = buf_take(&b);
    ck_assert_msg(empty && empty[0] == '\0', "nothing appended: an empty string");
    free(empty);
    for (int i = 0; i < 1000; i++)
        buf_printf(&b, "%d,", i % 10);
    ck_assert_msg(!b.oom && b.n == 2000 && strlen(b.p) == 2000, "2000 characters past the first 1024: n %zu", b.n);
    buf_append(&b, "xyz", 3);
    ck_assert_msg(b.n == 2003 && strcmp(b.p + 2000, "xyz") == 0, "append after printf");
    char *t = buf_take(&b);
    ck_assert_msg(t && strncmp(t, "0,1,2,", 6) == 0 && b.p == NULL && b.n == 0, "take hands over and resets");
    free(t);
    buf_free(&b);
    buf_free(NULL);
}
END_TEST

START_TEST(test_atomic_write)
{
    mk_tmp();
    char path[128], tmp[200], err[256];
    snprintf(path, sizeof path, "%s/a.txt", tmpdir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    ck_assert_msg(atomicfile_write(path, "one\n", 4, err, sizeof err) == 0, "write: %s", err);
    ck_assert_msg(strcmp(slurp(path), "one\n") == 0 && !exists(tmp), "content written, no temporary left");
    ck_assert_msg(atomicfile_write(path, "two\n", 4, err, sizeof err) == 0, "replace: %s", err);
    ck_assert_msg(strcmp(slurp(path), "two\n") == 0, "replaced");

    AtomicFile *af = atomicfile_open(path, err, sizeof err);
    ck_assert_msg(af != NULL, "open: %s", err);
    fputs("half", atomicfile_stream(af));
    ck_assert_msg(exists(tmp), "the temporary exists while writing");
    atomicfile_abort(af);
    atomicfile_abort(NULL);
    ck_assert_msg(strcmp(slurp(path), "two\n") == 0 && !exists(tmp), "abort keeps the old file and removes the temporary");

    char missing[160];
    snprintf(missing, sizeof missing, "%s/no/such/dir/x.txt", tmpdir);
    ck_assert_msg(atomicfile_write(missing, "x", 1, err, sizeof err) == -1, "a missing directory fails");
    ck_assert_msg(strstr(err, missing) && strstr(err, "cannot create the temporary file") && strstr(err, "No such file"), "message: %s", err);

    /* a directory in the way of the rename: error, the temporary removed */
    char sub[160], subtmp[170];
    snprintf(sub, sizeof sub, "%s/d", tmpdir);
    ck_assert_msg(mkdir(sub, 0777) == 0, "mkdir");
    snprintf(subtmp, sizeof subtmp, "%s/d/f", tmpdir);
    ck_assert_msg(atomicfile_write(subtmp, "f", 1, err, sizeof err) == 0, "file in the way: %s", err);
    ck_assert_msg(atomicfile_write(sub, "x", 1, err, sizeof err) == -1, "rename over a non-empty directory fails");
    ck_assert_msg(strstr(err, "rename failed") != NULL, "message: %s", err);
    snprintf(tmp, sizeof tmp, "%s.tmp", sub);
    ck_assert_msg(!exists(tmp), "no temporary left after a failed rename");
    rm_tmp();
}
END_TEST

START_TEST(test_progress)
{
    char d[32];
    progress_duration(d, sizeof d, 75.4);
    ck_assert_msg(strcmp(d, "01:15") == 0, "75.4 s: %s", d);
    progress_duration(d, sizeof d, 3725);
    ck_assert_msg(strcmp(d, "1:02:05") == 0, "3725 s: %s", d);
    progress_duration(d, sizeof d, -1);
    ck_assert_msg(strcmp(d, "--:--") == 0, "unknown: %s", d);

    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_msg(f != NULL, "open_memstream");
    Progress p = {.done = 3, .total = 8, .unit = "runs", .elapsed = 12, .eta = -1, .detail = "2 running"};
    progress_print(f, PROGRESS_BAR, &p);
    progress_end(f, PROGRESS_BAR);
    p.done = 8;
    p.eta = 0;
    p.detail = NULL;
    progress_print(f, PROGRESS_LINE, &p);
    progress_end(f, PROGRESS_LINE);
    fclose(f);
    const char *want = "\r[###########...................] 3/8 runs  00:12 elapsed  ETA --:--  2 running \n"
                       "progress: 8/8 runs (100 %), 00:12 elapsed, ETA 00:00\n";
    ck_assert_msg(strcmp(text, want) == 0, "got:\n%s\nwant:\n%s", text, want);
    free(text);

    f = open_memstream(&text, &len);
    Progress q = {.done = 5, .total = 0, .elapsed = 0, .eta = -1};
    progress_print(f, PROGRESS_BAR, &q);
    fclose(f);
    ck_assert_msg(strstr(text, "[..............................] 5/0  00:00") != NULL, "no total, no unit: '%s'", text);
    free(text);
}
END_TEST

START_TEST(test_clock)
{
    double t0 = clock_seconds();
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    double dt = clock_seconds() - t0;
    ck_assert_msg(dt >= 0.019 && dt < 5.0, "20 ms sleep measured as %.4f s", dt);
    ck_assert_msg(clock_seconds() >= t0, "monotonic");
}
END_TEST

static Suite *core_suite(void)
{
    Suite *s = suite_create("core");
    const struct {
        const char *name;
        const TTest *test;
    } cases[] = {
        {"suggest_distance", test_suggest_distance},
        {"suggest_nearest", test_suggest_nearest},
        {"errmsg", test_errmsg},
        {"errmsg_column", test_errmsg_column},
        {"buf", test_buf},
        {"atomic_write", test_atomic_write},
        {"progress", test_progress},
        {"clock", test_clock},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        TCase *tc = tcase_create(cases[i].name);
        tcase_add_test(tc, cases[i].test);
        suite_add_tcase(s, tc);
    }
    return s;
}

CHECK_MAIN(core_suite)
