/* SPDX-License-Identifier: Apache-2.0 */
/*
 * How the CLI speaks: errors as one clear line on stderr (and, with --json, a
 * JSON line on stdout for programs), times and durations for people. Error
 * text comes from the library's messages and details, which never hold a
 * secret.
 */
#include <jansson.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "cli.h"

void cli_json_line(json_t *object)
{
    if (!object)
        return;
    /* 12 digits: seconds with milliseconds print as 0.3, not 0.29999999999999999. */
    char *text = json_dumps(object, JSON_COMPACT | JSON_REAL_PRECISION(12));
    if (text) {
        printf("%s\n", text);
        fflush(stdout);
        explicit_bzero(text, strlen(text)); /* cheap, and some lines carry a token */
        free(text);
    }
    json_decref(object);
}

void cli_json_secret_line(json_t *object)
{
    if (!object)
        return;
    json_incref(object);
    cli_json_line(object);
    /* jansson keeps its own copies of the strings: wipe them before they are freed. */
    const char *key;
    json_t *value;
    json_object_foreach (object, key, value) {
        if (json_is_string(value))
            explicit_bzero((char *)json_string_value(value), json_string_length(value));
    }
    json_decref(object);
}

void cli_error(const cli_options *o, int exit_code, tda_status st, const char *fmt, ...)
{
    char message[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    fprintf(stderr, CLI_NAME ": %s\n", message);
    if (o && o->json)
        cli_json_line(json_pack("{s:s, s:s?, s:i, s:s}", "event", "error", "status",
                                st == TDA_OK ? NULL : tda_status_name(st), "exit_code", exit_code,
                                "message", message));
}

void cli_format_time(long long unix_seconds, char *out, size_t size)
{
    time_t t = (time_t)unix_seconds;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(out, size, "%Y-%m-%d %H:%M UTC", &tm) == 0)
        snprintf(out, size, "%lld", unix_seconds);
}

void cli_format_duration(long long s, char *out, size_t size)
{
    if (s < 0)
        s = 0;
    if (s < 60)
        snprintf(out, size, "%lld s", s);
    else if (s < 3600)
        snprintf(out, size, "%lld min %lld s", s / 60, s % 60);
    else if (s < 86400)
        snprintf(out, size, "%lld h %lld min", s / 3600, s % 3600 / 60);
    else
        snprintf(out, size, "%lld days %lld h", s / 86400, s % 86400 / 3600);
}

void cli_format_try_again(long ms, char *out, size_t size)
{
    long long s = ms > 0 ? (ms + 999) / 1000 : 0;
    char in[64];
    cli_format_duration(s, in, sizeof in);
    time_t when = time(NULL) + (time_t)s;
    struct tm tm;
    char at[32] = "";
    if (gmtime_r(&when, &tm))
        strftime(at, sizeof at, "%H:%M:%S UTC", &tm);
    snprintf(out, size, "try again in %s%s%s%s", in, *at ? " (after " : "", at, *at ? ")" : "");
}

/* The commands that work on a stored token, for which "untouched" is news. */
static bool has_stored_token(const cli_options *o)
{
    return o->command != CLI_LOGIN;
}

/* What the user can do about it, by exit code (and status, where one code covers two). */
static const char *hint_for(const cli_options *o, tda_client *c, int exit_code, tda_status st,
                            char *buf, size_t size)
{
    const char *untouched = o && has_stored_token(o) ? "the stored token is untouched; " : "";
    long wait_ms = c ? tda_client_retry_after_ms(c) : -1;
    if (st == TDA_TLS)
        return NULL; /* the library's detail already says how to trust a private CA */
    switch (exit_code) {
    case CLI_EXIT_LOGIN_AGAIN:
        if (st == TDA_INVALID_GRANT)
            return "Trakt no longer accepts this refresh token: it was spent (by another copy "
                   "of the token file, too), revoked, or issued before Trakt's July 2026 "
                   "migration; run '" CLI_NAME " login' once more";
        return "run '" CLI_NAME " login' to authorize again";
    case CLI_EXIT_NETWORK: {
        char when[128];
        if (wait_ms >= 0) {
            cli_format_try_again(wait_ms, when, sizeof when);
            snprintf(buf, size, "%s%s", untouched, when);
        } else if (st == TDA_SLOW_DOWN) {
            snprintf(buf, size, "%sTrakt gave no time: wait a minute, then longer each time",
                     untouched);
        } else {
            snprintf(buf, size, "%stry again later", untouched);
        }
        return buf;
    }
    case CLI_EXIT_FORBIDDEN:
        if (c && strstr(tda_client_error_detail(c), "no client secret was sent"))
            return "if Trakt still requires this app's secret, give it with TRAKT_CLIENT_SECRET, "
                   "--client-secret-file or --ask-secret; otherwise check the client id and "
                   "that the app is approved";
        return "check the client id and secret, and that the app is approved on Trakt";
    case CLI_EXIT_EXPIRED:
        return "run '" CLI_NAME " login' for a new code";
    default:
        return NULL;
    }
}

/* The one way a failure is told: what failed, the library's detail, what to do. */
static int fail_with(const cli_options *o, tda_client *c, tda_status st, const char *detail,
                     const char *what)
{
    if (st == TDA_CANCELLED && cli_signal_received()) {
        int code = CLI_EXIT_SIGNAL_BASE + cli_signal_received();
        cli_error(o, code, st, "%s: interrupted", what);
        return code;
    }
    int code = cli_exit_code(st);
    /* The library's detail already says what tda_strerror says: one or the other. */
    char buf[256];
    const char *hint = hint_for(o, c, code, st, buf, sizeof buf);
    cli_error(o, code, st, "%s: %s%s%s", what, detail && *detail ? detail : tda_strerror(st),
              hint ? "; " : "", hint ? hint : "");
    return code;
}

int cli_fail_call(const cli_options *o, tda_client *c, tda_status st, const char *what)
{
    return fail_with(o, c, st, c ? tda_client_error_detail(c) : "", what);
}

int cli_fail_stored(const cli_options *o, tda_status st, const char *detail, const char *what)
{
    return fail_with(o, NULL, st, detail, what);
}
