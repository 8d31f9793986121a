/* SPDX-License-Identifier: Apache-2.0 */
/*
 * traktdeviceauth: let a user authorize a program on Trakt.tv by the OAuth
 * device method. The program shows a short code, the user types it at
 * https://trakt.tv/activate on another device, and the program receives an
 * access token and a refresh token.
 *
 * This header is the whole public API and its reference documentation.
 *
 * Set-up: call tda_global_init() once at start, before any other thread
 * exists, and tda_global_cleanup() at the end (see there). Loading the
 * library changes nothing in the process by itself.
 *
 * Threads: a tda_client is used by one thread at a time. tda_client_cancel()
 * is the one call that may come from any thread or from a signal handler.
 * Different clients are independent once tda_global_init() has run (it does
 * libcurl's global init, which libcurl requires before threads use it).
 *
 * Memory: every string in a result struct is owned by that struct and freed
 * (after being wiped, since most are secrets) by its _clear function.
 *
 * Binary compatibility: the structs a program allocates (tda_code, tda_token,
 * tda_poll_options, tda_token_age, tda_get_info, tda_store_ops) end in
 * reserved room, which later versions fill with new members without changing
 * the size. Zero them before use (= {0}, or memset) and a program built
 * against this version keeps working with a later libtraktdeviceauth1, whose
 * new members then read as zero: their defaults. doc/symbols-in-versions
 * lists the version that added each function.
 */
#ifndef TRAKTDEVICEAUTH_H
#define TRAKTDEVICEAUTH_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(TDA_STATIC)
#define TDA_API
#elif defined(__GNUC__)
#define TDA_API __attribute__((visibility("default")))
#else
#define TDA_API
#endif

/* TDA_VERSION_STRING, TDA_VERSION_NUM and TDA_VERSION_AT_LEAST(): the headers' version. */
#include "traktdeviceauth_version.h"

/* The version of the library actually loaded, e.g. "0.1.0". */
TDA_API const char *tda_version(void);
/* The same as a number in TDA_VERSION_NUM's form (0xMMmmpp), for run-time checks. */
TDA_API unsigned int tda_version_num(void);

/* ------------------------------------------------------------------ status */

/*
 * Every call reports one of these. Values are stable and never reused.
 *
 * The one table of statuses (the idea of libuv's UV_ERRNO_MAP): the enum
 * below, tda_status_name(), tda_strerror() and how polling treats each
 * status are all made from it, and nothing restates it. Columns: name (the
 * enum's without TDA_), value (the ABI: never changed, never reused), kind,
 * message (what tda_strerror() says). kind is how the polling policy treats
 * the status when an answer brings it, so changing that means changing the
 * kind here and nowhere else:
 *   SUCCESS    the flow is done (a token)
 *   WAIT       keep waiting: poll again after the interval
 *   SLOW_DOWN  poll again after a longer interval, kept for the rest of the flow
 *   TRANSIENT  waiting and trying again can help: retry with backoff
 *   FINAL      ends a flow at once; retrying the same request cannot help
 * What each HTTP status and transfer failure maps to is src/status_rules.c.
 * A program may expand the table with its own X macro, e.g. for a switch.
 */
#define TDA_STATUS_MAP(X)                                                                          \
    X(OK, 0, SUCCESS, "success")                                                                   \
    /* 400 on a poll */                                                                            \
    X(PENDING, 1, WAIT, "the user has not entered the code yet")                                   \
    /* 429: polling or calling too fast */                                                         \
    X(SLOW_DOWN, 2, SLOW_DOWN, "too many requests: slow down")                                     \
    /* 418 */                                                                                      \
    X(DENIED, 3, FINAL, "the user denied access")                                                  \
    /* 410, or the code outlived expires_in */                                                     \
    X(EXPIRED, 4, FINAL, "the code expired before the user entered it: get a new code")            \
    /* 409 */                                                                                      \
    X(ALREADY_USED, 5, FINAL, "a token was already issued for this code: get a new code")          \
    /* 404 on a poll */                                                                            \
    X(INVALID_DEVICE_CODE, 6, FINAL, "the device code is not known to the server")                 \
    /* refresh token spent, revoked or unknown: log in again */                                    \
    X(INVALID_GRANT, 7, FINAL,                                                                     \
      "the refresh token is no longer valid: the user must authorize again")                       \
    /* 401/403: bad client id or secret, unapproved app, Cloudflare block */                       \
    X(FORBIDDEN, 8, FINAL,                                                                         \
      "forbidden: bad client id or secret, unapproved app, or blocked by Cloudflare")              \
    /* 500 and other 5xx */                                                                        \
    X(SERVER_ERROR, 9, TRANSIENT, "the server reported an internal error")                         \
    /* 502, 503, 504 */                                                                            \
    X(OVERLOADED, 10, TRANSIENT, "the server is overloaded: try again later")                      \
    /* 520, 521, 522 */                                                                            \
    X(CLOUDFLARE, 11, TRANSIENT, "Cloudflare could not reach the server")                          \
    /* an HTTP status Trakt does not document for this call */                                     \
    X(UNEXPECTED_STATUS, 12, FINAL, "the server answered with an unexpected HTTP status")          \
    /* could not connect, connection dropped */                                                    \
    X(NETWORK, 13, TRANSIENT,                                                                      \
      "network error: could not reach the server or the connection dropped")                       \
    /* answer malformed, oversized, or missing a field */                                          \
    X(BAD_RESPONSE, 14, FINAL, "the server's answer was malformed")                                \
    /* one request got no complete answer in time */                                               \
    X(TIMED_OUT, 15, TRANSIENT, "the request timed out")                                           \
    /* tda_client_cancel() was called */                                                           \
    X(CANCELLED, 16, FINAL, "cancelled")                                                           \
    /* the caller passed something unusable */                                                     \
    X(INVALID_ARGUMENT, 17, FINAL, "invalid argument")                                             \
    X(NO_MEMORY, 18, FINAL, "out of memory")                                                       \
    /* a local file or system call failed */                                                       \
    X(IO, 19, FINAL, "input/output error")                                                         \
    /* the caller's own deadline passed before the user approved */                                \
    X(DEADLINE, 20, FINAL, "the caller's deadline passed before the user approved")                \
    /* bad certificate, or no TLS at all (an https URL for a plain-http server) */                 \
    X(TLS, 21, FINAL,                                                                              \
      "TLS failed: the certificate could not be verified, or the server does not speak TLS")       \
    /* no token file (or saved code) at that path: log in first */                                 \
    X(FILE_MISSING, 22, FINAL, "no token file: log in first")                                      \
    /* token or code file: a symlink, not ours, or others can read it */                           \
    X(FILE_INSECURE, 23, FINAL, "the token file is a symlink, not yours, or readable by others")   \
    /* token or code file not valid (a code: or from the future) */                                \
    X(FILE_CORRUPT, 24, FINAL, "the token file does not hold a valid token")                       \
    /* the token (or saved code) belongs to another client id */                                   \
    X(WRONG_CLIENT, 25, FINAL, "the saved token belongs to another client id")                     \
    /* another process held the token's lock past the timeout */                                   \
    X(LOCKED, 26, TRANSIENT, "another process holds the token's lock: try again later")            \
    /* no room to save a token or code: disk or quota full */                                      \
    X(NO_SPACE, 27, FINAL, "no room to save the token: the disk or a quota is full")               \
    /* this build left the feature out (the PostgreSQL store) */                                   \
    X(UNSUPPORTED, 28, FINAL, "this build of the library was made without that feature")

