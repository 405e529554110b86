/* atomicfile.c - write-to-temporary-and-rename (see atomicfile.h). */
#include "atomicfile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errmsg.h"

struct AtomicFile {
    FILE *f;
    char *path; /* PATH */
    char *tmp;  /* PATH.tmp */
};

static void atomicfile_release(AtomicFile *af)
{
    free(af->path);
    free(af->tmp);
    free(af);
}

AtomicFile *atomicfile_open(const char *path, char *err, size_t errlen)
{
    size_t n = strlen(path);
    AtomicFile *af = calloc(1, sizeof *af);
    if (af) {
        af->path = malloc(n + 1);
        af->tmp = malloc(n + 5);
    }
    if (!af || !af->path || !af->tmp) {
        if (af)
            atomicfile_release(af);
        errmsg_set(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    memcpy(af->path, path, n + 1);
    memcpy(af->tmp, path, n);
    memcpy(af->tmp + n, ".tmp", 5);
    af->f = fopen(af->tmp, "wb");
    if (!af->f) {
        errmsg_set(err, errlen, "%s: cannot create the temporary file (path.tmp): %s", path, strerror(errno));
        atomicfile_release(af);
        return NULL;
    }
    return af;
}

FILE *atomicfile_stream(AtomicFile *af)
{
    return af->f;
}

int atomicfile_commit(AtomicFile *af, char *err, size_t errlen)
{
    const char *what = NULL;
    if (ferror(af->f))
        what = "write failed";
    else if (fflush(af->f) != 0)
        what = "flush failed";
    else if (fsync(fileno(af->f)) != 0)
        what = "fsync failed";
    int e = errno;
    if (fclose(af->f) != 0 && !what) {
        what = "close failed";
        e = errno;
    }
    if (!what && rename(af->tmp, af->path) != 0) {
        what = "rename failed";
        e = errno;
    }
    if (what) {
        errmsg_set(err, errlen, "%s: %s: %s", af->path, what, strerror(e));
        remove(af->tmp);
    }
    atomicfile_release(af);
    return what ? -1 : 0;
}

void atomicfile_abort(AtomicFile *af)
{
    if (!af)
        return;
    fclose(af->f);
    remove(af->tmp);
    atomicfile_release(af);
}

int atomicfile_write(const char *path, const void *data, size_t n, char *err, size_t errlen)
{
    AtomicFile *af = atomicfile_open(path, err, errlen);
    if (!af)
        return -1;
    fwrite(data, 1, n, af->f);
    return atomicfile_commit(af, err, errlen);
}
