/* qr_to_pbm URL [BACKGROUND]: draws pam_aad's terminal QR code of URL as a
 * PBM image, the way a dark terminal shows it (the block characters are the
 * light modules), with BACKGROUND modules of dark terminal around it; for
 * test_qr_scans.sh, which decodes the image with zbarimg. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aad_qr.h"

#define MAX_MODULES 200
#define PIXELS_PER_MODULE 6

static int light[MAX_MODULES][MAX_MODULES];

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    if (!aad_qr_available())
        return 77;
    int background = argc > 2 ? atoi(argv[2]) : 4;
    char *text = aad_qr_render(argv[1]);
    if (text == NULL)
        return 1;
    /* Each character is two module rows: full block, upper half, lower half, space. */
    int row = 0, col = 0, cols = 0;
    for (const char *p = text; *p != '\0' && row * 2 + 1 < MAX_MODULES;) {
        int top = 0, bottom = 0;
        if (*p == '\n') {
            cols = col > cols ? col : cols;
            row++;
            col = 0;
            p++;
            continue;
        }
        if (strncmp(p, "\xe2\x96\x88", 3) == 0)
            top = bottom = 1, p += 3;
        else if (strncmp(p, "\xe2\x96\x80", 3) == 0)
            top = 1, p += 3;
        else if (strncmp(p, "\xe2\x96\x84", 3) == 0)
            bottom = 1, p += 3;
        else
            p++;
        if (col < MAX_MODULES) {
            light[row * 2][col] = top;
            light[row * 2 + 1][col] = bottom;
        }
        col++;
    }
    free(text);
    int rows = row * 2;
    int width = (cols + 2 * background) * PIXELS_PER_MODULE;
    int height = (rows + 2 * background) * PIXELS_PER_MODULE;
    printf("P1\n%d %d\n", width, height);
    for (int y = 0; y < height; y++) {
        for (int x = 0; x < width; x++) {
            int my = y / PIXELS_PER_MODULE - background, mx = x / PIXELS_PER_MODULE - background;
            int is_light = my >= 0 && my < rows && mx >= 0 && mx < cols && light[my][mx];
            putchar(is_light ? '0' : '1'); /* PBM: 1 is black */
        }
        putchar('\n');
    }
    return 0;
}