typedef enum tda_status {
#define TDA_STATUS_ENUM_ROW_(name, value, kind, message) TDA_##name = value,
    TDA_STATUS_MAP(TDA_STATUS_ENUM_ROW_)
#undef TDA_STATUS_ENUM_ROW_
} tda_status;

/* A one-line English message; never NULL, also for unknown values. */
TDA_API const char *tda_strerror(tda_status s);
/* The enum's name without prefix, e.g. "SLOW_DOWN"; "UNKNOWN" for unknown values. */
TDA_API const char *tda_status_name(tda_status s);
/* 1 when waiting and trying again can help (5xx, 52x, network, timeout). */
TDA_API int tda_status_is_transient(tda_status s);

/* ------------------------------------------------------------------ set-up */

/*
 * Process-wide set-up, the way curl_global_init() and ares_library_init() do
 * it, and nothing of it happens unless the program calls this:
 *  - libcurl's global init (curl_global_init), which a program with threads
 *    needs before they create clients; no need to link libcurl for it;
 *  - jansson's allocations routed through the library's allocator, so that
 *    jansson running out of memory is reported as TDA_NO_MEMORY. This is
 *    skipped when the program has given jansson an allocator of its own
 *    (json_set_alloc_funcs) before: its choice wins. The library's
 *    allocator is the C library's malloc and free, so objects the program's
 *    own jansson code makes stay compatible.
 * Counted: safe to call more than once, each call matched by a
 * tda_global_cleanup(); safe from several threads at once, though libcurl
 * wants its own init done before other threads run. TDA_NO_MEMORY when
 * libcurl's init failed (nothing is set up then).
 *
 * Without it everything still works, libcurl initialising itself on first
 * use (not safe while threads run), and out of memory still never crashes:
 * only a failed allocation inside jansson is then reported as a malformed
 * answer or file (TDA_BAD_RESPONSE, TDA_FILE_CORRUPT) or, when saving, as
 * TDA_INVALID_ARGUMENT, instead of TDA_NO_MEMORY.
 */
TDA_API tda_status tda_global_init(void);
/*
 * Undoes tda_global_init() when its last call is matched: jansson's allocator
 * goes back to malloc and free (unless the program set another since) and
 * libcurl's global cleanup runs. Call it at the end, after every client,
 * engine and jansson object is gone. Extra calls do nothing.
 */
TDA_API void tda_global_cleanup(void);

/* ------------------------------------------------------------------ client */

typedef struct tda_client tda_client; /* opaque */

/*
 * A client for one Trakt application. client_id is required. client_secret
 * is optional and usually NULL: since July 2026 Trakt marks it deprecated
 * for sign-in and says to send it only from your own server, never from a
 * TV, desktop, mobile or plugin app, where it is not secret. Without one,
 * every call works (codes, polling, refresh, revoke) and no request carries
 * a client_secret member at all; with one, it is sent with each request
 * except the device-code request, which never had it. If Trakt still wants
 * the secret of an older app, its 401/403 detail says so. Both strings are
 * copied; the copy of the secret is wiped when the client is freed.
 * Returns NULL when client_id is NULL or empty, or memory or libcurl set-up fails.
 */
TDA_API tda_client *tda_client_new(const char *client_id, const char *client_secret);
/* Frees the client and closes its connection. NULL is fine. */
TDA_API void tda_client_free(tda_client *c);

/*
 * Where OAuth requests go; default "https://auth.trakt.tv". Any https URL is
 * accepted; plain http only for loopback hosts (127.0.0.0/8, ::1, localhost),
 * which is where the emulator runs. A trailing slash is ignored.
 */
#define TDA_DEFAULT_BASE_URL "https://auth.trakt.tv"
TDA_API tda_status tda_client_set_base_url(tda_client *c, const char *url);
TDA_API const char *tda_client_base_url(const tda_client *c);

/*
 * The User-Agent sent with every request, ideally "yourapp/1.2". Cloudflare in
 * front of Trakt blocks requests without a specific one. Default
 * "traktdeviceauth/<version>". Must be printable ASCII, 1 to 256 bytes.
 */
TDA_API tda_status tda_client_set_user_agent(tda_client *c, const char *ua);

/*
 * Verify the server's TLS certificate against the CA certificates in this PEM
 * file instead of the system's bundle: for a proxy that inspects TLS, or a
 * test server with its own CA. Verification itself (chain and host name) is
 * always on and cannot be turned off. TDA_INVALID_ARGUMENT when path is NULL
 * or not a readable regular file.
 */
TDA_API tda_status tda_client_set_ca_file(tda_client *c, const char *path);

/* How long one request may take in all, in ms (default 30000, minimum 1). */
TDA_API tda_status tda_client_set_timeout_ms(tda_client *c, long ms);

/*
 * The redirect_uri a refresh sends: "the URI specified in your app settings",
 * says Trakt. Default "urn:ietf:wg:oauth:2.0:oob", what device apps have
 * registered; whether Trakt checks it on refresh is not confirmed, so an app
 * registered with another URI can give it here. Printable ASCII, 1 to 1024 bytes.
 */
#define TDA_DEFAULT_REDIRECT_URI "urn:ietf:wg:oauth:2.0:oob"
TDA_API tda_status tda_client_set_redirect_uri(tda_client *c, const char *uri);

/*
 * The HTTP status of the answer that ended the last call; 0 when none did: a
 * network failure, a bad argument, or a poll that ended by cancel, deadline
 * or the code's expiry between answers. Never a previous call's status.
 */
TDA_API long tda_client_http_status(const tda_client *c);
/*
 * Retry-After of the last answer in ms, or -1 when it had none. Useful after
 * a single call returned TDA_SLOW_DOWN or TDA_OVERLOADED.
 */
TDA_API long tda_client_retry_after_ms(const tda_client *c);
/*
 * A human-readable account of the last failure, e.g. "HTTP 403 from
 * Cloudflare (an HTML page, not Trakt's JSON) on POST /oauth/device/code:
 * forbidden: ...; set a specific User-Agent". It already says what
 * tda_strerror() says, so print it instead of that message, not after it:
 *     const char *d = tda_client_error_detail(c);
 *     fprintf(stderr, "%s\n", *d ? d : tda_strerror(st));
 * A rate limit's detail says how long to wait. Never contains the client
 * secret, a device code or a token. "" after success. Valid until the next
 * call on this client.
 */
TDA_API const char *tda_client_error_detail(const tda_client *c);

/*
 * Cancels what the client is doing: a request in flight or a wait between
 * polls ends within milliseconds with TDA_CANCELLED. Safe from any thread and
 * from a signal handler (it stores a flag and writes one byte to a pipe).
 * The client stays cancelled, so a cancel that lands between two calls is not
 * lost: every call returns TDA_CANCELLED until tda_client_reset_cancel().
 */
TDA_API void tda_client_cancel(tda_client *c);
TDA_API void tda_client_reset_cancel(tda_client *c);

/* ------------------------------------------------------------------ results */

