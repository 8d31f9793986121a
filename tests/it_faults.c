/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fault matrix: every way Trakt, Cloudflare or the network can answer
 * each of the four calls, one row each, run by the real library against the
 * real emulator over loopback. doc/FAULTS.md is this table in prose; keep the
 * two in step (tests/cli/docs.sh checks that every row name is there).
 *
 * Every row checks its expected status and that no secret is in the error
 * detail. Polling rows also check:
 * - no poll sooner than the interval after the previous one, counting
 *   faulted requests too, and no early poll by the emulator's own count;
 * - the wait after each faulted request at least the row's min_wait_ms, and
 *   after a 429 the raised interval for every later poll: measured as the
 *   gaps between arrivals in the emulator's request log (emu_check_poll_gaps),
 *   not taken from what the library announces;
 * - retries bounded (at most one request per interval over the code's life);
 * Single-call rows make exactly one request (the library never re-sends).
 * Rows with a public client check that no request carried a client secret.
 * MULTI rows run five flows in one engine over one connection and check, from
 * the log, that a 429 speaking for the whole IP held every flow back for its
 * wait (min_wait_ms), and that a bare one held back none but its own.
 * And:
 * - refresh: whether the stored refresh token still works afterwards. It does
 *   whenever the fault kept the request from Trakt; when Trakt's logic ran and
 *   only the answer was spoiled, Trakt has rotated the pair and no client can
 *   get it back; the library then reports an error that keeps the stored pair.
 * Leaks and memory errors are caught by the ASan and valgrind passes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "emu.h"
#include "traktdeviceauth.h"

#define INTERVAL_MS 200
#define INTERVAL "0.2"

/* MULTI: polling as POLL, but five flows in one tda_multi engine (the IP-wide pause). */
typedef enum call_kind { CODE, POLL, REFRESH, REVOKE, MULTI } call_kind;

/* Whether a refresh fault let Trakt's logic spend the old refresh token. */
typedef enum spend { KEPT, SPENT } spend;

typedef struct fault_row {
    const char *name; /* as in doc/FAULTS.md */
    call_kind call;
    const char *faults[4]; /* --fault specifications, NULL-terminated */
    tda_status expect;
    const char *detail;  /* a substring the error detail must hold, or NULL */
    int min_retries;     /* POLL: retry and slow-down events at least... */
    int max_retries;     /* ...and at most */
    long min_wait_ms;    /* POLL: the least wait after each faulted request, measured in the
                            emulator's log (after a 429: the raised interval, kept); CODE etc.:
                            the Retry-After read */
    spend refresh_token; /* REFRESH only */
    int short_life;      /* POLL: the code lives 1 s instead of 30 s */
    int public_client;   /* the client has no secret (Trakt's advice since July 2026) */
    int require_secret;  /* the emulator refuses requests without one (--require-secret) */
} fault_row;

/* A braced initializer in a macro reads as a block to clang-format. */
/* clang-format off */
#define F(...) {__VA_ARGS__, NULL}
/* clang-format on */

/* Each row names only the columns it needs; the rest are zero. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const fault_row rows[] = {
    /* ------------------------------------------------ POST /oauth/device/code */
    {"code: 200", CODE, F(NULL), TDA_OK},
    {"code: 400", CODE, F("code:1:400"), TDA_UNEXPECTED_STATUS, "HTTP 400"},
    {"code: 401", CODE, F("code:1:401"), TDA_FORBIDDEN, "client id"},
    {"code: 403", CODE, F("code:1:403"), TDA_FORBIDDEN, "client id"},
    {"code: 403 Cloudflare HTML", CODE, F("code:1:403:html"), TDA_FORBIDDEN, "User-Agent"},
    {"code: 404", CODE, F("code:1:404"), TDA_UNEXPECTED_STATUS, "base URL"},
    {"code: 429", CODE, F("code:1:429"), TDA_SLOW_DOWN, "429"},
    {"code: 429 Retry-After", CODE, F("code:1:429:retry-after=30"), TDA_SLOW_DOWN, NULL, 0, 0,
     30000},
    {"code: 429 X-Ratelimit", CODE, F("code:1:429:ratelimit=20"), TDA_SLOW_DOWN, NULL, 0, 0, 19000},
    {"code: 500", CODE, F("code:1:500"), TDA_SERVER_ERROR, "500"},
    {"code: 502", CODE, F("code:1:502"), TDA_OVERLOADED, "502"},
    {"code: 503", CODE, F("code:1:503"), TDA_OVERLOADED, "503"},
    {"code: 504", CODE, F("code:1:504"), TDA_OVERLOADED, "504"},
    {"code: 520", CODE, F("code:1:520"), TDA_CLOUDFLARE, "520"},
    {"code: 521", CODE, F("code:1:521"), TDA_CLOUDFLARE, "521"},
    {"code: 522 Cloudflare HTML", CODE, F("code:1:522:html"), TDA_CLOUDFLARE, "Cloudflare"},
    {"code: dropped before headers", CODE, F("code:1:drop"), TDA_NETWORK, NULL},
    {"code: stall", CODE, F("code:1:stall"), TDA_TIMED_OUT, NULL},
    {"code: 10 MB body", CODE, F("code:1:huge"), TDA_BAD_RESPONSE, "larger than"},
    {"code: answer lost", CODE, F("code:1:lose"), TDA_NETWORK, NULL},
    {"code: dropped after headers", CODE, F("code:1:cut-headers"), TDA_NETWORK, NULL},
    {"code: truncated body", CODE, F("code:1:cut-body"), TDA_NETWORK, NULL},
    {"code: invalid JSON", CODE, F("code:1:json:garbage"), TDA_BAD_RESPONSE, NULL},
    {"code: not an object", CODE, F("code:1:json:array"), TDA_BAD_RESPONSE, NULL},
    {"code: non-UTF-8", CODE, F("code:1:json:non-utf8"), TDA_BAD_RESPONSE, NULL},
    {"code: duplicate key", CODE, F("code:1:json:dup=device_code"), TDA_BAD_RESPONSE, NULL},
    {"code: missing device_code", CODE, F("code:1:json:del=device_code"), TDA_BAD_RESPONSE,
     "device_code"},
    {"code: user_code a number", CODE, F("code:1:json:set=user_code=5"), TDA_BAD_RESPONSE,
     "user_code"},
    {"code: extra fields", CODE,
     F("code:1:json:set=verification_uri_complete=\"x\":set=extra=[1,{}]"), TDA_OK},
    {"code: interval 0", CODE, F("code:1:json:set=interval=0"), TDA_BAD_RESPONSE, "interval"},
    {"code: interval negative", CODE, F("code:1:json:set=interval=-5"), TDA_BAD_RESPONSE,
     "interval"},
    {"code: interval huge", CODE, F("code:1:json:set=interval=1e12"), TDA_BAD_RESPONSE, "interval"},
    {"code: interval a string", CODE, F("code:1:json:set=interval=\"5\""), TDA_BAD_RESPONSE,
     "interval"},
    {"code: expires_in missing", CODE, F("code:1:json:del=expires_in"), TDA_BAD_RESPONSE,
     "expires_in"},

    /* ------------------------------------ POST /oauth/device/token (polling) */
    /* The emulator approves on the second poll that reaches Trakt's logic. */
    {"token: 400 pending, then 200", POLL, F(NULL), TDA_OK, NULL, 0, 0},
    {"token: 400 from a proxy", POLL, F("token:1:400"), TDA_OK, NULL, 0, 0},
    {"token: 401", POLL, F("token:1:401"), TDA_FORBIDDEN, "client id"},
    {"token: 403", POLL, F("token:1:403"), TDA_FORBIDDEN, "client id"},
    {"token: 403 Cloudflare HTML", POLL, F("token:1:403:html"), TDA_FORBIDDEN, "User-Agent"},
    {"token: 404", POLL, F("token:1:404"), TDA_INVALID_DEVICE_CODE, "404"},
    {"token: 409", POLL, F("token:1:409"), TDA_ALREADY_USED, "409"},
    {"token: 410", POLL, F("token:1:410"), TDA_EXPIRED, "410"},
    {"token: 418", POLL, F("token:1:418"), TDA_DENIED, "418"},
    {"token: 429", POLL, F("token:1:429"), TDA_OK, NULL, 1, 1, INTERVAL_MS + 300},
    {"token: 429 Retry-After", POLL, F("token:1:429:retry-after=1"), TDA_OK, NULL, 1, 1, 1000},
    {"token: 429 X-Ratelimit", POLL, F("token:1:429:ratelimit=2"), TDA_OK, NULL, 1, 1, 1000},
    {"token: 500", POLL, F("token:1:500"), TDA_OK, NULL, 1, 1, INTERVAL_MS},
    {"token: 502", POLL, F("token:1:502"), TDA_OK, NULL, 1, 1, INTERVAL_MS},
    {"token: 503", POLL, F("token:1:503"), TDA_OK, NULL, 1, 1, INTERVAL_MS},
    {"token: 504", POLL, F("token:1:504"), TDA_OK, NULL, 1, 1, INTERVAL_MS},
    {"token: 520", POLL, F("token:1:520"), TDA_OK, NULL, 1, 1, INTERVAL_MS},
    {"token: 521", POLL, F("token:1:521"), TDA_OK, NULL, 1, 1, INTERVAL_MS},
    {"token: 522 Cloudflare HTML", POLL, F("token:1:522:html"), TDA_OK, NULL, 1, 1, INTERVAL_MS},
    {"token: 5xx/52x burst shorter than the code's life", POLL,
     F("token:1-2:503", "token:3-4:522:html", "token:5:500"), TDA_OK, NULL, 5, 5, INTERVAL_MS},
    {"token: 503 longer than the code's life", POLL, F("token:1-1000:503"), TDA_OVERLOADED, "503",
     1, 6, INTERVAL_MS, KEPT, 1},
    {"token: 522 HTML longer than the code's life", POLL, F("token:1-1000:522:html"),
     TDA_CLOUDFLARE, "Cloudflare", 1, 6, INTERVAL_MS, KEPT, 1},
    {"token: dropped before headers", POLL, F("token:1:drop"), TDA_OK, NULL, 1, 1, INTERVAL_MS},
    {"token: stall", POLL, F("token:1:stall"), TDA_OK, NULL, 1, 1, INTERVAL_MS},
    {"token: 10 MB body", POLL, F("token:1:huge"), TDA_BAD_RESPONSE, "larger than"},
    {"token: 200 lost, then 409", POLL, F("token:2:lose"), TDA_ALREADY_USED, "lost", 1, 1},
    {"token: 200 dropped after headers, then 409", POLL, F("token:2:cut-headers"), TDA_ALREADY_USED,
     "lost", 1, 1},
    {"token: 200 truncated, then 409", POLL, F("token:2:cut-body"), TDA_ALREADY_USED, "lost", 1, 1},
    {"token: invalid JSON", POLL, F("token:2:json:garbage"), TDA_BAD_RESPONSE, NULL},
    {"token: not an object", POLL, F("token:2:json:array"), TDA_BAD_RESPONSE, NULL},
    {"token: non-UTF-8", POLL, F("token:2:json:non-utf8"), TDA_BAD_RESPONSE, NULL},
    {"token: duplicate key", POLL, F("token:2:json:dup=access_token"), TDA_BAD_RESPONSE, NULL},
    {"token: missing access_token", POLL, F("token:2:json:del=access_token"), TDA_BAD_RESPONSE,
     "access_token"},
    {"token: expires_in a string", POLL, F("token:2:json:set=expires_in=\"7d\""), TDA_BAD_RESPONSE,
     "expires_in"},
    {"token: created_at null", POLL, F("token:2:json:set=created_at=null"), TDA_BAD_RESPONSE,
     "created_at"},
    {"token: extra fields", POLL, F("token:2:json:set=id_token=\"x\":set=user=[true,null]"),
     TDA_OK},

    /* --------------------------------------------- POST /oauth/token (refresh) */
    {"refresh: 200", REFRESH, F(NULL), TDA_OK, NULL, 0, 0, 0, SPENT},
    {"refresh: 400 from a proxy", REFRESH, F("refresh:1:400"), TDA_UNEXPECTED_STATUS, "400"},
    {"refresh: 401 from a proxy", REFRESH, F("refresh:1:401"), TDA_UNEXPECTED_STATUS, "401"},
    {"refresh: 403", REFRESH, F("refresh:1:403"), TDA_FORBIDDEN, "client id"},
    {"refresh: 403 Cloudflare HTML", REFRESH, F("refresh:1:403:html"), TDA_FORBIDDEN, "User-Agent"},
    {"refresh: 429", REFRESH, F("refresh:1:429"), TDA_SLOW_DOWN, "429"},
    {"refresh: 429 Retry-After", REFRESH, F("refresh:1:429:retry-after=30"), TDA_SLOW_DOWN, NULL, 0,
     0, 30000},
    {"refresh: 429 X-Ratelimit", REFRESH, F("refresh:1:429:ratelimit=20"), TDA_SLOW_DOWN, NULL, 0,
     0, 19000},
    {"refresh: 500", REFRESH, F("refresh:1:500"), TDA_SERVER_ERROR, "500"},
    {"refresh: 502", REFRESH, F("refresh:1:502"), TDA_OVERLOADED, "502"},
    {"refresh: 503", REFRESH, F("refresh:1:503"), TDA_OVERLOADED, "503"},
    {"refresh: 504", REFRESH, F("refresh:1:504"), TDA_OVERLOADED, "504"},
    {"refresh: 520", REFRESH, F("refresh:1:520"), TDA_CLOUDFLARE, "520"},
    {"refresh: 521", REFRESH, F("refresh:1:521"), TDA_CLOUDFLARE, "521"},
    {"refresh: 522 Cloudflare HTML", REFRESH, F("refresh:1:522:html"), TDA_CLOUDFLARE,
     "Cloudflare"},
    {"refresh: dropped before headers", REFRESH, F("refresh:1:drop"), TDA_NETWORK},
    {"refresh: stall", REFRESH, F("refresh:1:stall"), TDA_TIMED_OUT},
    {"refresh: 10 MB body", REFRESH, F("refresh:1:huge"), TDA_BAD_RESPONSE, "larger than"},
    {"refresh: 200 lost", REFRESH, F("refresh:1:lose"), TDA_NETWORK, NULL, 0, 0, 0, SPENT},
    {"refresh: 200 dropped after headers", REFRESH, F("refresh:1:cut-headers"), TDA_NETWORK, NULL,
     0, 0, 0, SPENT},
    {"refresh: 200 truncated", REFRESH, F("refresh:1:cut-body"), TDA_NETWORK, NULL, 0, 0, 0, SPENT},
    {"refresh: invalid JSON", REFRESH, F("refresh:1:json:garbage"), TDA_BAD_RESPONSE, NULL, 0, 0, 0,
     SPENT},
    {"refresh: non-UTF-8", REFRESH, F("refresh:1:json:non-utf8"), TDA_BAD_RESPONSE, NULL, 0, 0, 0,
     SPENT},
    {"refresh: duplicate key", REFRESH, F("refresh:1:json:dup=refresh_token"), TDA_BAD_RESPONSE,
     NULL, 0, 0, 0, SPENT},
    {"refresh: missing refresh_token", REFRESH, F("refresh:1:json:del=refresh_token"),
     TDA_BAD_RESPONSE, "refresh_token", 0, 0, 0, SPENT},
    {"refresh: expires_in a string", REFRESH, F("refresh:1:json:set=expires_in=\"7d\""),
     TDA_BAD_RESPONSE, "expires_in", 0, 0, 0, SPENT},
    {"refresh: extra fields", REFRESH, F("refresh:1:json:set=extra=[1,2]"), TDA_OK, NULL, 0, 0, 0,
     SPENT},

    /* -------------------------------------------------- POST /oauth/revoke */
    {"revoke: 200", REVOKE, F(NULL), TDA_OK},
    {"revoke: 401", REVOKE, F("revoke:1:401"), TDA_FORBIDDEN, "client id"},
    {"revoke: 403", REVOKE, F("revoke:1:403"), TDA_FORBIDDEN, "client id"},
    {"revoke: 403 Cloudflare HTML", REVOKE, F("revoke:1:403:html"), TDA_FORBIDDEN, "User-Agent"},
    {"revoke: 429", REVOKE, F("revoke:1:429"), TDA_SLOW_DOWN, "429"},
    {"revoke: 429 Retry-After", REVOKE, F("revoke:1:429:retry-after=30"), TDA_SLOW_DOWN, NULL, 0, 0,
     30000},
    {"revoke: 429 X-Ratelimit", REVOKE, F("revoke:1:429:ratelimit=20"), TDA_SLOW_DOWN, NULL, 0, 0,
     19000},
    {"revoke: 500", REVOKE, F("revoke:1:500"), TDA_SERVER_ERROR, "500"},
    {"revoke: 502", REVOKE, F("revoke:1:502"), TDA_OVERLOADED, "502"},
    {"revoke: 503", REVOKE, F("revoke:1:503"), TDA_OVERLOADED, "503"},
    {"revoke: 504", REVOKE, F("revoke:1:504"), TDA_OVERLOADED, "504"},
    {"revoke: 520", REVOKE, F("revoke:1:520"), TDA_CLOUDFLARE, "520"},
    {"revoke: 521", REVOKE, F("revoke:1:521"), TDA_CLOUDFLARE, "521"},
    {"revoke: 522 Cloudflare HTML", REVOKE, F("revoke:1:522:html"), TDA_CLOUDFLARE, "Cloudflare"},
    {"revoke: dropped before headers", REVOKE, F("revoke:1:drop"), TDA_NETWORK},
    {"revoke: stall", REVOKE, F("revoke:1:stall"), TDA_TIMED_OUT},
    {"revoke: 10 MB body", REVOKE, F("revoke:1:huge"), TDA_BAD_RESPONSE, "larger than"},
    {"revoke: answer lost", REVOKE, F("revoke:1:lose"), TDA_NETWORK},

    /* ----------------------- Trakt in late 2026: public clients, Cloudflare, the whole IP */
    {.name = "code: 429 Cloudflare text with Retry-After",
     .call = CODE,
     .faults = F("code:1:429:cloudflare:retry-after=143"),
     .expect = TDA_SLOW_DOWN,
     .detail = "wait 143 s",
     .min_wait_ms = 143000},
    {.name = "token: no secret sent",
     .call = POLL,
     .faults = F(NULL),
     .expect = TDA_OK,
     .public_client = 1},
    {.name = "token: 401 to a secret-less request",
     .call = POLL,
     .faults = F(NULL),
     .expect = TDA_FORBIDDEN,
     .detail = "no client secret was sent",
     .public_client = 1,
     .require_secret = 1},
    {.name = "token: 429 Retry-After with many flows pauses them all",
     .call = MULTI,
     .faults = F("token:3:429:retry-after=1"),
     .expect = TDA_OK,
     .min_wait_ms = 1000},
    {.name = "token: 429 X-Ratelimit with many flows pauses them all",
     .call = MULTI,
     .faults = F("token:3:429:ratelimit=2"),
     .expect = TDA_OK,
     .min_wait_ms = 1000},
    {.name = "token: Cloudflare 429 with many flows pauses them all",
     .call = MULTI,
     .faults = F("token:3:429:cloudflare"),
     .expect = TDA_OK,
     .min_wait_ms = INTERVAL_MS + 300},
    {.name = "token: bare 429 with many flows slows only its own",
     .call = MULTI,
     .faults = F("token:3:429"),
     .expect = TDA_OK},
    {.name = "refresh: no secret sent",
     .call = REFRESH,
     .faults = F(NULL),
     .expect = TDA_OK,
     .refresh_token = SPENT,
     .public_client = 1},
    {.name = "refresh: 401 to a secret-less request",
     .call = REFRESH,
     .faults = F(NULL),
     .expect = TDA_FORBIDDEN,
     .detail = "no client secret was sent",
     .refresh_token = KEPT,
     .public_client = 1,
     .require_secret = 1},
    {.name = "refresh: 400 invalid_grant session not found",
     .call = REFRESH,
     .faults = F("refresh:1:400:error=invalid_grant:description=session not found"),
     .expect = TDA_INVALID_GRANT,
     .detail = "\"session not found\"",
     .refresh_token = KEPT},
    {.name = "refresh: 400 with no body",
     .call = REFRESH,
     .faults = F("refresh:1:400:empty"),
     .expect = TDA_INVALID_GRANT,
     .refresh_token = KEPT},
    {.name = "revoke: no secret sent",
     .call = REVOKE,
     .faults = F(NULL),
     .expect = TDA_OK,
     .public_client = 1},
    {.name = "revoke: 401 to a secret-less request",
     .call = REVOKE,
     .faults = F(NULL),
     .expect = TDA_FORBIDDEN,
     .detail = "no client secret was sent",
     .public_client = 1,
     .require_secret = 1},
};
#pragma GCC diagnostic pop

