/* test_file.c - Check suite for core/file: regular files open for reading;
 * a FIFO, a directory and a device are refused at once (never blocking),
 * with a message naming the path and what it is; file_mkdir_p makes
 * missing parents, accepts an existing directory and names a file in the
 * way. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/file.h"
#include "check_main.h"

static char dir[64];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/test_file_XXXXXX");
    ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp failed: %s", strerror(errno));
}

static void teardown(void)
{
    char p[128];
    snprintf(p, sizeof p, "%s/regular", dir);
    remove(p);
    snprintf(p, sizeof p, "%s/fifo", dir);
    remove(p);
    const char *made[] = {"a/b/c", "a/b/file", "a/b", "a"};
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, made[i]);
        remove(p);
    }
    rmdir(dir);
}

START_TEST(test_regular)
{
    char p[128], err[256] = "", buf[8] = "";
    snprintf(p, sizeof p, "%s/regular", dir);
    FILE *w = fopen(p, "wb");
    ck_assert_msg(w && fputs("abc", w) >= 0 && fclose(w) == 0, "cannot write %s", p);
    FILE *f = file_open_read(p, err, sizeof err);
    ck_assert_msg(f != NULL, "regular file refused: %s", err);
    ck_assert_msg(fread(buf, 1, sizeof buf, f) == 3 && memcmp(buf, "abc", 3) == 0, "read back '%s'", buf);
    fclose(f);
}
END_TEST

START_TEST(test_missing)
{
    char p[128], err[256] = "";
    snprintf(p, sizeof p, "%s/none", dir);
    ck_assert_msg(file_open_read(p, err, sizeof err) == NULL, "missing file opened");
    char want[256];
    snprintf(want, sizeof want, "%s: cannot open: No such file or directory", p);
    ck_assert_msg(strcmp(err, want) == 0, "message: %s", err);
}
END_TEST

START_TEST(test_not_regular)
{
    char p[128], err[256] = "", want[256];
    snprintf(p, sizeof p, "%s/fifo", dir);
    ck_assert_msg(mkfifo(p, 0600) == 0, "mkfifo: %s", strerror(errno));
    ck_assert_msg(file_open_read(p, err, sizeof err) == NULL, "FIFO opened");
    snprintf(want, sizeof want, "%s: is a FIFO, not a regular file; allowed: a regular file", p);
    ck_assert_msg(strcmp(err, want) == 0, "FIFO message: %s", err);
    ck_assert_msg(file_open_read(dir, err, sizeof err) == NULL && strstr(err, ": is a directory, not a regular file"), "directory: %s", err);
    ck_assert_msg(file_open_read("/dev/null", err, sizeof err) == NULL && strcmp(err, "/dev/null: is a character device, not a regular file; allowed: a regular file") == 0, "device: %s", err);
}
END_TEST

START_TEST(test_mkdir_p)
{
    char p[128], err[256] = "", want[256];
    struct stat st;
    snprintf(p, sizeof p, "%s/a//b/c/", dir);
    ck_assert_msg(file_mkdir_p(p, err, sizeof err) == 0, "mkdir -p %s: %s", p, err);
    snprintf(p, sizeof p, "%s/a/b/c", dir);
    ck_assert_msg(stat(p, &st) == 0 && S_ISDIR(st.st_mode), "%s is a directory", p);
    ck_assert_msg(file_mkdir_p(p, err, sizeof err) == 0, "an existing directory is fine: %s", err);
    snprintf(p, sizeof p, "%s/a/b/file", dir);
    FILE *w = fopen(p, "wb");
    ck_assert_msg(w && fclose(w) == 0, "cannot write %s", p);
    snprintf(want, sizeof want, "%s: is a regular file, not a directory", p);
    ck_assert_msg(file_mkdir_p(p, err, sizeof err) == -1 && strcmp(err, want) == 0, "a file in the way: %s", err);
    char q[160];
    snprintf(q, sizeof q, "%s/d", p);
    ck_assert_msg(file_mkdir_p(q, err, sizeof err) == -1 && strcmp(err, want) == 0, "a parent that is a file is named: %s", err);
}
END_TEST

START_TEST(test_kind)
{
    struct stat st;
    ck_assert_msg(stat(dir, &st) == 0 && strcmp(file_kind((unsigned)st.st_mode), "a directory") == 0, "directory");
    ck_assert_msg(stat("/dev/null", &st) == 0 && strcmp(file_kind((unsigned)st.st_mode), "a character device") == 0, "device");
    ck_assert_msg(stat("Makefile", &st) == 0 && strcmp(file_kind((unsigned)st.st_mode), "a regular file") == 0, "regular (run from the repository root)");
}
END_TEST

static Suite *file_suite(void)
{
    Suite *s = suite_create("file");
    TCase *tc = tcase_create("open");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_regular);
    tcase_add_test(tc, test_missing);
    tcase_add_test(tc, test_not_regular);
    tcase_add_test(tc, test_kind);
    tcase_add_test(tc, test_mkdir_p);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(file_suite)
