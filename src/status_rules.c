/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What every failure means: every HTTP status for every endpoint, and every
 * way a transfer can fail without a whole answer (libcurl's errors): the one
 * place to read or change such a rule. How polling then treats each
 * tda_status (retry, slow down, stop) is the kind column of the status
 * table, and the timing is src/poll.c.
 */
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "protocol.h"

#define UNEXPECTED TDA_UNEXPECTED_STATUS

typedef struct status_rule {
    long first, last; /* HTTP status range, inclusive */
    tda_status device_code, device_token, refresh, revoke;
} status_rule;

/* First matching row wins. */
static const status_rule rules[] = {
    /*  HTTP       /device/code      /device/token            /oauth/token        /oauth/revoke */
    {200, 200, TDA_OK, TDA_OK, TDA_OK, TDA_OK},
    {201, 299, UNEXPECTED, UNEXPECTED, UNEXPECTED, TDA_OK},
    {400, 400, UNEXPECTED, TDA_PENDING, TDA_INVALID_GRANT, UNEXPECTED},
    {401, 401, TDA_FORBIDDEN, TDA_FORBIDDEN, TDA_INVALID_GRANT, TDA_FORBIDDEN},
    {403, 403, TDA_FORBIDDEN, TDA_FORBIDDEN, TDA_FORBIDDEN, TDA_FORBIDDEN},
    {404, 404, UNEXPECTED, TDA_INVALID_DEVICE_CODE, UNEXPECTED, UNEXPECTED},
    {409, 409, UNEXPECTED, TDA_ALREADY_USED, UNEXPECTED, UNEXPECTED},
    {410, 410, UNEXPECTED, TDA_EXPIRED, UNEXPECTED, UNEXPECTED},
    {418, 418, UNEXPECTED, TDA_DENIED, UNEXPECTED, UNEXPECTED},
    {429, 429, TDA_SLOW_DOWN, TDA_SLOW_DOWN, TDA_SLOW_DOWN, TDA_SLOW_DOWN},
    {500, 500, TDA_SERVER_ERROR, TDA_SERVER_ERROR, TDA_SERVER_ERROR, TDA_SERVER_ERROR},
    {502, 504, TDA_OVERLOADED, TDA_OVERLOADED, TDA_OVERLOADED, TDA_OVERLOADED},
    {520, 522, TDA_CLOUDFLARE, TDA_CLOUDFLARE, TDA_CLOUDFLARE, TDA_CLOUDFLARE},
    /* Any other 5xx is still the server's trouble, so it is worth a later retry. */
    {501, 599, TDA_SERVER_ERROR, TDA_SERVER_ERROR, TDA_SERVER_ERROR, TDA_SERVER_ERROR},
};

static tda_status rule_for(tda__endpoint ep, long http)
{
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        const status_rule *r = &rules[i];
        if (http < r->first || http > r->last)
            continue;
        switch (ep) {
        case TDA__EP_DEVICE_CODE:
            return r->device_code;
        case TDA__EP_DEVICE_TOKEN:
            return r->device_token;
        case TDA__EP_REFRESH:
            return r->refresh;
        case TDA__EP_REVOKE:
            return r->revoke;
        }
    }
    return UNEXPECTED;
}

/*
 * What a transfer that got no whole answer means, for every endpoint alike.
 * The detail is libcurl's text, which names no secret. Which of these
 * statuses polling retries is their kind in the status table.
 */
tda_status tda__classify_transfer_failure(int curl_code, const char *curl_text, int body_overflow,
                                          char *detail, size_t size)
{
    CURLcode rc = (CURLcode)curl_code;
    const char *text = curl_text ? curl_text : curl_easy_strerror(rc);
    tda_status st;
    switch (rc) {
    case CURLE_WRITE_ERROR:
    case CURLE_FILESIZE_EXCEEDED:
        if (body_overflow || rc == CURLE_FILESIZE_EXCEEDED) {
            snprintf(detail, size, "answer larger than %zu KiB refused", TDA__MAX_BODY / 1024);
            return TDA_BAD_RESPONSE;
        }
        st = TDA_NO_MEMORY;
        break;
    case CURLE_OUT_OF_MEMORY:
        st = TDA_NO_MEMORY;
        break;
    case CURLE_OPERATION_TIMEDOUT:
        st = TDA_TIMED_OUT;
        break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        /* Never a reason to turn verification off: say how to trust a private CA instead. */
        snprintf(detail, size,
                 "%s: %s; for a proxy or test server with its own CA, give that CA with "
                 "tda_client_set_ca_file (CLI: --ca-file)",
                 tda_strerror(TDA_TLS), text);
        return TDA_TLS;
    case CURLE_SSL_CONNECT_ERROR:
        /*
         * An https URL pointed at a plain-http server (a typo, or the wrong
         * port). Waiting cannot fix that, so it is final, not a network blip
         * that an application would retry for ever.
         */
        if (strstr(text, "wrong version number") || strstr(text, "packet length too long") ||
            strstr(text, "unknown protocol")) {
            snprintf(detail, size,
                     "%s: the server does not speak TLS (%s); is the base URL's https:// meant "
                     "to be http://, or is the port wrong?",
                     tda_strerror(TDA_TLS), text);
            return TDA_TLS;
        }
        st = TDA_NETWORK;
        break;
    case CURLE_SEND_FAIL_REWIND:
        /* The connection died after the request was sent; transport.c gives libcurl no way to
         * rewind (see on_upload there), so it is never re-sent at once. */
        snprintf(detail, size,
                 "%s: the connection closed after the request was sent, before any answer "
                 "(not re-sent at once, so a poll is never repeated within the interval)",
                 tda_strerror(TDA_NETWORK));
        return TDA_NETWORK;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        st = TDA_INVALID_ARGUMENT;
        break;
    default:
        st = TDA_NETWORK;
        break;
    }
    snprintf(detail, size, "%s: %s", tda_strerror(st), text);
    return st;
}

