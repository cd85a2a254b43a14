/* aad_qr.c - the verification URL as a QR code (libqrencode).
 * Where it runs: in pam_aad_helper and aad-login, never in the caller of
 * PAM; it may use HTTPS, TLS, JSON and the cache directory. */
#include "config.h"

#include "aad_qr.h"

#include <stdlib.h>
#include <string.h>

#ifdef HAVE_QRENCODE
#include <qrencode.h>

#define QUIET_ZONE 1

int aad_qr_available(void)
{
    return 1;
}

char *aad_qr_render(const char *text)
{
    QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_L, QR_MODE_8, 1);
    if (qr == NULL)
        return NULL;
    int size = qr->width + 2 * QUIET_ZONE;
    if (size > AAD_QR_MAX_COLUMNS) {
        QRcode_free(qr);
        return NULL;
    }
    int rows = (size + 1) / 2;
    /* Each cell is at most 3 bytes of UTF-8, plus a newline per row. */
    char *out = malloc((size_t)rows * ((size_t)size * 3 + 1) + 1);
    if (out == NULL) {
        QRcode_free(qr);
        return NULL;
    }
    char *p = out;
    for (int y = 0; y < size; y += 2) {
        for (int x = 0; x < size; x++) {
            int mx = x - QUIET_ZONE, top_y = y - QUIET_ZONE, bottom_y = y + 1 - QUIET_ZONE;
            int inside_x = mx >= 0 && mx < qr->width;
            int top = inside_x && top_y >= 0 && top_y < qr->width &&
                      (qr->data[top_y * qr->width + mx] & 1);
            int bottom = inside_x && bottom_y >= 0 && bottom_y < qr->width &&
                         (qr->data[bottom_y * qr->width + mx] & 1);
            /* Dark modules stay background; light ones are drawn. */
            const char *cell = !top && !bottom ? "\xe2\x96\x88"   /* full block */
                               : !top          ? "\xe2\x96\x80"   /* upper half */
                               : !bottom       ? "\xe2\x96\x84"   /* lower half */
                                               : " ";
            size_t n = strlen(cell);
            memcpy(p, cell, n);
            p += n;
        }
        *p++ = '\n';
    }
    *p = '\0';
    QRcode_free(qr);
    return out;
}

#else

int aad_qr_available(void)
{
    return 0;
}

char *aad_qr_render(const char *text)
{
    (void)text;
    return NULL;
}

#endif
