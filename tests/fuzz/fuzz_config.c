/* fuzz_config.c - libFuzzer harness for the config loader. The input is read
 * three ways: as a file (config_load, through a memory file), as a string
 * (config_from_string, the checkpoint-metadata path) and its first lines
 * as `--set` overrides (config_set). Checked: the file and string readers agree
 * on every input without a NUL byte (same status, message and Config); a
 * failed load leaves the Config untouched; every message names the input; a
 * loaded config that validates survives config_to_string -> config_from_string
 * unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../configs/config.h"
#include "memfile.h"

enum { ERR = 2048 };

/* Round trip of a config through its INI text. */
static void check_round_trip(const Config *c)
{
    char err[ERR];
    if (config_validate(c, err, sizeof err) != 0)
        return;
    char *s = config_to_string(c);
    if (!s)
        return;
    Config back;
    config_default(&back);
    if (config_from_string(&back, s, "roundtrip", err, sizeof err) != 0)
        abort(); /* a valid config's own text must load */
    char *s2 = config_to_string(&back);
    if (s2 && strcmp(s, s2) != 0)
        abort(); /* and give the same config */
    free(s2);
    free(s);
}

/* Applies the first lines of text as --set assignments to a default config. */
static void check_sets(const char *text)
{
    Config c, before;
    config_default(&c);
    const char *p = text;
    for (int lines = 0; *p && lines < 16; lines++) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char line[600];
        if (len < sizeof line) {
            memcpy(line, p, len);
            line[len] = '\0';
            char err[ERR] = "";
            memcpy(&before, &c, sizeof c);
            if (config_set(&c, line, err, sizeof err) != 0 && (memcmp(&before, &c, sizeof c) != 0 || strncmp(err, "--set ", 6) != 0))
                abort(); /* a failed override changes nothing and says so */
        }
        p += len + (nl != NULL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    int fd = memfile_open(data, size, path, sizeof path);
    if (fd < 0)
        return 0;
    char *text = malloc(size + 1);
    if (!text) {
        close(fd);
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';

    Config from_file, from_str, untouched;
    config_default(&from_file);
    config_default(&untouched);
    char err_file[ERR] = "", err_str[ERR] = "";
    int rc_file = config_load(&from_file, path, err_file, sizeof err_file);
    close(fd);
    if (rc_file != 0 && (memcmp(&from_file, &untouched, sizeof untouched) != 0 || strncmp(err_file, path, strlen(path)) != 0))
        abort();

    config_default(&from_str);
    int rc_str = config_from_string(&from_str, text, path, err_str, sizeof err_str);
    if (rc_str != 0 && memcmp(&from_str, &untouched, sizeof untouched) != 0)
        abort();
    if (!memchr(data, '\0', size) && (rc_file != rc_str || strcmp(err_file, err_str) != 0 || memcmp(&from_file, &from_str, sizeof from_str) != 0))
        abort(); /* file and string readers disagree */

    if (rc_str == 0)
        check_round_trip(&from_str);
    check_sets(text);
    free(text);
    return 0;
}
