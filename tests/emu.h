/* SPDX-License-Identifier: Apache-2.0 */
/* Test helper: run trakt-oauth-emulator as a child process on a free port. */
#ifndef TDA_TEST_EMU_H
#define TDA_TEST_EMU_H

#include <stdarg.h>
#include <sys/types.h>

#include "slow.h" /* test_bound_ms: every upper bound on time goes through it */

typedef struct emu {
    pid_t pid;
    char base_url[256]; /* http://127.0.0.1:PORT, or https:// with --tls-cert */
    char ca_file[256];  /* for emu_get_stats over https; "" for http */
} emu;

typedef struct emu_stats {
    long requests, connections, polls, early_polls, codes_issued, tokens_issued, refreshes, revokes,
        faults_injected, secrets_sent;
} emu_stats;

/*
 * Starts the emulator (path from $TDA_EMULATOR) with the given options, NULL
 * terminated, and waits for its "listening on" line. Fails the test on error.
 */
void emu_start(emu *e, ...);
/* The same with the options in a NULL-terminated array. */
void emu_start_argv(emu *e, const char *const *options);
/* Quick to approve (--interval 0.01, --approve-after-polls 0), logging to log_path, then
 * the options in extra up to a NULL: the fixture of tests that need a token fast. */
void emu_start_quick(emu *e, const char *log_path, va_list extra);
/* As emu_start_argv, for a public app: the emulator is given no client secret. */
void emu_start_public_argv(emu *e, const char *const *options);
void emu_stop(emu *e);
emu_stats emu_get_stats(const emu *e);

/* A person at /activate approving (1) or denying (0) a user code; returns the HTTP status. */
int emu_decide(const emu *e, const char *user_code, int approve);

/* A client for the emulator with test credentials. */
struct tda_client;
struct tda_client *emu_client(const emu *e);
/* The same without a client secret: a public client. */
struct tda_client *emu_public_client(const emu *e);

/* A real login against the emulator (code, then polls until the emulator approves). */
struct tda_token;
void emu_login(const emu *e, struct tda_token *out);

/* Moves a token's arrival back, on both its clocks, so that only left_s of its life remain. */
void emu_age_token(struct tda_token *t, long long left_s);

/* Refresh requests (POST /oauth/token) in the emulator's --log: answered 200, and otherwise. */
void emu_count_refreshes(const char *log_path, int *ok, int *other);

#define EMU_CLIENT_ID "test-client-id"
#define EMU_CLIENT_SECRET "test-client-secret"

/* Milliseconds that a cancel or deadline may take to end a call: 100 on an idle
 * machine, scaled by $TDA_TEST_SLOW like every bound (tests/slow.h). */
long emu_prompt_ms(void);

/* One line of the emulator's request log (its --log FILE), which lists faulted requests too. */
typedef struct emu_logged {
    long at_ms;     /* arrival, in ms since the emulator started (whole ms: the log's precision) */
    char path[64];  /* "/oauth/device/token" */
    char status[8]; /* "200", "429", "drop"; "0" for a stalled request */
    int fault;      /* the answer was an injected --fault */
    int secret;     /* a client secret was sent (1), not (0), or the endpoint takes none (-1) */
    long code;      /* the emulator's serial of the code issued or polled (1: the first); 0: none */
} emu_logged;

/*
 * The requests to path (such as "/oauth/device/token"; NULL: to any path) in
 * the log at log_path, in order of arrival; at most max of them. Returns how many.
 */
int emu_read_log(const char *log_path, const char *path, emu_logged *out, int max);

/*
 * Checks what a poller must never do, measured in the log rather than taken
 * from the library's own account: each request to path came at least
 * interval_ms after the one before; after a 429 the interval becomes at
 * least raised_ms (interval + the slow-down step, or the server's wait when
 * longer) for every later request; after any other faulted request the next
 * one came at least after_fault_ms later (at least the interval: backoff never
 * shortens it). The log has whole milliseconds, so 1 ms is forgiven. Fails
 * the test, naming `what`, otherwise. Returns how many requests it saw.
 */
int emu_check_poll_gaps(const char *log_path, const char *path, long interval_ms, long raised_ms,
                        long after_fault_ms, const char *what);

#endif