/*
 * What POST /oauth/device/code answered. Show user_code and verification_url.
 *
 * Clocks: a code's life runs on at Trakt while the device sleeps, so it is
 * measured on tda_boottime_ms() (CLOCK_BOOTTIME where the system has it,
 * which counts suspended time; CLOCK_MONOTONIC otherwise); a laptop or box
 * that wakes after the code died stops at once instead of polling it. The
 * least spacing between polls (interval_ms) is measured on CLOCK_MONOTONIC,
 * which stops during suspend, so no poll is ever early. Only a saved code
 * (tda_code_save) uses the wall clock, the one clock that survives a reboot.
 */
typedef struct tda_code {
    char *device_code;      /* secret: never show or log it */
    char *user_code;        /* what the user types, e.g. "5055CC52" */
    char *verification_url; /* where they type it, e.g. "https://trakt.tv/activate" */
    /* Trakt sends whole seconds; kept in ms so a test server can use fractions. */
    int64_t expires_in_ms; /* how long the code lives from issued_at_ms */
    int64_t interval_ms;   /* the least time between two polls (CLOCK_MONOTONIC) */
    /*
     * tda_boottime_ms() when the answer arrived. 0 means unknown: the code's
     * life then counts from the start of polling. A code loaded after a
     * reboot was issued before this boot began, so this may be negative.
     */
    int64_t issued_at_ms;
    /* The same moment by the wall clock, Unix time in ms; 0 when unknown. */
    int64_t issued_at_unix_ms;
    /*
     * The client id the code was issued to: tda_generate_code fills it from
     * the client and the code file keeps it, so a code of another application
     * is recognised (tda_code_load). May be NULL.
     */
    char *client_id;
    /* Room for members later versions add without changing the size: keep it zero. */
    void *reserved[4];
} tda_code;

/*
 * When a token arrived, by this machine's clocks. Every token the calls return
 * is stamped as it arrives and the token file keeps the stamp, because whether
 * a token is due is judged from the time elapsed since then (tda_token_age_of),
 * never from Trakt's created_at read against a local clock that may be years
 * off. All zero means unknown (a file saved by an older version).
 */
typedef struct tda_received {
    int64_t wall_s;    /* CLOCK_REALTIME, Unix seconds: possibly wrong, usually steady */
    int64_t uptime_ms; /* CLOCK_BOOTTIME in ms: exact, counts suspend, restarts at boot */
    char boot_id[40];  /* the kernel's boot id ("" unknown): which boot uptime_ms counts in */
    char host[20];     /* a hash of /etc/machine-id ("" unknown): which machine */
} tda_received;

/* A token pair. Expiry is created_at + expires_in; no lifetime is assumed. */
typedef struct tda_token {
    char *access_token;  /* secret */
    char *token_type;    /* "bearer" */
    char *refresh_token; /* secret, single use */
    char *scope;         /* e.g. "public" */
    int64_t created_at;  /* Unix seconds, as Trakt sent it */
    int64_t expires_in;  /* seconds */
    int64_t expires_at;  /* Unix seconds: created_at + expires_in */
    /*
     * The client id the token was issued to. Trakt does not send it: the calls
     * fill it from the client, and the token file keeps it, so a token of
     * another application is recognised (tda_token_load). May be NULL.
     */
    char *client_id;
    tda_received received; /* when it arrived here (see tda_token_age_of) */
    /* Room for members later versions add without changing the size: keep it zero. */
    void *reserved[4];
} tda_token;

/* Frees every string after wiping it and zeroes the struct. NULL is fine. */
TDA_API void tda_code_clear(tda_code *code);
TDA_API void tda_token_clear(tda_token *token);

/* CLOCK_MONOTONIC in milliseconds: the clock of the interval between polls. */
TDA_API int64_t tda_monotonic_ms(void);
/*
 * The clock of a code's life and of deadlines, in milliseconds:
 * CLOCK_BOOTTIME where the system has it (it counts time spent suspended),
 * else CLOCK_MONOTONIC. tda_code.issued_at_ms is on this clock.
 */
TDA_API int64_t tda_boottime_ms(void);
/*
 * How much of the code's life is left now, in ms (0 once it has expired), by
 * tda_boottime_ms(): for a program that resumes a saved code and must decide
 * whether to show it. A code with issued_at_ms 0 has all of expires_in_ms.
 */
TDA_API int64_t tda_code_remaining_ms(const tda_code *code);

/* ------------------------------------------------------------------ calls */

/*
 * POST /oauth/device/code: a new code for the user to enter. One request, no
 * retry. On success *out owns new strings; on failure *out is zeroed.
 * The same rule holds for every call below that fills a struct.
 * TDA_SLOW_DOWN (429): wait tda_client_retry_after_ms() before asking again
 * (Cloudflare has answered this call with Retry-After: 143); when that is -1,
 * back off exponentially with jitter, a few times at most (Trakt's guide).
 * Retrying sooner only extends the block.
 */
TDA_API tda_status tda_generate_code(tda_client *c, tda_code *out);

/*
 * POST /oauth/device/token once. TDA_OK fills *out; TDA_PENDING means ask
 * again after code->interval_ms. Most programs want tda_poll_for_token().
 */
TDA_API tda_status tda_request_token(tda_client *c, const tda_code *code, tda_token *out);

/* What happened during tda_poll_for_token(), for a progress display. */
typedef enum tda_event_kind {
    TDA_EVENT_PENDING = 1,   /* the user has not entered the code yet */
    TDA_EVENT_SLOW_DOWN = 2, /* 429: the interval grew from old_interval_ms to interval_ms */
    TDA_EVENT_RETRY = 3,     /* a transient error (status, http_status); retry at next_poll_in_ms */
    TDA_EVENT_SUCCESS = 4,   /* the token arrived */
    /*
     * Renewal (tda_poll_options.renewals): the code expired unused and this
     * new one replaces it; event->code holds it. Show the new user code (and
     * redraw a QR code); save it if the program saves codes. A failed request
     * for a new code is reported as TDA_EVENT_RETRY with expires_in_ms 0.
     */
    TDA_EVENT_NEW_CODE = 5
} tda_event_kind;

/* Durations from the moment of the event; the code's life is counted as tda_code says. */
typedef struct tda_event {
    tda_event_kind kind;
    int polls;               /* requests sent so far in this flow */
    tda_status status;       /* what the last request returned */
    long http_status;        /* its HTTP status, 0 when none */
    int64_t interval_ms;     /* the interval now in force */
    int64_t old_interval_ms; /* before a slow-down; equals interval_ms otherwise */
    int64_t next_poll_in_ms; /* from now, on CLOCK_MONOTONIC; -1 after success */
    int64_t expires_in_ms;   /* the code's remaining life from now (boot clock: counts sleep) */
    int64_t late_ms;         /* how long after its due time the answered request was sent */
    int renewals;            /* new codes received so far in this flow */
    /*
     * TDA_EVENT_NEW_CODE: the new code, issued_at_ms and client_id filled as
     * by tda_generate_code; valid only during the callback (copy or save it
     * there). NULL for other events.
     */
    const tda_code *code;
} tda_event;

typedef void (*tda_event_fn)(const tda_event *event, void *userdata);

