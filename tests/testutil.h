/* testutil.h - what several suites need around the code they test: the
 * equigrid program (for suites that run it), a private temporary directory,
 * a shell command with its output, and a whole file in memory. Each suite is
 * its own program, so these are static inline: a suite that does not use one
 * pays nothing for it. */
#ifndef EQUIGRID_TESTS_TESTUTIL_H
#define EQUIGRID_TESTS_TESTUTIL_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

/* The program under test: $EQUIGRID_BIN (make test sets it), else ./equigrid. */
static inline const char *test_bin(void)
{
    const char *b = getenv("EQUIGRID_BIN");
    return b && *b ? b : "./equigrid";
}

/* A new directory of this test's own, /tmp/eqg-TAG-XXXXXX; the malloc'd
 * path. Fails the test when it cannot be made. */
static inline char *test_tmpdir(const char *tag)
{
    size_t n = strlen(tag) + 32;
    char *d = malloc(n);
    ck_assert_msg(d != NULL, "out of memory");
    snprintf(d, n, "/tmp/eqg-%s-XXXXXX", tag);
    ck_assert_msg(mkdtemp(d) != NULL, "mkdtemp(%s) failed", d);
    return d;
}

/* Runs cmd through sh with stderr joined to stdout; the output (cut to
 * outlen - 1 bytes) goes to out. Returns the exit status, -1 if killed. */
static inline int test_sh(const char *cmd, char *out, size_t outlen)
{
    size_t n = strlen(cmd) + 8;
    char *full = malloc(n);
    ck_assert_msg(full != NULL, "out of memory");
    snprintf(full, n, "%s 2>&1", cmd);
    FILE *p = popen(full, "r");
    free(full);
    ck_assert_msg(p != NULL, "popen %s", cmd);
    size_t got = fread(out, 1, outlen - 1, p);
    out[got] = '\0';
    while (fgetc(p) != EOF) /* the rest, so that the command never blocks on a full pipe */
        ;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The whole file at path, malloc'd and NUL-terminated, its length in *len
 * (when len is not NULL; 0 on failure); NULL when it cannot be opened or
 * read. */
static inline char *test_slurp(const char *path, size_t *len)
{
    if (len)
        *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        if (len)
            *len = (size_t)n;
    }
    return buf;
}

#endif
