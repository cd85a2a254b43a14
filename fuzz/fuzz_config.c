/* fuzz_config.c - libFuzzer target: aad_config_load on a configuration file
 * with the fuzzer's bytes (written to a private temp file, mode 0600), plus
 * module arguments: everything after a first "\n\n--args--\n" line is split
 * on newlines into argv. */
#define _GNU_SOURCE 1
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aad_config.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

static void ignore_line(void *ctx, const char *text)
{
    (void)ctx;
    (void)text;
}
static int fd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    snprintf(path, sizeof(path), "/tmp/fuzz_config.XXXXXX");
    fd = mkstemp(path);
    return fd >= 0 ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char marker[] = "\n\n--args--\n";
    const char *sep = memmem(data, size, marker, sizeof(marker) - 1);
    size_t file_len = sep ? (size_t)(sep - (const char *)data) : size;
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, file_len, 0) != (ssize_t)file_len)
        return 0;
    const char *argv[17];
    char arg0[96];
    snprintf(arg0, sizeof(arg0), "config=%s", path);
    int argc = 0;
    argv[argc++] = arg0;
    char *args = NULL;
    if (sep != NULL) {
        size_t alen = size - file_len - (sizeof(marker) - 1);
        args = malloc(alen + 1);
        if (args == NULL)
            return 0;
        memcpy(args, sep + sizeof(marker) - 1, alen);
        args[alen] = '\0';
        for (char *a = args; a != NULL && argc < 16;) {
            char *nl = strchr(a, '\n');
            if (nl != NULL)
                *nl++ = '\0';
            argv[argc++] = a;
            a = nl;
        }
    }
    struct aad_config *cfg = NULL;
    struct aad_error err;
    if (aad_config_load("/nonexistent/pam_aad.conf", argc, argv, &cfg, &err) == AAD_OK) {
        aad_config_describe(cfg, ignore_line, NULL);
        aad_config_free(cfg);
    }
    free(args);
    return 0;
}