typedef struct tda_poll_options {
    /*
     * Give up with TDA_DEADLINE after this many ms; 0: only the code's life
     * bounds the wait. Measured on tda_boottime_ms(), like the code's life:
     * time spent suspended counts, so a deadline or a code life that passed in
     * sleep ends the flow at the first wake-up after it (within one interval,
     * or one backoff, of waking), before any poll.
     */
    int64_t timeout_ms;
    /* Called on each answer from the polling thread; may be NULL. */
    tda_event_fn on_event;
    void *userdata;
    /*
     * How much a 429 adds to the interval; 0 means the default of 5000 ms
     * (RFC 8628's rule, as Trakt names no amount). A Retry-After larger than
     * interval + step wins. The raised interval stays for the rest of the flow.
     */
    int64_t slow_down_step_ms;
    /*
     * Renewal, for screens nobody may be watching: when a code expires unused,
     * fetch a new one and go on polling that, up to this many times
     * (TDA_RENEW_UNLIMITED: until cancelled or timeout_ms passes); 0: end with
     * TDA_EXPIRED. Each new code arrives as a TDA_EVENT_NEW_CODE event. Code
     * requests keep every rate rule of polls: the first waits one interval
     * after the flow's last request; 429 waits Retry-After (or backs off
     * exponentially with jitter without one), as do 5xx and network errors;
     * after 6 failed code requests in a row, or a final answer such as 403,
     * the flow ends with that status; in an engine the IP-wide pause and the
     * cap of tda_multi_set_max_rate() hold them back like polls, and their
     * 429s pause the engine like a poll's. timeout_ms bounds the whole flow.
     */
    int renewals;
    /* Room for members later versions add without changing the size: keep it zero. */
    void *reserved[4];
} tda_poll_options;

#define TDA_RENEW_UNLIMITED (-1)

/*
 * Polls until the user approves (TDA_OK, *out filled) or the flow ends:
 * denied, expired, already used, invalid code, forbidden and unexpected
 * answers end it at once; 429 slows it down; transient errors (5xx, 52x,
 * network, timeouts) are retried with capped exponential backoff and jitter,
 * never sooner than the interval, while the code is valid. When the code
 * expires after a transient error, that error is returned; after pending
 * answers, TDA_EXPIRED (unless opts->renewals allows a new code). Never polls
 * sooner than the interval after the previous answer, nor sooner than one
 * interval after the call starts. Waiting costs no CPU. opts may be NULL.
 *
 * A code loaded with tda_code_load() is polled like a fresh one: its life
 * counts from its issue, so one that expired while the program was down ends
 * at once with TDA_EXPIRED and no request; the wait of one interval before
 * the first poll covers a poll the program sent just before it was stopped.
 */
TDA_API tda_status tda_poll_for_token(tda_client *c, const tda_code *code,
                                      const tda_poll_options *opts, tda_token *out);

/*
 * POST /oauth/token with grant_type refresh_token. Refresh tokens are single
 * use: on TDA_OK save *out (the new pair) before anything else, since the old
 * refresh token is now spent. TDA_INVALID_GRANT means the user must authorize
 * again: the token was spent, revoked, or issued before Trakt's July 2026
 * migration (Trakt answers 400 "invalid_grant", "session not found"); the
 * detail keeps Trakt's error_description. Any transient status means keep the
 * stored token and try later. A token belongs to one installation: a copy
 * refreshed on a second machine spends the pair the first one holds.
 */
TDA_API tda_status tda_refresh_token(tda_client *c, const char *refresh_token, tda_token *out);

/* POST /oauth/revoke: the access token (and its refresh token) stop working. */
TDA_API tda_status tda_revoke_token(tda_client *c, const char *access_token);

/* ------------------------------------------------------------------ many flows, one thread */

/*
 * The non-blocking engine: any number of device flows polled from one thread,
 * for programs with an event loop. Each flow follows exactly the rules of
 * tda_poll_for_token (which is this engine run to completion). A waiting flow
 * holds no connection and no curl handle, only its small state; requests
 * borrow one of a few pooled handles, and connections are kept alive and
 * shared by all flows.
 *
 * Use: tda_multi_add() each code, then drive the engine one of three ways:
 *  - an event loop (libuv, GLib, epoll): the callback API below. The engine
 *    says which descriptor to watch for what, and when to call it back, as
 *    each changes; the loop reports each ready descriptor and each expired
 *    timer with tda_multi_socket_action(). No descriptor is polled twice.
 *  - a poll(2) loop of its own: watch tda_multi_fds() for readiness and
 *    tda_multi_timeout_ms() for time, and call tda_multi_perform() when
 *    either fires (the snapshot API: simple, but re-lists every descriptor).
 *  - no loop at all: tda_multi_wait() does the waiting.
 * Everything happens on the calling thread, and every tda_multi_ and tda_flow_
 * function must be called from that one thread. tda_flow_cancel() and
 * tda_multi_cancel_all() end flows at the next perform; so does
 * tda_client_cancel(), which alone is safe from any thread or a signal
 * handler (it also wakes tda_multi_wait()).
 */
typedef struct tda_multi tda_multi; /* opaque */
typedef struct tda_flow tda_flow;   /* opaque; owned by its multi */

/*
 * Called once when a flow ends, from tda_multi_perform(), with what
 * tda_poll_for_token would have returned. On TDA_OK *token is filled and the
 * callee owns it (tda_token_clear). The flow is freed when this returns;
 * tda_flow_error_detail(flow) is valid until then. The callback may add and
 * cancel flows, but must not free the multi.
 */
typedef void (*tda_flow_done_fn)(tda_flow *flow, tda_status status, tda_token *token,
                                 void *userdata);

/*
 * An engine using the client's settings (id, secret if any, base URL, User-Agent,
 * CA file, timeout, log): set them before, since the base URL and CA file
 * are read here. The client must outlive it, and must not be used for
 * blocking calls from another thread meanwhile. NULL on no memory.
 */
TDA_API tda_multi *tda_multi_new(tda_client *c);
/* Frees the engine; remaining flows are dropped without a callback. NULL is fine. */
TDA_API void tda_multi_free(tda_multi *m);
/* How many requests may be in flight at once, each on its own connection (default 4, 1 to 64). */
TDA_API tda_status tda_multi_set_max_connections(tda_multi *m, int n);

/*
 * All flows of an engine leave from one IP, and Trakt and Cloudflare limit
 * the IP, not a code: a 429 that carries Retry-After or X-Ratelimit, or that
 * is Cloudflare's page (HTML, or its plain "error code: 1015"), pauses every
 * flow of the engine until that wait has passed (Cloudflare's page without a
 * wait: until the next request of the flow it answered). This holds for a
 * 429 to a renewal's code request as for one to a poll, and the pause and
 * the cap hold back code requests as they hold back polls. A bare 429 from
 * the poll endpoint only slows its own flow (+5 s, kept). Nothing is ever sent
 * early because of a pause; flows whose codes expire meanwhile end with
 * TDA_EXPIRED as usual (or, with renewals left, ask for a new code once the
 * pause is over), and those due when it ends go in the order they became due.
 *
 * On top of that, an optional cap: at most per_second requests in any one
 * second (0, the default, turns it off; at most 100000). A request counts
 * from when it is sent until one second after its answer (or failure), so
 * the cap holds at the server however long the network takes. Requests held
 * back by the cap are sent in the order they became due, so none starves,
 * and never earlier than their own interval allows.
 */
TDA_API tda_status tda_multi_set_max_rate(tda_multi *m, int per_second);

