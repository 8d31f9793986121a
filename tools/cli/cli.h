/* SPDX-License-Identifier: Apache-2.0 */
/*
 * trakt-device-auth, the command-line tool: what its files share. It uses the
 * public API only (include/traktdeviceauth.h), like any other program would.
 */
#ifndef TDA_CLI_H
#define TDA_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include <traktdeviceauth.h>

#define CLI_NAME "trakt-device-auth"

typedef enum cli_command { CLI_LOGIN, CLI_REFRESH, CLI_REVOKE, CLI_STATUS, CLI_TOKEN } cli_command;

typedef struct cli_options {
    cli_command command;
    const char *client_id;          /* --client-id or TRAKT_CLIENT_ID; may be NULL */
    char *client_secret;            /* owned, wiped: --client-secret or TRAKT_CLIENT_SECRET;
                                       NULL: a public client, as Trakt advises */
    const char *client_secret_file; /* --client-secret-file */
    bool ask_secret;                /* --ask-secret: prompt for it without echo */
    const char *redirect_uri;       /* --redirect-uri or TRAKT_REDIRECT_URI; NULL: oob */
    bool qr_prefill;                /* --qr-prefill: the QR code holds URL/CODE */
    char *token_file;               /* owned: --token-file, TRAKT_TOKEN_FILE or the default;
                                       with a key, that key's file (for messages) */
    const char *key;                /* --key or TRAKT_TOKEN_KEY: a token per account; NULL: one */
    char *token_dir;                /* owned: --token-dir, TRAKT_TOKEN_DIR or the default */
    char *store_url;                /* owned, wiped (may hold a password): --store or
                                       TRAKT_TOKEN_STORE, a postgresql:// URI; NULL: files */
    tda_store *store;               /* cli_open_store: where the token lives */
    const char *base_url;           /* --base-url or TRAKT_OAUTH_URL; NULL: Trakt's */
    const char *user_agent;         /* --user-agent or TRAKT_USER_AGENT; NULL: ours */
    const char *ca_file;            /* --ca-file or TRAKT_CA_FILE; NULL: the system's CAs */
    double timeout_s;               /* --timeout; 0: none given */
    int renew;                      /* login --renew[=N]: new codes allowed; -1: no limit */
    bool new_code;                  /* login --new-code: do not resume a saved code */
    bool json, no_qr, verbose, quiet;
} cli_options;

/* ---- exit codes (exit_codes.c): the one table from library status to exit code */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAILURE = 1,      /* anything not listed below */
    CLI_EXIT_USAGE = 2,        /* bad command line, no client id, or no secret typed */
    CLI_EXIT_DENIED = 3,       /* the user pressed Deny */
    CLI_EXIT_EXPIRED = 4,      /* the code expired, was used, or --timeout passed */
    CLI_EXIT_NETWORK = 5,      /* network, timeout or server trouble: try again later */
    CLI_EXIT_LOGIN_AGAIN = 6,  /* no token, token rejected, or another app's token */
    CLI_EXIT_FORBIDDEN = 7,    /* bad client id or secret, blocked, TLS failure */
    CLI_EXIT_TOKEN_FILE = 8,   /* token file insecure, corrupt or not writable */
    CLI_EXIT_SIGNAL_BASE = 128 /* + the signal number: 130 for Ctrl-C */
};
int cli_exit_code(tda_status st);
extern const char cli_exit_code_help[];

/* ---- options.c */
/* Parses argv and the environment; on failure or --help/--version returns the exit code. */
int cli_parse_options(int argc, char **argv, cli_options *o, bool *done);
void cli_options_clear(cli_options *o);
/* Wipes and frees a malloc'ed secret string and sets the pointer to NULL. */
void cli_wipe_secret(char **secret);

/* ---- report.c: messages and errors, text on stderr and, with --json, a JSON line */
void cli_error(const cli_options *o, int exit_code, tda_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Prints a JSON object as one line on stdout and frees it (steals the reference). */
struct json_t;
void cli_json_line(struct json_t *object);
/* The same for an object holding a secret: its strings are wiped before they are freed. */
void cli_json_secret_line(struct json_t *object);
/* A UTC timestamp such as "2026-11-29 05:40 UTC". */
void cli_format_time(long long unix_seconds, char *out, size_t size);
/* "9 min 12 s", "3 days 4 h": a duration for people. */
void cli_format_duration(long long seconds, char *out, size_t size);
/* The exit code and message for a failed library call, with the client's detail. */
int cli_fail_call(const cli_options *o, tda_client *c, tda_status st, const char *what);
/* "try again in 2 min 23 s (after 05:40:12 UTC)": when a wait of ms from now ends. */
void cli_format_try_again(long ms, char *out, size_t size);

/* ---- signals.c: Ctrl-C and friends cancel the client in flight */
void cli_signals_install(void);
void cli_signals_watch(tda_client *c); /* NULL: none */
int cli_signal_received(void);         /* the signal number, or 0 */

/* ---- secret.c */
/*
 * The client secret is optional (Trakt: it is not secret inside an app on the
 * user's device). Fills o->client_secret from --client-secret-file, or from a
 * no-echo prompt with --ask-secret, when not set yet; none is fine.
 */
int cli_gather_secret(cli_options *o);

/* ---- session.c: a library client set up from the options */
/* use_secret: give the client the secret, if the user supplied one. */
int cli_client_new(cli_options *o, bool use_secret, const char *client_id, tda_client **out);
void cli_client_free(tda_client *c);
/* The --verbose log callback: one line to stderr. */
void cli_log_to_stderr(const char *line, void *userdata);

/* ---- token_store.c: which store the commands use */
char *cli_default_token_file(void);
char *cli_default_token_dir(void);
/* Opens o->store (the key's directory store or the one token file); the lock wait is --timeout. */
int cli_open_store(cli_options *o);
/* The exit code and message for a failed store or token call, from the library's detail. */
int cli_fail_stored(const cli_options *o, tda_status st, const char *detail, const char *what);

/* ---- code_request.c: the codes login asks for itself, waiting out rate limits */
/* tda_generate_code, with Trakt's 429s waited out (a few times, 15 min at most). */
tda_status cli_request_code(const cli_options *o, tda_client *c, tda_code *code);

/* ---- commands */
int cli_login(cli_options *o);
int cli_refresh(cli_options *o);
int cli_token(cli_options *o);
int cli_status(cli_options *o);
int cli_revoke(cli_options *o);

#endif
