/* file.h - opening files that the program reads (configs, maps, checkpoints,
 * specs) and making the directories it writes to. A path that is not a regular file (a FIFO, a directory, a device,
 * a socket) is refused before anything blocks on it: opening a FIFO for
 * reading would wait forever for a writer. */
#ifndef EQUIGRID_FILE_H
#define EQUIGRID_FILE_H

#include <stddef.h>
#include <stdio.h>

/* Opens path for reading in binary mode. Returns the stream, or NULL with
 * "PATH: cannot open: ERRNO TEXT" or "PATH: is a FIFO (a directory, ...), not
 * a regular file; allowed: a regular file" in err. Never blocks on a FIFO. */
FILE *file_open_read(const char *path, char *err, size_t errlen);

/* Creates directory path and its missing parents (mkdir -p). Returns 0, or
 * -1 with "DIR: cannot create: ERRNO TEXT" or "PATH: is a regular file (...),
 * not a directory" in err. */
int file_mkdir_p(const char *path, char *err, size_t errlen);

/* What the stat mode describes, for messages: "a regular file", "a
 * directory", "a FIFO", "a character device", "a block device", "a socket",
 * "a symbolic link" or "a special file". */
const char *file_kind(unsigned mode);

#endif