/*
 * Starts polling a code (copied), fresh or loaded with tda_code_load. opts as
 * for tda_poll_for_token, may be NULL (it is read here, not kept); with
 * renewals, a flow's requests for new codes share the pooled connections,
 * the queue and the pace with every poll. Its on_event runs from
 * tda_multi_perform() and, like the done callback, must not free the multi.
 * NULL on bad arguments (no device code) or no memory.
 */
TDA_API tda_flow *tda_multi_add(tda_multi *m, const tda_code *code, const tda_poll_options *opts,
                                tda_flow_done_fn done, void *userdata);
/* Ends the flow with TDA_CANCELLED at the next perform; a request in flight is abandoned. */
TDA_API void tda_flow_cancel(tda_flow *f);
TDA_API void tda_multi_cancel_all(tda_multi *m);
/* A secret-free account of why the flow failed; "" after success. */
TDA_API const char *tda_flow_error_detail(const tda_flow *f);
/* Flows not yet ended. */
TDA_API size_t tda_multi_flow_count(const tda_multi *m);

/*
 * The descriptors to watch: copies up to max of them into fds (events set,
 * revents 0) and returns how many there are in all, which may be more than
 * max: a return above max means the array was too short and the rest were
 * not copied. fds NULL or max 0 asks only for the count.
 */
TDA_API int tda_multi_fds(tda_multi *m, struct pollfd *fds, int max);
/*
 * Milliseconds until tda_multi_perform() is due (0: now); -1 when there is no
 * flow. A duration for poll(2) and timers, which do not count suspended time:
 * after a suspend, perform finds any code life or deadline that ran out in it.
 */
TDA_API long tda_multi_timeout_ms(tda_multi *m);
/* Does what is due: sends polls, reads answers, ends flows. Never blocks. */
TDA_API tda_status tda_multi_perform(tda_multi *m);
/*
 * For callers without an event loop: sleeps in poll(2) until a descriptor is
 * ready, perform is due, a cancel arrives, or max_ms passes (-1: no limit),
 * then performs. Costs no CPU while it sleeps.
 */
TDA_API tda_status tda_multi_wait(tda_multi *m, long max_ms);

/*
 * The callback API, for event loops; modelled on libcurl's
 * CURLMOPT_SOCKETFUNCTION, CURLMOPT_TIMERFUNCTION and curl_multi_socket_action,
 * which the engine uses underneath. The engine calls:
 *
 *  - the socket function whenever what a descriptor is to be watched for
 *    changes: what is TDA_WATCH_IN, TDA_WATCH_OUT or TDA_WATCH_INOUT (start
 *    watching, or change the events), or TDA_WATCH_REMOVE (stop watching:
 *    the descriptor may be closed right after). socketp is what the program
 *    attached with tda_multi_assign(), NULL until then. Besides libcurl's
 *    sockets this names the client's cancel pipe (TDA_WATCH_IN), so that a
 *    tda_client_cancel() from another thread or a signal handler wakes the
 *    loop. Setting the function reports every descriptor watched already;
 *    replacing or unsetting it first tells the old one TDA_WATCH_REMOVE for
 *    each, and forgets what tda_multi_assign() attached.
 *  - the timer function whenever the time until the engine is next due
 *    changes: call tda_multi_socket_action(m, TDA_SOCKET_TIMEOUT, 0) once
 *    timeout_ms have passed (0: as soon as possible, from the loop), replacing
 *    any earlier timer; -1 means no timer (no flow left). Setting the function
 *    reports the current time at once.
 *
 * Both are called from inside tda_multi_ calls (socket action, add, cancel,
 * free), on the engine's thread, and must not call tda_multi_ or tda_flow_
 * functions themselves: they only arm or disarm watchers. The loop, on a
 * ready descriptor, calls tda_multi_socket_action(m, fd, events) with what it
 * saw (TDA_READY_IN, TDA_READY_OUT, TDA_READY_ERR; 0 when it cannot tell), and
 * the engine acts on that descriptor and on whatever is due, as
 * tda_multi_perform() would, without polling any other. tda_multi_free()
 * reports TDA_WATCH_REMOVE for every descriptor still watched and calls no
 * timer function. The snapshot functions keep working beside this.
 */
#define TDA_WATCH_IN 1
#define TDA_WATCH_OUT 2
#define TDA_WATCH_INOUT 3
#define TDA_WATCH_REMOVE 4
typedef void (*tda_socket_fn)(tda_multi *m, int fd, int what, void *userdata, void *socketp);
typedef void (*tda_timer_fn)(tda_multi *m, long timeout_ms, void *userdata);
/* fn NULL turns the callback off. TDA_INVALID_ARGUMENT when m is NULL. */
TDA_API tda_status tda_multi_set_socket_fn(tda_multi *m, tda_socket_fn fn, void *userdata);
TDA_API tda_status tda_multi_set_timer_fn(tda_multi *m, tda_timer_fn fn, void *userdata);
/*
 * Attaches socketp (say, the loop's watcher) to a descriptor the engine
 * watches, handed back with each socket function call for it.
 * TDA_INVALID_ARGUMENT when fd is not being watched.
 */
TDA_API tda_status tda_multi_assign(tda_multi *m, int fd, void *socketp);

#define TDA_SOCKET_TIMEOUT (-1) /* tda_multi_socket_action: the timer expired */
#define TDA_READY_IN 1
#define TDA_READY_OUT 2
#define TDA_READY_ERR 4
/*
 * fd is ready for events (TDA_READY_ bits), or fd is TDA_SOCKET_TIMEOUT and
 * the timer expired: reads answers, sends what is due, ends flows (done
 * callbacks run from here). Never blocks. A descriptor the engine no longer
 * watches is ignored.
 */
TDA_API tda_status tda_multi_socket_action(tda_multi *m, int fd, int events);

/* ------------------------------------------------------------------ logging */

/*
 * Receives one line per request, header and answer for --verbose style
 * output, with every secret (client secret, device code, tokens) replaced by
 * "[redacted]". Called on the calling thread; fn NULL turns logging off.
 */
typedef void (*tda_log_fn)(const char *line, void *userdata);
TDA_API void tda_client_set_log(tda_client *c, tda_log_fn fn, void *userdata);

/* ------------------------------------------------------------------ token file */

/*
 * Saves a token as JSON, never losing the previous one: written to a
 * temporary file in the same directory with mode 0600, fsynced, renamed over
 * path, and the directory fsynced. So after a crash at any moment the file
 * holds the old token or the new one, whole. The directory must exist.
 * Refuses (TDA_FILE_INSECURE) when path is a symlink. TDA_NO_SPACE when the
 * disk or a quota is full, TDA_IO on other failures. (To keep a token that is
 * refreshed, prefer a store and tda_token_get.)
 */
TDA_API tda_status tda_token_save(const tda_token *token, const char *path);

/*
 * Loads a token saved by tda_token_save. TDA_FILE_MISSING when there is none;
 * TDA_FILE_INSECURE when it is a symlink, not a regular file, not owned by
 * this user, or readable or writable by group or others (chmod 600 fixes
 * that); TDA_FILE_CORRUPT when it is not a complete token. When
 * expected_client_id is not NULL and the file names another client id:
 * TDA_WRONG_CLIENT (*out is still filled, for a message).
 */
TDA_API tda_status tda_token_load(const char *path, const char *expected_client_id, tda_token *out);

