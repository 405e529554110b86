/* memfile.c - anonymous in-memory files for the fuzz harnesses (memfile.h). */
#define _GNU_SOURCE
#include "memfile.h"

#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int memfile_open(const uint8_t *data, size_t size, char *path, size_t pathlen)
{
    int fd = memfd_create("fuzz-input", MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t done = 0;
    while (done < size) {
        ssize_t w = write(fd, data + done, size - done);
        if (w <= 0) {
            close(fd);
            return -1;
        }
        done += (size_t)w;
    }
    snprintf(path, pathlen, "/proc/self/fd/%d", fd);
    return fd;
}