int tda__answer_may_be_lost(tda_status transfer_status)
{
    return transfer_status == TDA_NETWORK || transfer_status == TDA_TIMED_OUT;
}

int tda__explain_lost_token(tda_status result, int answer_lost, char *detail, size_t size)
{
    if (result != TDA_ALREADY_USED || !answer_lost)
        return 0;
    snprintf(detail, size,
             "HTTP 409: a token was already issued for this code, but an earlier answer was "
             "lost in transit, and with it the token: it cannot be fetched again; start a new "
             "login");
    return 1;
}

#define DESCRIPTION_MAX 120 /* of error_description kept in a detail */

/*
 * The OAuth error of a JSON body: the "error" code, copied only when it looks
 * like one ([a-z_], short), and "error_description" (Trakt's "session not
 * found" says more than "invalid_grant"), reduced to printable ASCII and cut
 * at DESCRIPTION_MAX. The server could echo anything, so callers blank the
 * secrets of their request out of the detail afterwards (calls.c, multi_flow.c).
 */
static tda_status oauth_error(const tda__response *r, char *code, size_t size, char *description,
                              size_t description_size)
{
    code[0] = '\0';
    description[0] = '\0';
    if (!r->body || r->body_len == 0)
        return TDA_OK;
    tda__json_oom_reset();
    json_t *root = json_loadb(r->body, r->body_len, 0, NULL);
    /* Out of memory, jansson may drop bytes of a string: trust nothing then. */
    int oom = tda__json_oom_happened();
    const char *value = json_string_value(json_object_get(root, "error"));
    if (!oom && value && strlen(value) < size &&
        strspn(value, "abcdefghijklmnopqrstuvwxyz_") == strlen(value))
        snprintf(code, size, "%s", value);
    const char *text = json_string_value(json_object_get(root, "error_description"));
    if (!oom && code[0] && text && description_size > 4) {
        size_t j = 0, limit = description_size - 4; /* room for "..." */
        if (limit > DESCRIPTION_MAX)
            limit = DESCRIPTION_MAX;
        for (size_t i = 0; text[i] && j < limit; i++)
            description[j++] = (char)((text[i] >= 0x20 && text[i] < 0x7f) ? text[i] : '?');
        description[j] = '\0';
        if (strlen(text) > j)
            memcpy(description + j, "...", 4);
    }
    json_decref(root);
    return oom ? TDA_NO_MEMORY : TDA_OK;
}

static int contains_nocase(const char *haystack, const char *needle)
{
    return haystack && strcasestr(haystack, needle) != NULL;
}

/* The first byte of the body that is not white space, or 0 for an empty body. */
static char body_start(const tda__response *r)
{
    size_t i = 0;
    while (i < r->body_len &&
           (r->body[i] == ' ' || r->body[i] == '\n' || r->body[i] == '\r' || r->body[i] == '\t'))
        i++;
    return (char)(i < r->body_len ? r->body[i] : 0);
}

static int body_is_html(const tda__response *r)
{
    return contains_nocase(r->content_type, "text/html") || body_start(r) == '<';
}

/*
 * Refresh failures: 400 and 401 both mean "log in again" unless the body names
 * a client problem (bad id or secret) or a malformed request (our bug, not the
 * user's token), or is not Trakt's at all. Getting this wrong either way is
 * costly: "log in again" makes users redo the device flow.
 */
static tda_status refine_refresh_failure(tda_status st, const tda__response *r, const char *error)
{
    /*
     * A page of text or HTML is a proxy's or Cloudflare's answer, not Trakt
     * judging the token: Trakt's own refusal is empty or a JSON object.
     */
    char first = body_start(r);
    if (body_is_html(r) ||
        (first && first != '{' && !contains_nocase(r->www_authenticate, "invalid_grant")))
        return UNEXPECTED;
    if (strcmp(error, "invalid_client") == 0 || strcmp(error, "unauthorized_client") == 0 ||
        contains_nocase(r->www_authenticate, "invalid_client"))
        return TDA_FORBIDDEN;
    if (r->http_status == 400 && error[0] && strcmp(error, "invalid_grant") != 0)
        return UNEXPECTED;
    return st;
}