/*
 * An exclusive lock beside the token file (path + ".lock", mode 0600), so that
 * only one process at a time refreshes a token: refresh tokens are single use,
 * and two processes spending the same one lose the pair. Blocks until the lock
 * is free or timeout_ms passes (TDA_TIMED_OUT; 0 waits for ever). *lock_fd
 * gets the lock; release it with tda_token_unlock.
 */
TDA_API tda_status tda_token_lock(const char *path, long timeout_ms, int *lock_fd);
TDA_API void tda_token_unlock(int lock_fd);

/* ------------------------------------------------------------------ code file */

/*
 * Trakt's guide says to save the whole device-code answer: a program that is
 * restarted (killed, rebooted, its plugin reloaded) while its code is on
 * screen can then resume polling the code the user may be typing right now,
 * instead of making them start over.
 *
 * Saves the code with the same care as tda_token_save (the device code is a
 * secret): a 0600 temporary file, fsynced, renamed over path, the directory
 * fsynced; a symlink at path is refused (TDA_FILE_INSECURE); a full disk or
 * quota is TDA_NO_SPACE. Temporary files that killed saves left beside path
 * (over 5 s old) are removed first. The file holds
 * the answer's fields, code->client_id, and the issue time by the wall clock
 * and by this boot's tda_boottime_ms() with the boot's id. TDA_INVALID_ARGUMENT
 * when a string is missing or the issue time is unknown (issued_at_unix_ms 0).
 */
TDA_API tda_status tda_code_save(const tda_code *code, const char *path);

/*
 * Loads a code saved by tda_code_save, with its issue time on this boot's
 * tda_boottime_ms(), so polling it counts its life from when Trakt issued
 * it: within the same boot from the boot clock (immune to wall-clock
 * changes), after a reboot from the wall clock. A code that has expired
 * loads fine (see tda_code_remaining_ms) and polling it ends at once with
 * TDA_EXPIRED and no request. The file is never changed or removed here.
 *   TDA_FILE_MISSING   no file at path
 *   TDA_FILE_INSECURE  a symlink, not a regular file, not owned by this user,
 *                      or readable or writable by group or others
 *   TDA_FILE_CORRUPT   not a complete code, a life or interval that no real
 *                      code has (not above 0; a life above 7 days, an interval
 *                      above an hour),
 *                      or an issue time in the future: by the boot clock
 *                      within one boot, by more than a minute of wall clock
 *                      otherwise (the clock was set back, or the file is not
 *                      what it says), so its age cannot be told
 *   TDA_WRONG_CLIENT   the code is of another client id than
 *                      expected_client_id (when not NULL); *out is still
 *                      filled, for a message
 * On any other status *out is zeroed; a program should delete the file (or
 * refuse it, when insecure) and get a new code: it is never worth polling.
 */
TDA_API tda_status tda_code_load(const char *path, const char *expected_client_id, tda_code *out);

/*
 * 1 when the token should be refreshed at Unix time now: when less than a
 * tenth of its own lifetime remains (at least 60 s), or it has expired. No
 * fixed margin: lifetimes have been 3 months, 24 hours and 7 days.
 * This compares Trakt's created_at with the caller's now, which is wrong on a
 * machine whose clock is wrong; tda_token_age_of() is the rule that is not.
 */
TDA_API int tda_token_needs_refresh(const tda_token *token, int64_t now);

/* ------------------------------------------------------------------ when a token is due */

/*
 * How old a token is by the local clocks, from its received stamp, now.
 *
 * The time elapsed since the token arrived is told by the first rule that applies:
 *  1. Same boot (the stamp's boot_id is this boot's): CLOCK_BOOTTIME now minus
 *     uptime_ms. Exact, suspend included, and blind to every change of the
 *     wall clock: a clock a year off, in 1970, or set by NTP meanwhile.
 *  2. An earlier boot of this machine (same host): the wall clock's difference,
 *     if it is at least the time since this boot began. The token arrived
 *     before this boot, so a smaller difference proves the wall clock wrong
 *     (a box without a real-time clock that boots in 1970): unknown.
 *  3. Another machine (a store shared by several) or one not known: the wall
 *     clock's difference when it is not negative, else unknown. Machines that
 *     share a store need wall clocks that roughly agree.
 *  4. No stamp (a file saved by an older version): as rule 3, with Trakt's
 *     created_at standing in for the wall clock at arrival.
 * CLOCK_MONOTONIC is not used: it stops during suspend, and a laptop that
 * slept through a week would take a week-old token for a fresh one.
 *
 * Unknown counts as due and as expired: one refresh, and the new pair arrives
 * in this boot, so rule 1 judges it from then on. Hence a wall clock that is
 * wrong but steady causes no early refresh at all, and a clock that jumps or a
 * reboot into a wrong clock causes at most one.
 *
 * Due: less than a tenth of expires_in remains (at least 60 s), as for
 * tda_token_needs_refresh. Expired: none remains.
 */
typedef struct tda_token_age {
    int known;            /* 0: the elapsed time cannot be told (then due and expired are 1) */
    int64_t elapsed_ms;   /* since the token arrived; 0 when unknown */
    int64_t remaining_ms; /* expires_in minus elapsed: <= 0 once expired; 0 when unknown */
    int due;              /* refresh now */
    int expired;          /* the access token no longer works */
    /* Room for members later versions add without changing the size: keep it zero. */
    void *reserved[4];
} tda_token_age;

/* Judges token (NULL: unknown) by the rules above at this moment. */
TDA_API void tda_token_age_of(const tda_token *token, tda_token_age *out);

/* ------------------------------------------------------------------ token stores */

/*
 * Where tokens live between runs: a store holds one token per key (a user id,
 * an account name) and an exclusive lock per key that works across processes.
 * The lifecycle below is written once over any store. Built in: the file
 * store (one token in one file, the CLI's default) and the directory store
 * (one file per key). An application can bring its own (its settings
 * database, a keyring) by filling a tda_store_ops.
 *
 * A store handle, like a client, is used by one thread at a time; open one
 * per thread (they are cheap: their locks exclude each other as they exclude
 * other processes). Its last error is in tda_store_error_detail(), which
 * names the path or key, the cause and the fix, and never a token.
 */
typedef struct tda_store tda_store; /* opaque */

/*
 * A file store: the token in the JSON file at path (tda_token_save's format,
 * with its safety rules), the lock in path + ".lock". The file's directory is
 * made (mode 0700) when first needed. Keys: only NULL. NULL on no memory or an
 * empty path.
 *
 * Before a refresh token is spent, the store makes a temporary file beside
 * the token file and allocates the most a token file can take (80 KiB,
 * posix_fallocate); the new pair is later written into that room, flushed,
 * renamed over the old file, and the directory flushed. So a full disk or
 * quota, a read-only filesystem or a directory that became unwritable fail
 * before the spend, and after a crash at any moment the file holds the old
 * pair or the new one, whole. (On copy-on-write filesystems, btrfs or ZFS,
 * rewriting allocated room can need new room: there the reservation is a
 * best effort.) If the filesystem reports an error flushing the new file, it
 * is put in place all the same, since the old one holds a spent refresh
 * token, and the detail warns. A file that a crash left empty or all NUL
 * bytes (a filesystem that did not honour fsync) is TDA_FILE_CORRUPT, says
 * so, and is left for a login to replace. Temporary files that killed saves
 * left behind are removed under the lock.
 */
