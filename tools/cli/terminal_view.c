/* SPDX-License-Identifier: Apache-2.0 */
/*
 * login's live display for a person at a terminal: the QR code on the left,
 * the URL and the big code on the right, and under them one status line that
 * a small thread redraws every second with the time left and the poll state.
 * Everything fits an 80x24 terminal; when the terminal is smaller the QR code
 * is left out, never the text. A new code (renewal) clears the screen and
 * draws it all again, so a screen nobody watched shows only a code that works.
 */
#include <langinfo.h>
#include <locale.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "view.h"

#define GAP 2          /* columns between the QR code and the text */
#define RIGHT_LINES 16 /* room for the text column */

struct terminal_view {
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stop;
    bool utf8;
    const cli_options *o;  /* for each redraw: --no-qr, --qr-prefill */
    int64_t expires_at_ms; /* tda_boottime_ms(): a suspend counts down the code too */
    char state[200];       /* what polling is doing, for the status line */
};

static bool terminal_is_utf8(void)
{
    setlocale(LC_CTYPE, "");
    const char *cs = nl_langinfo(CODESET);
    return cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
}

static void terminal_size(int *cols, int *rows)
{
    struct winsize ws;
    *cols = 80;
    *rows = 24;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
        *cols = ws.ws_col;
        *rows = ws.ws_row;
    }
}

/* The text column; returns its widest line in columns. note: under the title, or NULL. */
static int compose_text(const tda_code *code, const cli_lines *big, bool with_qr, bool prefill,
                        const char *note, char right[RIGHT_LINES][160], int *count)
{
    int n = 0, width = 0;
#define ADD(...) snprintf(right[n++], sizeof right[0], __VA_ARGS__)
    ADD("To authorize this device on Trakt:");
    ADD("%s", note ? note : "");
    ADD("1. On a phone or computer, open");
    ADD("   %s", code->verification_url);
    ADD("%s", "");
    ADD("2. Enter this code:");
    ADD("%s", "");
    for (int i = 0; i < big->count; i++)
        ADD("   %s", big->line[i]);
    ADD("%s", "");
    ADD("   %s", code->user_code);
    if (with_qr && prefill) {
        ADD("%s", "");
        ADD("Or scan the QR code: it opens the");
        ADD("page with the code filled in.");
    } else if (with_qr) {
        ADD("%s", "");
        ADD("Or scan the QR code to open that");
        ADD("page, then enter the code.");
    }
#undef ADD
    *count = n;
    for (int i = 0; i < n; i++) {
        int w = 0;
        for (const char *p = right[i]; *p; p++)
            w += ((unsigned char)*p & 0xC0) != 0x80; /* UTF-8: count characters, not bytes */
        if (w > width)
            width = w;
    }
    return width;
}

static void draw_layout(const cli_options *o, const tda_code *code, bool utf8, const char *note)
{
    cli_lines big = {0}, qr = {0};
    if (cli_big_text(code->user_code, utf8, &big) != 0)
        big.count = 0;
    char qr_text[1200];
    cli_qr_target(o, code, qr_text, sizeof qr_text);
    bool want_qr = !o->no_qr;
    bool with_qr = want_qr && utf8 && cli_qr_render(qr_text, &qr) == 0;
    char right[RIGHT_LINES][160];
    int count = 0;
    int text_width = compose_text(code, &big, with_qr, o->qr_prefill, note, right, &count);
    int cols, rows;
    terminal_size(&cols, &rows);
    /* Two lines below for the status line and the shell prompt after it. */
    const char *qr_note = NULL;
    if (with_qr &&
        (qr.width + GAP + text_width > cols || (qr.count > count ? qr.count : count) + 3 > rows)) {
        with_qr = false;
        qr_note = "(The QR code needs a larger terminal window.)";
        cli_lines_free(&qr);
        compose_text(code, &big, false, false, note, right, &count); /* no QR: width unused */
    } else if (want_qr && !utf8) {
        qr_note = "(No QR code: the terminal does not use UTF-8.)";
    }
    int height = with_qr && qr.count > count ? qr.count : count;
    printf("\n");
    for (int i = 0; i < height; i++) {
        if (with_qr)
            printf("%s%*s", i < qr.count ? qr.line[i] : "", i < qr.count ? GAP : qr.width + GAP,
                   "");
        printf("%s\n", i < count ? right[i] : "");
    }
    if (qr_note)
        printf("%s\n", qr_note);
    printf("\n");
    fflush(stdout);
    cli_lines_free(&qr);
    cli_lines_free(&big);
}