#define N_ROWS (sizeof rows / sizeof rows[0])

/* ----------------------------------------------------------- per-row state */

typedef struct events {
    int retries; /* retry and slow-down events */
    long first_wait_ms;
} events;

static void on_event(const tda_event *ev, void *userdata)
{
    events *log = userdata;
    if (ev->kind == TDA_EVENT_RETRY || ev->kind == TDA_EVENT_SLOW_DOWN) {
        if (log->retries == 0)
            log->first_wait_ms = (long)ev->next_poll_in_ms;
        log->retries++;
    }
}

/* The secrets a detail must never show. */
typedef struct secrets {
    char *list[4];
    int n;
} secrets;

static void keep_secret(secrets *s, const char *value)
{
    if (value && s->n < 4)
        s->list[s->n++] = strdup(value);
}

static void check_detail(const fault_row *row, tda_client *c, tda_status got, const secrets *s)
{
    const char *detail = tda_client_error_detail(c);
    if (got != TDA_OK && got != row->expect)
        fail_msg("%s: got %s (%s), want %s", row->name, tda_status_name(got), detail,
                 tda_status_name(row->expect));
    if (got != row->expect)
        fail_msg("%s: got OK, want %s", row->name, tda_status_name(row->expect));
    if (row->detail && !strstr(detail, row->detail))
        fail_msg("%s: detail \"%s\" lacks \"%s\"", row->name, detail, row->detail);
    if (strstr(detail, EMU_CLIENT_SECRET))
        fail_msg("%s: the client secret is in the detail", row->name);
    for (int i = 0; i < s->n; i++)
        if (strstr(detail, s->list[i]))
            fail_msg("%s: a secret is in the detail \"%s\"", row->name, detail);
}