TDA_API tda_store *tda_store_file_new(const char *path);

/*
 * A directory store: one token file per key in dir, for programs that serve
 * several users. A key is 1 to 64 bytes and neither "." nor ".."; it may not
 * hold '/' or control bytes. Every byte other than a-z, 0-9, '-', '_' and a
 * '.' that is not the first is escaped as %XX (capitals too, so that keys
 * differing only in case stay apart on case-insensitive filesystems):
 * key "Alice" is the file "%41lice.json", its lock "%41lice.json.lock".
 * A bad key is TDA_INVALID_ARGUMENT with a detail saying which rule it broke
 * (never quoting the key). A key is a C string, so a NUL byte ends it: check
 * the length of a key that comes from elsewhere.
 */
TDA_API tda_store *tda_store_dir_new(const char *dir);

/*
 * A PostgreSQL store, for a fleet: processes on many machines that share
 * users' tokens. One row per (client_id, key) in table (NULL:
 * "trakt_tokens"; "name" or "schema.name", plain identifiers, case kept),
 * made on first use when missing:
 *
 *   CREATE TABLE trakt_tokens (client_id text NOT NULL, key text NOT NULL,
 *       token jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(),
 *       PRIMARY KEY (client_id, key));
 *
 * token holds the token file's JSON (tda_token_save's fields and stamp), so a
 * pair is one value and its access and refresh tokens always come from the
 * same answer. A table without these columns (others are fine if they may be
 * left NULL or have a default) is TDA_IO with a detail saying what is wrong,
 * found before any refresh token is spent. PostgreSQL 11 or later.
 *
 * conninfo is what libpq takes: a postgresql:// URI or key=value pairs; what
 * it leaves out comes from the PG* environment variables and ~/.pgpass, as for
 * psql; NULL or "" takes everything from there. TLS as libpq does it
 * (sslmode=verify-full and friends). client_id is the Trakt client id whose
 * tokens this store keeps (the rows' client_id); a token of another is
 * TDA_WRONG_CLIENT. Keys: 1 to 256 bytes of UTF-8 without control characters
 * (every value is a bound parameter: quotes and the like are just bytes).
 *
 * The lock is a transaction: BEGIN, SELECT ... FOR UPDATE of the row, held
 * across the refresh request; the new pair is written and committed before
 * tda_token_get returns it, so a process on another machine waiting for that
 * row reads the new pair and makes no request. The wait is bounded by the
 * store's lock timeout (PostgreSQL's lock_timeout: TDA_LOCKED) and ended by
 * tda_client_cancel at once (the connection is closed, the server rolls
 * back). A process killed while it holds the row: its connection closes and
 * PostgreSQL releases the row; one whose machine vanished: the server ends
 * the transaction after 2 minutes idle (idle_in_transaction_session_timeout,
 * set for the transaction only).
 *
 * Faults: a server that cannot be reached, restarts or drops the connection
 * is TDA_NETWORK (transient: tda_token_get returns the stored token while it
 * works), a statement unanswered for 15 s TDA_TIMED_OUT; what was not
 * committed is rolled back, so the stored pair is the one from before. Once
 * the refresh token is spent, a lost connection does not lose the new pair:
 * the store connects again for up to 20 s and writes it where the row still
 * holds the spent pair (or already holds this one); a process that meanwhile
 * got invalid_grant for that spent pair looks at the row again for up to a
 * second before it says to log in again. A refresh answer lost on
 * the way from Trakt cannot be recovered by anyone: the row keeps the old
 * pair, and the next call reports TDA_INVALID_GRANT (log in again).
 *
 * Details name the table, key, database and host, libpq's or the server's
 * reason and SQLSTATE, never the connection string, its password or a token
 * (a server's DETAIL lines, which can quote a row, are not passed on).
 *
 * A token that is not due is one SELECT; the handle keeps the last row it
 * parsed (wiped when freed) and does not parse an unchanged one again.
 *
 * Connects at first use, not here. NULL when client_id is not 1 to 256 bytes
 * of printable ASCII, table is not a plain name, or memory runs out. One
 * handle per thread (each has its own connection); open it after fork().
 * Built when pkg-config finds libpq (Debian: libpq-dev); without it, this
 * returns a store whose every call fails with TDA_UNSUPPORTED and a detail
 * saying so (see tda_store_pg_available).
 */
TDA_API tda_store *tda_store_pg_new(const char *conninfo, const char *client_id, const char *table);
/* 1 when this build has the PostgreSQL store, 0 when it was left out. */
TDA_API int tda_store_pg_available(void);

/* Frees the store (and calls its ops' destroy). NULL is fine. */
TDA_API void tda_store_free(tda_store *s);

/*
 * How long a call waits for a lock another process holds before giving up
 * with TDA_LOCKED: default 60000 ms; 0 tries once. There is no "for ever":
 * tda_client_cancel() ends a wait at once instead.
 */
TDA_API tda_status tda_store_set_lock_timeout_ms(tda_store *s, long ms);

/*
 * Called with every new pair the store is given (a refresh by tda_token_get
 * or tda_token_renew, a tda_store_save), after the store has saved and
 * unlocked, with the outcome of the save in saved: for applications that also
 * keep the token elsewhere. Even when the save failed the pair is passed, so
 * that it is not lost with a spent refresh token. The token is only lent.
 */
typedef void (*tda_token_fn)(const char *key, const tda_token *token, tda_status saved,
                             void *userdata);
TDA_API void tda_store_on_token(tda_store *s, tda_token_fn fn, void *userdata);

/* The last store call's failure, e.g. "/home/u/t.json has mode 0644: ..."; "" after success. */
TDA_API const char *tda_store_error_detail(const tda_store *s);

/* Where key's token lives, for messages (a path): valid until the next call on s. */
TDA_API const char *tda_store_location(tda_store *s, const char *key);

/*
 * Whether a token could be saved under key now: call it before showing a
 * code, so that no user approves a login that cannot be kept. The file stores
 * make the directory if needed (0700), and check that it is ours and not open
 * to others, that the file is not a symlink or anything but a file, and that
 * a token file can really be written there (a temporary file of full size is
 * made and removed: this finds a read-only filesystem, a directory we may not
 * write, a full disk or quota). With client_id, a token of another client
 * already stored there is TDA_WRONG_CLIENT (saving would destroy it).
 */
TDA_API tda_status tda_store_check(tda_store *s, const char *key, const char *client_id);

/* Reads key's token without the lock, as tda_token_load does (client_id may be NULL). */
TDA_API tda_status tda_store_load(tda_store *s, const char *key, const char *client_id,
                                  tda_token *out);

/*
 * Saves a token that exists nowhere else (a login's) under key: takes the
 * lock, secures the room, saves durably, unlocks, then calls the hook.
 */
TDA_API tda_status tda_store_save(tda_store *s, const char *key, const tda_token *token);

/* ---- your own store */

/* What a store's lock op is given: how long it may wait, and what ends the wait early. */
typedef struct tda_store_wait {
    int64_t deadline_ms; /* on tda_monotonic_ms(); give up with TDA_LOCKED after it */
    int cancel_fd;       /* readable once the client is cancelled: TDA_CANCELLED; -1: none */
} tda_store_wait;

