/* SPDX-License-Identifier: Apache-2.0 */
/*
 * login's request for a code, POST /oauth/device/code (the first code, one
 * asked for with --new-code or in place of a saved code that cannot be
 * resumed), and what to do when it is rate-limited. The new codes of --renew
 * are asked for by the library while it polls, by its own rules
 * (src/renew.c). Cloudflare in front of Trakt answers this call with 429 and
 * Retry-After (143 and 254 s have been seen), and Trakt's rate-limiting guide
 * says: wait at least Retry-After; without one, back off exponentially with
 * jitter, a limited number of times; a client that retries early only
 * extends the block. So login waits it out and asks again, up to MAX_RETRIES
 * times and WAIT_BUDGET_MS in all (and within --timeout), showing that it
 * waits: a countdown on a terminal, a "waiting" event with --json, a note on
 * standard error otherwise. Ctrl-C ends the wait at once.
 */
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define MAX_RETRIES 3
#define WAIT_BUDGET_MS (15L * 60 * 1000) /* a user at a login screen waits no longer */
#define BACKOFF_BASE_MS 2000L            /* without Retry-After: 1-2 s, 2-4 s, 4-8 s */

/* Equal jitter: half of base * 2^(retry-1) fixed, the other half random. */
static long backoff_ms(int retry)
{
    long base = BACKOFF_BASE_MS << (retry - 1);
    static unsigned int seed;
    if (!seed)
        seed = (unsigned int)tda_monotonic_ms() ^ ((unsigned int)getpid() << 16);
    return base / 2 + (long)(rand_r(&seed) % (int)(base / 2 + 1));
}

/*
 * Sleeps ms unless a signal (Ctrl-C, SIGTERM, SIGHUP) comes first; false then.
 * The signals are held while the flag is checked and let in only inside
 * ppoll, so one that arrives just before the sleep still ends it.
 */
static bool sleep_unless_signalled(long ms)
{
    sigset_t held, old;
    sigemptyset(&held);
    sigaddset(&held, SIGINT);
    sigaddset(&held, SIGTERM);
    sigaddset(&held, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &held, &old);
    if (!cli_signal_received() && ms > 0) {
        struct timespec ts = {(time_t)(ms / 1000), (ms % 1000) * 1000000L};
        ppoll(NULL, 0, &ts, &old);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return !cli_signal_received();
}

static bool on_terminal(const cli_options *o)
{
    return !o->json && !o->quiet && isatty(STDOUT_FILENO);
}

/* Says that login waits, and why, in the form the output has. */
static void announce(const cli_options *o, long wait_ms, bool server_said, long http, int retry)
{
    char in[64], at[32] = "";
    cli_format_duration((wait_ms + 999) / 1000, in, sizeof in);
    time_t when = time(NULL) + (time_t)((wait_ms + 999) / 1000);
    struct tm tm;
    if (gmtime_r(&when, &tm))
        strftime(at, sizeof at, ", at %H:%M:%S UTC", &tm);
    if (o->json) {
        cli_json_line(json_pack("{s:s, s:s, s:I, s:o, s:f, s:i, s:i}", "event", "waiting", "reason",
                                "rate_limited", "http_status", (json_int_t)http, "retry_after",
                                server_said ? json_real((double)wait_ms / 1000.0) : json_null(),
                                "wait", (double)wait_ms / 1000.0, "attempt", retry + 1,
                                "max_attempts", MAX_RETRIES + 1));
    } else if (!o->quiet && !on_terminal(o)) {
        fprintf(stderr,
                CLI_NAME ": Trakt is limiting requests (HTTP %ld, %s): waiting; asking for a code "
                         "again in %s%s (try %d of %d)\n",
                http, server_said ? "it asks to wait" : "no Retry-After, so backing off", in, at,
                retry + 1, MAX_RETRIES + 1);
    }
}

/* Waits wait_ms, with a countdown on a terminal. false when a signal cut it short. */
static bool wait_out(const cli_options *o, long wait_ms, long http)
{
    /* +1 ms: the clock reads whole ms rounded down, and the wait must be a whole wait_ms. */
    int64_t until = tda_monotonic_ms() + wait_ms + 1;
    bool live = on_terminal(o);
    for (;;) {
        int64_t left = until - tda_monotonic_ms();
        if (left <= 0)
            break;
        if (live) {
            long long s = (left + 999) / 1000;
            /* One line in 80 columns, or \r would not reach its start. */
            printf("\r\033[KTrakt asks to wait (HTTP %ld): asking for a code again in %lld:%02lld",
                   http, s / 60, s % 60);
            fflush(stdout);
        }
        /* Wake on the whole seconds of the countdown. */
        long step = live ? (long)((left - 1) % 1000) + 1 : (long)left;
        if (!sleep_unless_signalled(step))
            break;
    }
    if (live) {
        printf("\r\033[K");
        fflush(stdout);
    }
    return !cli_signal_received();
}

tda_status cli_request_code(const cli_options *o, tda_client *c, tda_code *code)
{
    long waited = 0;
    long budget = WAIT_BUDGET_MS;
    if (o->timeout_s > 0 && o->timeout_s * 1000.0 < (double)budget)
        budget = (long)(o->timeout_s * 1000.0);
    for (int retry = 0;; retry++) {
        tda_status st = tda_generate_code(c, code);
        if (st != TDA_SLOW_DOWN || retry == MAX_RETRIES)
            return st;
        long server_ms = tda_client_retry_after_ms(c);
        long wait_ms = server_ms >= 0 ? server_ms : backoff_ms(retry + 1);
        /* Not waited out: the message then says when to try again (report.c). */
        if (waited + wait_ms > budget)
            return st;
        announce(o, wait_ms, server_ms >= 0, tda_client_http_status(c), retry + 1);
        if (!wait_out(o, wait_ms, tda_client_http_status(c)))
            return TDA_CANCELLED;
        waited += wait_ms;
    }
}