/* Printable ASCII only, truncated: header text goes into a detail verbatim. */
static void sanitize(const char *in, char *out, size_t size)
{
    size_t j = 0;
    for (size_t i = 0; in && in[i] && j + 1 < size; i++)
        out[j++] = (char)((in[i] >= 0x20 && in[i] < 0x7f) ? in[i] : '?');
    out[j] = '\0';
}

static void describe(tda__endpoint ep, const tda__response *r, tda_status st, const char *error,
                     const char *description, char *detail, size_t size)
{
    const char *from = contains_nocase(r->server, "cloudflare") ? " from Cloudflare" : "";
    const char *html = body_is_html(r) ? " (an HTML page, not Trakt's JSON)" : "";
    char extra[256] = "";
    if (r->http_status >= 300 && r->http_status < 400) {
        char where[100];
        sanitize(r->location ? r->location : "nowhere", where, sizeof where);
        snprintf(extra, sizeof extra, ": redirect to %s not followed; is the base URL right?",
                 where);
    } else if (st == TDA_FORBIDDEN && (*from || *html)) {
        snprintf(extra, sizeof extra,
                 ": blocked before reaching Trakt; set a specific User-Agent (yourapp/1.0)");
    } else if (st == TDA_FORBIDDEN) {
        snprintf(extra, sizeof extra,
                 ": check the client id and secret and that the app is approved");
    } else if (r->http_status == 404 && ep != TDA__EP_DEVICE_TOKEN) {
        snprintf(extra, sizeof extra, ": is the base URL right?");
    } else if (error[0] && description[0]) {
        snprintf(extra, sizeof extra, " (error \"%s\": \"%s\")", error, description);
    } else if (error[0]) {
        snprintf(extra, sizeof extra, " (error \"%s\")", error);
    }
    snprintf(detail, size, "HTTP %ld%s%s on POST %s: %s%s", r->http_status, from, html,
             tda__endpoint_path(ep), tda_strerror(st), extra);
}

/*
 * A rate limit's detail says how long to wait: Trakt's guide says a client
 * that retries before Retry-After only extends the block, and that without
 * one it should back off exponentially, a few times at most.
 */
static void say_when(tda_status st, int64_t retry_after_ms, char *detail, size_t size)
{
    size_t used = strlen(detail);
    if (retry_after_ms >= 0)
        snprintf(detail + used, size - used,
                 "; the server asks to wait %lld s before trying again (an earlier try only "
                 "extends the block)",
                 (long long)((retry_after_ms + 999) / 1000));
    else if (st == TDA_SLOW_DOWN)
        snprintf(detail + used, size - used,
                 "; no Retry-After: wait a few seconds, then longer each time, and give up after "
                 "a few tries");
}

tda_status tda__classify_response(tda__endpoint ep, const tda__response *r, int64_t now_unix,
                                  int64_t *retry_after_ms, char *detail, size_t detail_size)
{
    *retry_after_ms = tda__parse_retry_after(r->retry_after, now_unix);
    if (*retry_after_ms < 0)
        *retry_after_ms = tda__parse_ratelimit_until(r->ratelimit, now_unix);
    if (detail_size)
        detail[0] = '\0';
    tda_status st = rule_for(ep, r->http_status);
    if (st == TDA_OK || (st == TDA_PENDING && ep == TDA__EP_DEVICE_TOKEN))
        return st;
    char error[48], description[DESCRIPTION_MAX + 4];
    if (oauth_error(r, error, sizeof error, description, sizeof description) == TDA_NO_MEMORY) {
        snprintf(detail, detail_size, "out of memory while reading the answer");
        return TDA_NO_MEMORY;
    }
    if (ep == TDA__EP_REFRESH && st == TDA_INVALID_GRANT)
        st = refine_refresh_failure(st, r, error);
    describe(ep, r, st, error, description, detail, detail_size);
    say_when(st, *retry_after_ms, detail, detail_size);
    return st;
}

/*
 * Cloudflare's own rate-limit answers: its HTML page, or the 16-byte
 * text/plain "error code: 1015" (its rate-limiting rule), usually with
 * "server: cloudflare". Trakt's own 429 to a poll has an empty body.
 */
static int from_cloudflare(const tda__response *r)
{
    static const char plain[] = "error code:";
    return contains_nocase(r->server, "cloudflare") || body_is_html(r) ||
           (r->body_len >= sizeof plain - 1 && strncmp(r->body, plain, sizeof plain - 1) == 0);
}

int tda__is_ip_rate_limit(const tda__response *r)
{
    if (r->http_status != 429)
        return 0;
    return tda__parse_retry_after(r->retry_after, 0) >= 0 ||
           tda__parse_ratelimit_until(r->ratelimit, 0) >= 0 || from_cloudflare(r);
}

int tda__refusal_may_want_secret(tda__endpoint ep, const tda__response *r, tda_status st)
{
    if (ep == TDA__EP_DEVICE_CODE || (r->http_status != 401 && r->http_status != 403))
        return 0;
    if (contains_nocase(r->server, "cloudflare") || body_is_html(r))
        return 0; /* blocked before Trakt could judge the client */
    return st == TDA_FORBIDDEN || st == TDA_INVALID_GRANT;
}