/*
 * For a store's lock op: sleeps in poll(2) until fd (-1: none) is ready for
 * events, max_ms passes, the wait's cancel_fd is readable or its deadline
 * passes. TDA_OK in the first two cases (try again), else TDA_CANCELLED or
 * TDA_LOCKED. A lock that can only be tried (flock) retries every few ms; a
 * server's (PostgreSQL's lock_timeout, a socket) waits on its fd.
 */
TDA_API tda_status tda_store_wait_fd(const tda_store_wait *wait, int fd, short events, long max_ms);

/*
 * A store is these operations over the application's self. The lifecycle
 * calls them in this order, so that a lock can be a database transaction:
 *
 *   common case:  load                               (no lock, no request)
 *   refresh:      lock -> load_locked -> prepare -> [the refresh request]
 *                 -> save -> unlock(commit 1)
 *                 any failure before save: unlock(commit 0)
 *   revoke:       lock -> load_locked -> [request] -> remove -> unlock(commit 1)
 *   login:        check ... [the user approves] ... lock -> prepare -> save -> unlock(1)
 *
 * Every op returns a tda_status and on failure writes a detail (the path or
 * key, the cause, the fix; never a token) into detail[0..size). Only lock may
 * wait. A token an op hands out is later freed by the library with
 * tda_token_clear, so make it with tda_token_copy (the library's allocator),
 * and keep its received stamp: it is what tells when the token is due.
 *
 *   load(self, key, out): the stored token, TDA_FILE_MISSING when there is
 *     none, TDA_FILE_CORRUPT / TDA_FILE_INSECURE for a bad one. Required.
 *   lock(self, key, wait, &lock): the exclusive lock on key, waiting at most
 *     until wait->deadline_ms (TDA_LOCKED) and giving up at once when
 *     wait->cancel_fd becomes readable (TDA_CANCELLED; tda_store_wait_fd does
 *     both). A transaction that locks the row (SELECT ... FOR UPDATE) is fine.
 *     *lock is the store's own handle, passed to the ops below. Required.
 *   load_locked(self, lock, out): the token as it is under the lock; another
 *     process may have replaced it while this one waited. NULL: load is used.
 *   prepare(self, lock): secures everything the save will need (disk room, a
 *     temporary file, a connection) before the refresh token is spent; what
 *     fails here costs nothing. NULL: nothing to secure.
 *   save(self, lock, token): stores the token under the lock; durably by the
 *     time unlock(commit 1) returns. Required.
 *   remove(self, lock): deletes the token. NULL: tda_token_revoke_stored fails.
 *   unlock(self, lock, commit): releases the lock and frees the handle;
 *     commit 1 keeps what was saved or removed (COMMIT), 0 undoes it
 *     (ROLLBACK). Its status matters only for commit 1. Required.
 *   check(self, key): as tda_store_check (without the client id part, which
 *     the library does). NULL: assumed fine.
 *   location(self, key): a text for messages. NULL: the key.
 *   destroy(self): at tda_store_free. NULL: nothing.
 */
typedef struct tda_store_ops {
    tda_status (*load)(void *self, const char *key, tda_token *out, char *detail, size_t size);
    tda_status (*lock)(void *self, const char *key, const tda_store_wait *wait, void **lock,
                       char *detail, size_t size);
    tda_status (*load_locked)(void *self, void *lock, tda_token *out, char *detail, size_t size);
    tda_status (*prepare)(void *self, void *lock, char *detail, size_t size);
    tda_status (*save)(void *self, void *lock, const tda_token *token, char *detail, size_t size);
    tda_status (*remove)(void *self, void *lock, char *detail, size_t size);
    tda_status (*unlock)(void *self, void *lock, int commit, char *detail, size_t size);
    tda_status (*check)(void *self, const char *key, char *detail, size_t size);
    const char *(*location)(void *self, const char *key);
    void (*destroy)(void *self);
    /* Room for members later versions add without changing the size: keep it zero. */
    void *reserved[4];
} tda_store_ops;

/* A store over the application's ops (copied) and self. NULL when a required op is missing. */
TDA_API tda_store *tda_store_new(const tda_store_ops *ops, void *self);

/*
 * Fills *out with a deep copy of token, allocated the way tda_token_clear
 * frees: how a store's load hands out a token it keeps in its own memory.
 */
TDA_API tda_status tda_token_copy(const tda_token *token, tda_token *out);

/* ------------------------------------------------------------------ a valid token in one call */

/* How tda_token_get came by its token. */
typedef struct tda_get_info {
    int refreshed;             /* this call spent the refresh token; the new pair is saved */
    int rotated;               /* another process had refreshed it while this one waited */
    int stale;                 /* a refresh was due and failed: the token is the stored one,
                                  which still works; refresh_status and the client's detail
                                  say why; try again later */
    tda_status refresh_status; /* why, when stale; TDA_OK otherwise */
    tda_token_age age;         /* of the token returned */
    /* Room for members later versions add without changing the size: keep it zero. */
    void *reserved[4];
} tda_get_info;

/*
 * A valid access token for key (NULL for a file store), in one call: what
 * every program that keeps a token needs, safe across any number of
 * processes and threads.
 *
 * The common case, a token that is not due (tda_token_age_of), is one read of
 * the store: no lock, no request. When it is due: takes the store's lock
 * (waiting at most the store's lock timeout, cancellable by
 * tda_client_cancel), reads the token again, and if another process has
 * already replaced the pair meanwhile, returns that one (info->rotated).
 * Otherwise it secures the room to save the new pair, spends the refresh
 * token, saves the new pair durably, unlocks, calls the store's hook, and
 * returns it (info->refreshed). Room that cannot be secured fails before the
 * refresh token is spent.
 *
 * When the refresh fails for a reason that waiting or mending the machine can
 * cure (a transient status, TDA_LOCKED, a rate limit, an odd answer, a full,
 * read-only or unwritable disk, a client without the secret the app needs)
 * while the stored token has not expired: TDA_OK with that token and
 * info->stale. Once it has expired, and for failures someone must act on
 * (Trakt refusing the client, TLS, a cancel), the failure is returned.
 * TDA_INVALID_GRANT: the store is read once more, in case a process that does
 * not take the lock has rotated the pair; if not, the user must log in again
 * (the stored token is left as it was).
 *
 * Failures: the store's statuses (TDA_FILE_MISSING: log in first), the
 * request's, TDA_WRONG_CLIENT when the stored token is another client id's,
 * TDA_LOCKED, TDA_NO_SPACE. tda_client_error_detail() says why.
 * On failure *out is zeroed. info may be NULL.
 */
TDA_API tda_status tda_token_get(tda_client *c, tda_store *store, const char *key, tda_token *out,
                                 tda_get_info *info);

/*
 * As tda_token_get, but refreshes whether due or not (under the lock, the
 * pair found there), and never returns a stale token: for "refresh now".
 */
TDA_API tda_status tda_token_renew(tda_client *c, tda_store *store, const char *key, tda_token *out,
                                   tda_get_info *info);

/*
 * Logs key's token out: under the lock, revokes the stored access token at
 * Trakt and then removes it from the store. When Trakt does not confirm, the
 * token stays stored, since it is the only way to try again.
 */
TDA_API tda_status tda_token_revoke_stored(tda_client *c, tda_store *store, const char *key);

#ifdef __cplusplus
}
#endif
#endif /* TRAKTDEVICEAUTH_H */