/* ---------------------------------------------------------------- the calls */

/* A single call's 429: the wait the server asked for (Retry-After or X-Ratelimit). */
static void check_retry_after(const fault_row *row, const tda_client *c)
{
    if (!row->min_wait_ms)
        return;
    long ra = tda_client_retry_after_ms(c);
    if (ra < row->min_wait_ms || ra > row->min_wait_ms + 1000)
        fail_msg("%s: Retry-After read as %ld ms, want %ld", row->name, ra, row->min_wait_ms);
}

static void run_code(const fault_row *row, tda_client *c, secrets *s)
{
    tda_code code;
    tda_status st = tda_generate_code(c, &code);
    keep_secret(s, code.device_code);
    check_detail(row, c, st, s);
    if (st == TDA_OK) {
        assert_non_null(code.user_code);
        assert_true(code.interval_ms == INTERVAL_MS);
    } else {
        assert_null(code.device_code); /* a failed call leaves nothing behind */
    }
    check_retry_after(row, c);
    tda_code_clear(&code);
}

static void run_poll(const fault_row *row, tda_client *c, const emu *e, const char *log_path,
                     secrets *s)
{
    tda_code code;
    assert_int_equal(tda_generate_code(c, &code), TDA_OK);
    keep_secret(s, code.device_code);
    events log = {0, -1};
    tda_poll_options o;
    memset(&o, 0, sizeof o);
    o.on_event = on_event;
    o.userdata = &log;
    o.slow_down_step_ms = 300;
    tda_token token;
    tda_status st = tda_poll_for_token(c, &code, &o, &token);
    keep_secret(s, token.access_token);
    check_detail(row, c, st, s);
    if (log.retries < row->min_retries || log.retries > row->max_retries)
        fail_msg("%s: %d retries, want %d to %d", row->name, log.retries, row->min_retries,
                 row->max_retries);
    /* The progress callback's account of the wait (what a display shows)... */
    if (row->min_wait_ms && log.first_wait_ms < row->min_wait_ms - 1)
        fail_msg("%s: announced a wait of %ld ms after the fault, want at least %ld", row->name,
                 log.first_wait_ms, row->min_wait_ms);
    /* ...and, measured in the emulator's log, the waits the engine really made: the
     * interval between all polls, the row's wait after each fault, and after a 429 the
     * raised interval for the rest of the flow. */
    long life_ms = row->short_life ? 1000 : 30000;
    int polls = emu_check_poll_gaps(log_path, "/oauth/device/token", INTERVAL_MS, row->min_wait_ms,
                                    row->min_wait_ms, row->name);
    /* At most one request per interval over the code's whole life, plus the last. */
    if (polls > life_ms / INTERVAL_MS + 1)
        fail_msg("%s: %d polls in a life of %ld ms", row->name, polls, life_ms);
    assert_int_equal(emu_get_stats(e).early_polls, 0);
    if (st == TDA_OK)
        assert_non_null(token.refresh_token);
    else
        assert_null(token.access_token);
    tda_token_clear(&token);
    tda_code_clear(&code);
}