/* The status line, drawn over itself. Called with the lock held. */
static void draw_status_locked(terminal_view *t)
{
    int64_t left_ms = t->expires_at_ms - tda_boottime_ms();
    long long left = left_ms > 0 ? (left_ms + 999) / 1000 : 0;
    printf("\r\033[KCode expires in %lld:%02lld %s %s", left / 60, left % 60,
           t->utf8 ? "\u00b7" : "-", t->state);
    fflush(stdout);
}

static void *countdown(void *arg)
{
    terminal_view *t = arg;
    pthread_mutex_lock(&t->lock);
    while (!t->stop) {
        draw_status_locked(t);
        /* Wake at the next whole second of the countdown, so the seconds tick evenly. */
        int64_t left_ms = t->expires_at_ms - tda_boottime_ms();
        int64_t step = left_ms > 0 ? (left_ms % 1000) + 1 : 1000;
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += (time_t)(step / 1000);
        until.tv_nsec += (long)(step % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&t->wake, &t->lock, &until);
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

terminal_view *terminal_view_start(const cli_options *o, const tda_code *code, const char *note)
{
    terminal_view *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->utf8 = terminal_is_utf8();
    t->o = o;
    t->expires_at_ms = tda_boottime_ms() + tda_code_remaining_ms(code);
    snprintf(t->state, sizeof t->state, "waiting for the code to be entered");
    draw_layout(o, code, t->utf8, note);

    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&t->wake, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&t->lock, NULL);
    /* Signals go to the main thread, whose handler cancels the poll. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    t->thread_started = pthread_create(&t->thread, NULL, countdown, t) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!t->thread_started) {
        pthread_mutex_lock(&t->lock);
        draw_status_locked(t); /* no live countdown, but still one status line */
        pthread_mutex_unlock(&t->lock);
    }
    return t;
}

void terminal_view_event(terminal_view *t, const tda_event *ev)
{
    pthread_mutex_lock(&t->lock);
    t->expires_at_ms = tda_boottime_ms() + ev->expires_in_ms;
    double next_s = (double)ev->next_poll_in_ms / 1000.0;
    switch (ev->kind) {
    case TDA_EVENT_PENDING:
        snprintf(t->state, sizeof t->state, "waiting for the code to be entered (checked %d %s)",
                 ev->polls, ev->polls == 1 ? "time" : "times");
        break;
    case TDA_EVENT_SLOW_DOWN:
        snprintf(t->state, sizeof t->state, "Trakt asked to slow down: checking every %.0f s",
                 (double)ev->interval_ms / 1000.0);
        break;
    case TDA_EVENT_RETRY:
        snprintf(t->state, sizeof t->state, "%s; trying again in %.0f s", tda_strerror(ev->status),
                 next_s);
        break;
    case TDA_EVENT_SUCCESS:
        snprintf(t->state, sizeof t->state, "approved");
        break;
    case TDA_EVENT_NEW_CODE:
        /* The screen shows the old code until here: clear it and draw the new one. */
        printf("\033[H\033[2J");
        draw_layout(t->o, ev->code, t->utf8, "(A new code: the last one expired unused.)");
        snprintf(t->state, sizeof t->state, "waiting for the new code to be entered");
        break;
    }
    draw_status_locked(t);
    pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->lock);
}

void terminal_view_log(terminal_view *t, const char *line)
{
    pthread_mutex_lock(&t->lock);
    fflush(stdout);
    /* Clear the status line, print the log line above it, and draw the status again. */
    fprintf(stderr, "\r\033[K%s\n", line);
    draw_status_locked(t);
    pthread_mutex_unlock(&t->lock);
}

void terminal_view_stop(terminal_view *t, const char *final_line)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->lock);
    t->stop = true;
    pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->lock);
    if (t->thread_started)
        pthread_join(t->thread, NULL);
    /* The status line gives way to the outcome (or to the error printed next). */
    printf("\r\033[K%s%s", final_line ? final_line : "", final_line ? "\n" : "");
    fflush(stdout);
    pthread_cond_destroy(&t->wake);
    pthread_mutex_destroy(&t->lock);
    free(t);
}
