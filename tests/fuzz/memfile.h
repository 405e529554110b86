/* memfile.h - for libFuzzer harnesses whose entry point takes a path: the
 * input bytes as an anonymous in-memory file (memfd) that the parser opens by
 * name like any regular file. */
#ifndef EQUIGRID_FUZZ_MEMFILE_H
#define EQUIGRID_FUZZ_MEMFILE_H

#include <stddef.h>
#include <stdint.h>

/* Writes data[0..size) to a new memory file and its name ("/proc/self/fd/N")
 * into path. Returns the descriptor (the caller closes it, which frees the
 * file) or -1 if the file could not be made (then the harness skips the input). */
int memfile_open(const uint8_t *data, size_t size, char *path, size_t pathlen);

#endif