/* A clean login first (faults target refresh and revoke requests only). */
static void login(tda_client *c, tda_token *token, secrets *s)
{
    tda_code code;
    assert_int_equal(tda_generate_code(c, &code), TDA_OK);
    assert_int_equal(tda_poll_for_token(c, &code, NULL, token), TDA_OK);
    keep_secret(s, code.device_code);
    keep_secret(s, token->access_token);
    keep_secret(s, token->refresh_token);
    tda_code_clear(&code);
}

/* trusted: a client the emulator always accepts, for the login and the "still works" check. */
static void run_refresh(const fault_row *row, tda_client *c, tda_client *trusted, secrets *s)
{
    tda_token old, fresh, again;
    login(trusted, &old, s);
    tda_status st = tda_refresh_token(c, old.refresh_token, &fresh);
    check_detail(row, c, st, s);
    check_retry_after(row, c);
    if (st == TDA_OK) {
        assert_string_not_equal(fresh.refresh_token, old.refresh_token);
    } else {
        assert_null(fresh.refresh_token);
    }
    /* Is the stored (old) pair still good? */
    tda_status second = tda_refresh_token(trusted, old.refresh_token, &again);
    tda_status want = row->refresh_token == KEPT ? TDA_OK : TDA_INVALID_GRANT;
    if (second != want)
        fail_msg("%s: refreshing again with the old token gave %s, want %s", row->name,
                 tda_status_name(second), tda_status_name(want));
    tda_token_clear(&again);
    tda_token_clear(&fresh);
    tda_token_clear(&old);
}

