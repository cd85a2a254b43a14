/* fuzz_devflow.c - libFuzzer target: the device-flow answer parsers
 * (aad_devflow_parse_code for the device-code answer, then a sequence of
 * token-endpoint answers through aad_poller_take_answer, each also judged
 * as the answer of a refresh-token grant, aad_refresh_take_answer).
 * Input: byte 0 = HTTP status selector, byte 1 = flags (bit 0: JSON content
 * type, bits 1-7: Retry-After), then the body; several answers are
 * separated by "\n--\n". The first answer goes to the device-code parser. */
#define _GNU_SOURCE 1
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aad_devflow.h"
#include "aad_refresh.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const long statuses[] = {200, 400, 401, 403, 404, 429, 500, 502, 503, 302};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct aad_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.timeout = 300;
    struct aad_device_code dc = {0};
    struct aad_error err;
    const char *p = (const char *)data, *end = p + size;
    int first = 1;
    struct aad_poller poller;
    memset(&poller, 0, sizeof(poller));
    while (p + 2 <= end) {
        long status = statuses[(unsigned char)p[0] % (sizeof(statuses) / sizeof(statuses[0]))];
        int is_json = p[1] & 1;
        long retry_after = ((unsigned char)p[1] >> 1) - 1;
        p += 2;
        const char *sep = memmem(p, (size_t)(end - p), "\n--\n", 4);
        size_t len = sep ? (size_t)(sep - p) : (size_t)(end - p);
        /* The HTTP client always hands over a NUL-terminated body. */
        char *body = malloc(len + 1);
        if (body == NULL)
            break;
        memcpy(body, p, len);
        body[len] = '\0';
        if (first) {
            first = 0;
            if (aad_devflow_parse_code(status, is_json, body, len, &dc, &err) == AAD_OK)
                aad_poller_init(&poller, &cfg, NULL, &dc, NULL, 0);
            else
                aad_poller_init(&poller, &cfg, NULL, &(struct aad_device_code){.interval = 5,
                                                                               .expires_in = 900},
                                NULL, 0);
        } else {
            struct aad_tokens tokens = {0};
            long wait_s = poller.interval_s;
            (void)aad_poller_take_answer(&poller, status, is_json, body, len, retry_after, &tokens,
                                         &wait_s, &err);
            aad_tokens_clear(&tokens);
            struct aad_refreshed refreshed;
            (void)aad_refresh_take_answer(status, is_json, body, len, &refreshed, &err);
            aad_refreshed_clear(&refreshed);
        }
        free(body);
        p = sep ? sep + 4 : end;
    }
    aad_device_code_clear(&dc);
    return 0;
}
