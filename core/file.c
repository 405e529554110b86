/* file.c - opening files for reading without blocking on FIFOs, and
 * mkdir -p (file.h). */
#include "file.h"
#include "errmsg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *file_kind(unsigned mode)
{
    mode_t m = (mode_t)mode;
    return S_ISREG(m) ? "a regular file" : S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" : S_ISCHR(m) ? "a character device"
         : S_ISBLK(m) ? "a block device" : S_ISSOCK(m) ? "a socket" : S_ISLNK(m) ? "a symbolic link" : "a special file";
}

FILE *file_open_read(const char *path, char *err, size_t errlen)
{
    /* O_NONBLOCK makes open() of a FIFO return at once; fstat on the open
     * descriptor then decides, so nothing can swap the file in between. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        snprintf(err, errlen, "%s: cannot stat: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: is %s, not a regular file; allowed: a regular file", path, file_kind((unsigned)st.st_mode));
        close(fd);
        return NULL;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        close(fd);
    }
    return f;
}

/* mkdir that accepts an existing directory. */
static int make_dir(const char *dir, char *err, size_t errlen)
{
    struct stat st;
    if (mkdir(dir, 0777) == 0)
        return 0;
    if (errno != EEXIST || stat(dir, &st) != 0) {
        errmsg_set(err, errlen, "%s: cannot create: %s", dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        errmsg_set(err, errlen, "%s: is %s, not a directory", dir, file_kind(st.st_mode));
        return -1;
    }
    return 0;
}

int file_mkdir_p(const char *path, char *err, size_t errlen)
{
    size_t n = strlen(path);
    char *tmp = malloc(n + 1);
    if (!tmp) {
        errmsg_set(err, errlen, "%s: cannot create: out of memory", path);
        return -1;
    }
    memcpy(tmp, path, n + 1);
    int rc = 0;
    for (char *p = tmp + 1; *p && rc == 0; p++)
        if (*p == '/' && p[-1] != '/') {
            *p = '\0';
            rc = make_dir(tmp, err, errlen);
            *p = '/';
        }
    if (rc == 0)
        rc = make_dir(tmp, err, errlen);
    free(tmp);
    return rc;
}