static void run_revoke(const fault_row *row, tda_client *c, tda_client *trusted, secrets *s)
{
    tda_token token;
    login(trusted, &token, s);
    tda_status st = tda_revoke_token(c, token.access_token);
    check_detail(row, c, st, s);
    check_retry_after(row, c);
    tda_token_clear(&token);
}

/* ------------------------------------------------------- many flows, one IP */

#define MULTI_FLOWS 5

typedef struct multi_outcome {
    int calls;
    tda_status status;
} multi_outcome;

static void multi_done(tda_flow *flow, tda_status status, tda_token *token, void *userdata)
{
    (void)flow;
    multi_outcome *o = userdata;
    o->calls++;
    o->status = status;
    tda_token_clear(token);
}

/*
 * Five flows in one engine over one connection, so no other poll is on the
 * wire when the faulted answer arrives. A 429 that speaks for the IP: no poll
 * reaches the emulator within min_wait_ms of it. A bare one: the others go
 * on polling long before the faulted flow's own next poll (2.2 s later).
 */
static void run_multi(const fault_row *row, tda_client *c, const emu *e, const char *log_path,
                      secrets *s)
{
    tda_multi *m = tda_multi_new(c);
    assert_non_null(m);
    assert_int_equal(tda_multi_set_max_connections(m, 1), TDA_OK);
    tda_poll_options o;
    memset(&o, 0, sizeof o);
    o.slow_down_step_ms = row->min_wait_ms ? 300 : 2000;
    tda_code codes[MULTI_FLOWS];
    multi_outcome out[MULTI_FLOWS];
    memset(out, 0, sizeof out);
    for (int i = 0; i < MULTI_FLOWS; i++) {
        assert_int_equal(tda_generate_code(c, &codes[i]), TDA_OK);
        keep_secret(s, codes[i].device_code);
        assert_non_null(tda_multi_add(m, &codes[i], &o, multi_done, &out[i]));
    }
    int64_t give_up = tda_monotonic_ms() + 30000;
    while (tda_multi_flow_count(m) > 0) {
        assert_int_equal(tda_multi_wait(m, 1000), TDA_OK);
        assert_true(tda_monotonic_ms() < give_up);
    }
    for (int i = 0; i < MULTI_FLOWS; i++)
        if (out[i].calls != 1 || out[i].status != row->expect)
            fail_msg("%s: flow %d ended %d times, last with %s", row->name, i, out[i].calls,
                     tda_status_name(out[i].status));
    assert_int_equal(emu_get_stats(e).early_polls, 0);
    emu_logged t[64];
    int n = emu_read_log(log_path, "/oauth/device/token", t, 64);
    assert_true(n > 3);
    long fault_at = t[2].at_ms; /* the fault hit the third poll */
    int during = 0, soon = 0;
    for (int i = 3; i < n; i++) {
        during += t[i].at_ms < fault_at + row->min_wait_ms; /* after it in the log: sent after it */
        soon += t[i].at_ms > fault_at && t[i].at_ms < fault_at + 2000;
    }
    if (row->min_wait_ms && during)
        fail_msg("%s: %d polls within %ld ms of the 429, which held back every flow", row->name,
                 during, row->min_wait_ms);
    if (!row->min_wait_ms && !soon)
        fail_msg("%s: no other flow polled within 2 s of a bare 429 to one", row->name);
    tda_multi_free(m);
    for (int i = 0; i < MULTI_FLOWS; i++)
        tda_code_clear(&codes[i]);
}

