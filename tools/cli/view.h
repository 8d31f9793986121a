/* SPDX-License-Identifier: Apache-2.0 */
/* login's displays (login_view.c, terminal_view.c) and their drawing helpers. */
#ifndef TDA_CLI_VIEW_H
#define TDA_CLI_VIEW_H

#include <stdbool.h>

#include "cli.h"

/* Lines of text for the terminal and how many columns the widest takes. */
typedef struct cli_lines {
    char **line;
    int count;
    int width;
} cli_lines;

void cli_lines_free(cli_lines *l);

/* The character cell for two stacked pixels: full, upper or lower half block, or blank. */
static inline const char *cli_half_block(bool top, bool bottom)
{
    return top && bottom ? "\u2588" : top ? "\u2580" : bottom ? "\u2584" : " ";
}

/*
 * qr.c: text as a QR code, two modules per character cell with the UTF-8
 * half blocks, drawn black on white with explicit colours so it scans on dark
 * and light terminals alike, with a two-module quiet zone. 0 on success.
 */
int cli_qr_render(const char *text, cli_lines *out);

/*
 * What the QR code holds: verification_url exactly as the server sent it, as
 * Trakt advises since July 2026 ("the QR code should use
 * https://auth.trakt.tv/activate"); with --qr-prefill, URL/CODE, the older
 * prefill that is unconfirmed on the auth host.
 */
void cli_qr_target(const cli_options *o, const tda_code *code, char *out, size_t size);

/* big_text.c: letters and digits drawn 4x5 pixels large, in half blocks or in '#'. */
int cli_big_text(const char *text, bool utf8, cli_lines *out);

/* The running login display: one of three kinds, chosen from the options and stdout. */
typedef struct login_view login_view;

/* resumed: the code is the one a killed login showed (the view says so). */
login_view *login_view_start(const cli_options *o, const tda_code *code, bool resumed);
void login_view_event(const tda_event *event, void *view);
/* Ends the live part (countdown), clearing its line; the outcome is printed after. */
void login_view_stop(login_view *v);
/* Prints a --verbose line without tearing the live display. */
void login_view_log(const char *line, void *view);
/* Ends the display with success: the token is saved at o->token_file. */
void login_view_done(login_view *v, const tda_token *token);
/* Ends the display without a token (the caller reports why) and frees it. NULL is fine. */
void login_view_free(login_view *v);

/* terminal_view.c: the live display for a person at a terminal. */
typedef struct terminal_view terminal_view;
/* note: a line under the title, e.g. that the code was resumed; may be NULL. */
terminal_view *terminal_view_start(const cli_options *o, const tda_code *code, const char *note);
/* Also redraws everything for TDA_EVENT_NEW_CODE. */
void terminal_view_event(terminal_view *t, const tda_event *event);
void terminal_view_stop(terminal_view *t, const char *final_line);
void terminal_view_log(terminal_view *t, const char *line);

#endif
