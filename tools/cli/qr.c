/* SPDX-License-Identifier: Apache-2.0 */
/*
 * QR codes for the terminal, from libqrencode. Two modules share one
 * character cell: the upper half block takes the top module's colour as
 * foreground and the bottom one's as background.
 */
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "view.h"

#define QUIET_ZONE 2
#define DARK(code, x, y)                                                                           \
    ((x) >= 0 && (y) >= 0 && (x) < (code)->width && (y) < (code)->width &&                         \
     ((code)->data[(y) * (code)->width + (x)] & 1))

void cli_qr_target(const cli_options *o, const tda_code *code, char *out, size_t size)
{
    if (o->qr_prefill)
        snprintf(out, size, "%s/%s", code->verification_url, code->user_code);
    else
        snprintf(out, size, "%s", code->verification_url);
}

void cli_lines_free(cli_lines *l)
{
    for (int i = 0; l->line && i < l->count; i++)
        free(l->line[i]);
    free(l->line);
    memset(l, 0, sizeof *l);
}

int cli_qr_render(const char *text, cli_lines *out)
{
    memset(out, 0, sizeof *out);
    /* Level L keeps the code small enough for 80x24; a screen is not a scratched label. */
    QRcode *code = QRcode_encodeString(text, 0, QR_ECLEVEL_L, QR_MODE_8, 1);
    if (!code)
        return -1;
    int size = code->width + 2 * QUIET_ZONE;
    out->count = (size + 1) / 2;
    out->width = size;
    out->line = calloc((size_t)out->count, sizeof *out->line);
    /* Per cell at most 3 bytes of glyph; plus the colour codes around each line. */
    size_t line_bytes = (size_t)size * 3 + 32;
    for (int row = 0; out->line && row < out->count; row++) {
        char *p = out->line[row] = malloc(line_bytes);
        if (!p)
            break;
        /* Black foreground on bright white background, set explicitly for each line. */
        p += sprintf(p, "\033[30;107m");
        for (int col = 0; col < size; col++) {
            int x = col - QUIET_ZONE, y = row * 2 - QUIET_ZONE;
            bool top = DARK(code, x, y), bottom = DARK(code, x, y + 1);
            const char *cell = cli_half_block(top, bottom);
            size_t n = strlen(cell);
            /* No NUL per cell: the line's end gets it, after the loop. */
            memcpy(p, cell, n); /* NOLINT(bugprone-not-null-terminated-result) */
            p += n;
        }
        memcpy(p, "\033[0m", sizeof "\033[0m"); /* with the NUL that ends the line */
    }
    QRcode_free(code);
    for (int row = 0; row < out->count; row++) {
        if (!out->line || !out->line[row]) {
            cli_lines_free(out);
            return -1;
        }
    }
    return 0;
}
