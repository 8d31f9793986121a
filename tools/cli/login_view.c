/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What login shows while it waits, in one of three forms:
 *   json      one JSON object per line on stdout, for programs (see the man page)
 *   terminal  the live view of terminal_view.c, when stdout is a terminal
 *   plain     one instruction line on stdout, notes on stderr: for logs and pipes
 */
#include <jansson.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "view.h"

typedef enum { VIEW_JSON, VIEW_TERMINAL, VIEW_PLAIN } view_kind;

struct login_view {
    const cli_options *o;
    view_kind kind;
    terminal_view *terminal;
};

static double seconds(int64_t ms)
{
    return (double)ms / 1000.0;
}

/* The "code" line of --json: the first code, a resumed one, and each renewal's. */
static void json_code(const cli_options *o, const tda_code *code, bool resumed, int renewals)
{
    char qr_url[1200];
    cli_qr_target(o, code, qr_url, sizeof qr_url);
    cli_json_line(json_pack("{s:s, s:s, s:s, s:s, s:f, s:f, s:b, s:i}", "event", "code",
                            "user_code", code->user_code, "verification_url",
                            code->verification_url, "qr_url", qr_url, "expires_in",
                            seconds(tda_code_remaining_ms(code)), "interval",
                            seconds(code->interval_ms), "resumed", resumed, "renewals", renewals));
}

/* The plain instruction line, as a log reader sees it. */
static void plain_code(const tda_code *code)
{
    char life[64];
    cli_format_duration((tda_code_remaining_ms(code) + 999) / 1000, life, sizeof life);
    printf("To authorize, open %s and enter the code %s (valid for %s)\n", code->verification_url,
           code->user_code, life);
    fflush(stdout);
}

login_view *login_view_start(const cli_options *o, const tda_code *code, bool resumed)
{
    login_view *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->o = o;
    v->kind = o->json ? VIEW_JSON : isatty(STDOUT_FILENO) && !o->quiet ? VIEW_TERMINAL : VIEW_PLAIN;
    const char *note = resumed ? "(Resumed: the code shown before the restart.)" : NULL;
    if (v->kind == VIEW_TERMINAL && !(v->terminal = terminal_view_start(o, code, note)))
        v->kind = VIEW_PLAIN;
    if (v->kind == VIEW_JSON) {
        json_code(o, code, resumed, 0);
    } else if (v->kind == VIEW_PLAIN) {
        if (resumed)
            printf("Resumed the code shown before the restart; it is still valid.\n");
        plain_code(code);
    }
    return v;
}

static void json_event(const cli_options *o, const tda_event *ev)
{
    switch (ev->kind) {
    case TDA_EVENT_PENDING:
        cli_json_line(json_pack("{s:s, s:i, s:f, s:f}", "event", "pending", "polls", ev->polls,
                                "next_poll_in", seconds(ev->next_poll_in_ms), "expires_in",
                                seconds(ev->expires_in_ms)));
        break;
    case TDA_EVENT_SLOW_DOWN:
        cli_json_line(json_pack("{s:s, s:i, s:f, s:f, s:f}", "event", "slow_down", "polls",
                                ev->polls, "old_interval", seconds(ev->old_interval_ms), "interval",
                                seconds(ev->interval_ms), "expires_in",
                                seconds(ev->expires_in_ms)));
        break;
    case TDA_EVENT_RETRY:
        cli_json_line(json_pack(
            "{s:s, s:i, s:s, s:I, s:f, s:f}", "event", "retry", "polls", ev->polls, "status",
            tda_status_name(ev->status), "http_status", (json_int_t)ev->http_status, "next_poll_in",
            seconds(ev->next_poll_in_ms), "expires_in", seconds(ev->expires_in_ms)));
        break;
    case TDA_EVENT_SUCCESS:
        break; /* "authorized" follows once the token is saved */
    case TDA_EVENT_NEW_CODE:
        json_code(o, ev->code, false, ev->renewals);
        break;
    }
}

void login_view_event(const tda_event *ev, void *view)
{
    login_view *v = view;
    if (v->kind == VIEW_JSON) {
        json_event(v->o, ev);
    } else if (v->kind == VIEW_TERMINAL) {
        terminal_view_event(v->terminal, ev);
    } else if (!v->o->quiet) {
        if (ev->kind == TDA_EVENT_SLOW_DOWN)
            fprintf(stderr, CLI_NAME ": Trakt asked to slow down; polling every %.1f s now\n",
                    seconds(ev->interval_ms));
        else if (ev->kind == TDA_EVENT_RETRY)
            fprintf(stderr, CLI_NAME ": %s (HTTP %ld); retrying in %.1f s\n",
                    tda_strerror(ev->status), ev->http_status, seconds(ev->next_poll_in_ms));
    }
    if (v->kind == VIEW_PLAIN && ev->kind == TDA_EVENT_NEW_CODE) {
        printf("The code expired unused; here is a new one.\n");
        plain_code(ev->code);
    }
}

void login_view_stop(login_view *v)
{
    if (v && v->terminal) {
        terminal_view_stop(v->terminal, NULL);
        v->terminal = NULL;
    }
}

void login_view_log(const char *line, void *view)
{
    login_view *v = view;
    if (v->terminal)
        terminal_view_log(v->terminal, line);
    else
        fprintf(stderr, "%s\n", line);
}

void login_view_done(login_view *v, const tda_token *t)
{
    const cli_options *o = v->o;
    char when[64], line[512];
    cli_format_time(t->expires_at, when, sizeof when);
    snprintf(line, sizeof line, "Authorized. The token expires %s.\nSaved in %s", when,
             o->token_file);
    if (v->kind == VIEW_JSON)
        cli_json_line(json_pack("{s:s, s:s, s:s, s:I, s:I}", "event", "authorized", "token_file",
                                o->token_file, "scope", t->scope, "expires_at",
                                (json_int_t)t->expires_at, "expires_in",
                                (json_int_t)(t->expires_at - time(NULL))));
    else if (!o->quiet)
        printf("%s\n", line); /* on a terminal too: the live part has ended by now */
    fflush(stdout);
}

void login_view_free(login_view *v)
{
    if (!v)
        return;
    login_view_stop(v);
    free(v);
}