/* A public client's requests carry no secret: the emulator's log says which did. */
static void check_no_secret_sent(const fault_row *row, const char *log_path)
{
    emu_logged lines[64];
    int n = emu_read_log(log_path, NULL, lines, 64);
    for (int i = 0; i < n; i++)
        if (lines[i].secret == 1 && !row->require_secret)
            fail_msg("%s: request %d (%s) carried a client secret", row->name, i + 1,
                     lines[i].path);
}

static void run_row(const fault_row *row)
{
    char log_path[] = "/tmp/tda-faults-XXXXXX";
    int fd = mkstemp(log_path);
    assert_true(fd >= 0);
    close(fd);
    const char *options[16];
    int n = 0;
    options[n++] = "--interval";
    options[n++] = INTERVAL;
    options[n++] = "--approve-after-polls";
    options[n++] = "1";
    options[n++] = "--code-life";
    options[n++] = row->short_life ? "1" : "30";
    options[n++] = "--log";
    options[n++] = log_path;
    for (int i = 0; row->faults[i]; i++) {
        options[n++] = "--fault";
        options[n++] = row->faults[i];
    }
    if (row->require_secret)
        options[n++] = "--require-secret";
    options[n] = NULL;
    emu e;
    emu_start_argv(&e, options);
    tda_client *c = row->public_client ? emu_public_client(&e) : emu_client(&e);
    tda_client *trusted = row->require_secret ? emu_client(&e) : c;
    /* Long enough for any honest answer, short enough that a stall costs little. */
    assert_int_equal(tda_client_set_timeout_ms(c, 3 * emu_prompt_ms()), TDA_OK);
    secrets s = {{NULL}, 0};
    switch (row->call) {
    case CODE:
        run_code(row, c, &s);
        break;
    case POLL:
        run_poll(row, c, &e, log_path, &s);
        break;
    case REFRESH:
        run_refresh(row, c, trusted, &s);
        break;
    case REVOKE:
        run_revoke(row, c, trusted, &s);
        break;
    case MULTI:
        run_multi(row, c, &e, log_path, &s);
        break;
    }
    if (row->public_client)
        check_no_secret_sent(row, log_path);
    /* One call, one request: never re-sent, not even by libcurl on a dead connection. */
    static const char *const single[] = {
        [CODE] = "/oauth/device/code", [REFRESH] = "/oauth/token", [REVOKE] = "/oauth/revoke"};
    if (row->call != POLL && row->call != MULTI) {
        emu_logged r[8];
        int want = row->call == REFRESH ? 2 : 1; /* the refresh rows refresh twice */
        int got = emu_read_log(log_path, single[row->call], r, 8);
        if (got != want)
            fail_msg("%s: %d requests to %s, want %d", row->name, got, single[row->call], want);
    }
    if (trusted != c)
        tda_client_free(trusted);
    tda_client_free(c);
    emu_stop(&e);
    unlink(log_path);
    for (int i = 0; i < s.n; i++)
        free(s.list[i]);
}

static void test_row(void **state)
{
    run_row(*state);
}

int main(void)
{
    struct CMUnitTest tests[N_ROWS];
    for (size_t i = 0; i < N_ROWS; i++) {
        tests[i].name = rows[i].name;
        tests[i].test_func = test_row;
        tests[i].setup_func = NULL;
        tests[i].teardown_func = NULL;
        tests[i].initial_state = (void *)(uintptr_t)&rows[i];
    }
    return cmocka_run_group_tests_name("fault matrix", tests, NULL, NULL);
}
