/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The user code drawn large, so it can be read from the sofa: a 4x5 pixel
 * font for the characters Trakt codes use, drawn two pixel rows per line with
 * half blocks (3 lines high), or with '#' on terminals without UTF-8.
 * A zero carries a slash, so it is not taken for the letter O.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "view.h"

#define GLYPH_W 4
#define GLYPH_H 5

static const struct {
    char c;
    const char *rows[GLYPH_H];
} font[] = {
    {'0', {".##.", "#..#", "#.##", "##.#", ".##."}},
    {'1', {".#..", "##..", ".#..", ".#..", "###."}},
    {'2', {"###.", "...#", ".##.", "#...", "####"}},
    {'3', {"###.", "...#", ".##.", "...#", "###."}},
    {'4', {"#..#", "#..#", "####", "...#", "...#"}},
    {'5', {"####", "#...", "###.", "...#", "###."}},
    {'6', {".##.", "#...", "###.", "#..#", ".##."}},
    {'7', {"####", "...#", "..#.", ".#..", ".#.."}},
    {'8', {".##.", "#..#", ".##.", "#..#", ".##."}},
    {'9', {".##.", "#..#", ".###", "...#", ".##."}},
    {'A', {".##.", "#..#", "####", "#..#", "#..#"}},
    {'B', {"###.", "#..#", "###.", "#..#", "###."}},
    {'C', {".###", "#...", "#...", "#...", ".###"}},
    {'D', {"###.", "#..#", "#..#", "#..#", "###."}},
    {'E', {"####", "#...", "###.", "#...", "####"}},
    {'F', {"####", "#...", "###.", "#...", "#..."}},
    {'G', {".###", "#...", "#.##", "#..#", ".###"}},
    {'H', {"#..#", "#..#", "####", "#..#", "#..#"}},
    {'I', {"###.", ".#..", ".#..", ".#..", "###."}},
    {'J', {"..##", "...#", "...#", "#..#", ".##."}},
    {'K', {"#..#", "#.#.", "##..", "#.#.", "#..#"}},
    {'L', {"#...", "#...", "#...", "#...", "####"}},
    {'M', {"#..#", "####", "####", "#..#", "#..#"}},
    {'N', {"#..#", "##.#", "#.##", "#..#", "#..#"}},
    {'O', {".##.", "#..#", "#..#", "#..#", ".##."}},
    {'P', {"###.", "#..#", "###.", "#...", "#..."}},
    {'Q', {".##.", "#..#", "#..#", "#.#.", ".#.#"}},
    {'R', {"###.", "#..#", "###.", "#.#.", "#..#"}},
    {'S', {".###", "#...", ".##.", "...#", "###."}},
    {'T', {"###.", ".#..", ".#..", ".#..", ".#.."}},
    {'U', {"#..#", "#..#", "#..#", "#..#", ".##."}},
    {'V', {"#.#.", "#.#.", "#.#.", "#.#.", ".#.."}},
    {'W', {"#..#", "#..#", "####", "####", "#..#"}},
    {'X', {"#..#", "#..#", ".##.", "#..#", "#..#"}},
    {'Y', {"#.#.", "#.#.", ".#..", ".#..", ".#.."}},
    {'Z', {"####", "..#.", ".#..", "#...", "####"}},
};

static const char *const *glyph(char c)
{
    for (size_t i = 0; i < sizeof font / sizeof font[0]; i++)
        if (font[i].c == toupper((unsigned char)c))
            return font[i].rows;
    return NULL; /* drawn as a blank */
}

static bool lit(const char *const *g, int x, int y)
{
    return g && y < GLYPH_H && g[y][x] == '#';
}

int cli_big_text(const char *text, bool utf8, cli_lines *out)
{
    memset(out, 0, sizeof *out);
    size_t n = strlen(text);
    if (n == 0 || n > 32)
        return -1;
    /* A wider gap in the middle of an 8-character code, like the 4-4 grouping people read. */
    size_t split = n == 8 ? 4 : 0;
    out->width = (int)(n * (GLYPH_W + 1) - 1 + (split ? 1 : 0));
    out->count = utf8 ? (GLYPH_H + 1) / 2 : GLYPH_H;
    out->line = calloc((size_t)out->count, sizeof *out->line);
    if (!out->line)
        return -1;
    for (int row = 0; row < out->count; row++) {
        char *p = out->line[row] = malloc((size_t)out->width * 3 + 1);
        if (!p) {
            cli_lines_free(out);
            return -1;
        }
        for (size_t i = 0; i < n; i++) {
            const char *const *g = glyph(text[i]);
            for (int x = 0; x < GLYPH_W; x++) {
                const char *cell;
                if (utf8) {
                    bool top = lit(g, x, row * 2), bottom = lit(g, x, row * 2 + 1);
                    cell = cli_half_block(top, bottom);
                } else {
                    cell = lit(g, x, row) ? "#" : " ";
                }
                size_t len = strlen(cell);
                memcpy(p, cell, len);
                p += len;
            }
            if (i + 1 < n)
                *p++ = ' ';
            if (split && i + 1 == split)
                *p++ = ' ';
        }
        *p = '\0';
    }
    return 0;
}
