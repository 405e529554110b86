/* atomicfile.h - writing a file so that readers see either the old file or
 * the complete new one, never a part: the data goes to "PATH.tmp", which is
 * flushed, fsync'ed, closed and renamed over PATH. A failure at any step
 * removes PATH.tmp and leaves PATH as it was.
 *
 * Messages read "PATH: what: reason", what being one of "cannot create the
 * temporary file (path.tmp)", "write failed", "flush failed", "fsync failed",
 * "close failed", "rename failed", and the reason strerror's text. */
#ifndef EQUIGRID_CORE_ATOMICFILE_H
#define EQUIGRID_CORE_ATOMICFILE_H

#include <stddef.h>
#include <stdio.h>

typedef struct AtomicFile AtomicFile;

/* Creates PATH.tmp for writing (binary). Returns NULL with a message when it
 * cannot be created (e.g. the directory does not exist) or out of memory. */
AtomicFile *atomicfile_open(const char *path, char *err, size_t errlen);

/* The stream to write the contents to; owned by af. */
FILE *atomicfile_stream(AtomicFile *af);

/* Flushes, fsyncs and closes PATH.tmp and renames it over PATH; frees af
 * either way. Returns 0, or -1 with a message (PATH.tmp removed, PATH
 * untouched) when a write since open, the flush, fsync, close or rename
 * failed. */
int atomicfile_commit(AtomicFile *af, char *err, size_t errlen);

/* Closes and removes PATH.tmp, leaving PATH untouched; frees af. NULL is a
 * no-op. */
void atomicfile_abort(AtomicFile *af);

/* Writes n bytes of data as the whole of path, atomically as above.
 * Returns 0 or -1 with a message. */
int atomicfile_write(const char *path, const void *data, size_t n, char *err, size_t errlen);

#endif
