/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The protocol as pure functions over bytes: what to send to each endpoint
 * and what each answer means. No I/O and no clock, so tests and fuzzers feed
 * these directly.
 */
#ifndef TDA__PROTOCOL_H
#define TDA__PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

typedef enum tda__endpoint {
    TDA__EP_DEVICE_CODE,  /* POST /oauth/device/code */
    TDA__EP_DEVICE_TOKEN, /* POST /oauth/device/token (a poll) */
    TDA__EP_REFRESH,      /* POST /oauth/token, grant_type refresh_token */
    TDA__EP_REVOKE        /* POST /oauth/revoke */
} tda__endpoint;

/* The path after the base URL, e.g. "/oauth/device/code". */
const char *tda__endpoint_path(tda__endpoint ep);

/* The largest answer body we accept; a larger one is TDA_BAD_RESPONSE. */
#define TDA__MAX_BODY ((size_t)64 * 1024)

/* A request body. It may hold secrets, so tda__body_clear wipes it. */
typedef struct tda__body {
    char *data; /* NUL-terminated JSON */
    size_t len;
} tda__body;
void tda__body_clear(tda__body *b);

/*
 * jansson keeps its own copies of strings and frees them without wiping:
 * wipe every string value of a JSON object in place before json_decref.
 */
struct json_t;
void tda__json_wipe_strings(struct json_t *object);
/* The same for one string value (nothing for any other kind). */
void tda__json_wipe_string(struct json_t *string);

/*
 * client_secret may be NULL (a public client): the body then has no
 * client_secret member at all. Every other argument is required.
 */
tda_status tda__build_code_request(const char *client_id, tda__body *out);
tda_status tda__build_token_request(const char *client_id, const char *client_secret,
                                    const char *device_code, tda__body *out);
/* redirect_uri: the app's setting, "urn:ietf:wg:oauth:2.0:oob" by default (client.c). */
tda_status tda__build_refresh_request(const char *client_id, const char *client_secret,
                                      const char *refresh_token, const char *redirect_uri,
                                      tda__body *out);
tda_status tda__build_revoke_request(const char *client_id, const char *client_secret,
                                     const char *access_token, tda__body *out);

/* An answer as the transport saw it. Header values are NULL when absent. */
typedef struct tda__response {
    long http_status; /* 0 when no answer arrived */
    const char *body;
    size_t body_len;
    const char *content_type;
    const char *retry_after;
    const char *ratelimit; /* X-Ratelimit, Trakt's JSON account of a rate limit */
    const char *location;
    const char *www_authenticate;
    const char *server;
} tda__response;

/*
 * What an answer means for the endpoint it came from: the one home of every
 * HTTP status rule (see the table in status_rules.c). *retry_after_ms gets the
 * Retry-After delay or -1. For TDA_OK the caller still parses the body.
 * detail gets a secret-free explanation of anything but success.
 */
tda_status tda__classify_response(tda__endpoint ep, const tda__response *r, int64_t now_unix,
                                  int64_t *retry_after_ms, char *detail, size_t detail_size);

/*
 * Trakt issues a code's token once. A poll that got no whole answer
 * (tda__answer_may_be_lost: a dropped connection, a timeout) may have carried
 * it, and the next poll then gets 409. tda__explain_lost_token: when result
 * is that 409 and an answer was lost before, writes why the token cannot be
 * fetched again into detail and returns 1; otherwise 0 and detail untouched.
 */
int tda__answer_may_be_lost(tda_status transfer_status);
int tda__explain_lost_token(tda_status result, int answer_lost, char *detail, size_t detail_size);

/*
 * A transfer that ended without a whole answer, with libcurl's CURLcode and
 * error text (NULL: its generic text for the code); body_overflow when the
 * answer outgrew TDA__MAX_BODY. TDA_NETWORK, TDA_TIMED_OUT, TDA_TLS,
 * TDA_BAD_RESPONSE, TDA_NO_MEMORY or TDA_INVALID_ARGUMENT, with a
 * secret-free detail.
 */
tda_status tda__classify_transfer_failure(int curl_code, const char *curl_text, int body_overflow,
                                          char *detail, size_t detail_size);

/*
 * 1 when answer r is a rate limit that speaks for the whole IP, not one code:
 * a 429 with Retry-After or X-Ratelimit, or Cloudflare's page (HTML, or its
 * plain "error code: ..."). A bare 429 to a poll only says "this code, slower".
 */
int tda__is_ip_rate_limit(const tda__response *r);

/*
 * 1 when st, the meaning of answer r to ep, is a refusal that may be about a
 * missing client secret: a 401 or 403 from Trakt (not Cloudflare's page) to a
 * request that could carry one (not the device-code request).
 */
int tda__refusal_may_want_secret(tda__endpoint ep, const tda__response *r, tda_status st);

/*
 * Retry-After (retry_after.c) as delay-seconds or an HTTP date, in ms from
 * now_unix; -1 when absent or unparsable. Capped at one day so no answer can park a flow forever.
 */
int64_t tda__parse_retry_after(const char *value, int64_t now_unix);

/*
 * The "until" time (ISO 8601, UTC) of an X-Ratelimit header such as
 * {"name":"UNAUTHED_API_POST_LIMIT","period":1,"limit":1,"remaining":0,
 * "until":"2026-11-29T08:00:01Z"}, as a delay in ms from now_unix; -1 when
 * absent or unparsable. Used only when Retry-After is missing. Same cap.
 */
int64_t tda__parse_ratelimit_until(const char *value, int64_t now_unix);

/* What no real code has: an hour between polls, or a life of over a week. */
#define TDA__MAX_INTERVAL_MS (3600LL * 1000)
#define TDA__MAX_CODE_LIFE_MS (7LL * 24 * 3600 * 1000)

/* Parse and validate the body of a 200 answer. On failure *out is zeroed. */
tda_status tda__parse_code(const char *body, size_t len, tda_code *out, char *detail,
                           size_t detail_size);
tda_status tda__parse_token(const char *body, size_t len, tda_token *out, char *detail,
                            size_t detail_size);
/* The same for an object already parsed (the token file holds one too). */
tda_status tda__parse_token_object(struct json_t *root, tda_token *out, char *detail,
                                   size_t detail_size);

/*
 * The strict JSON readers of the answers, for files that keep to the same
 * rules (code_file.c): an object with no duplicate keys, with jansson's
 * out-of-memory reported as TDA_NO_MEMORY, never as damage; a non-empty
 * string without NUL bytes; an integer in [min, max]. Failures are
 * TDA_BAD_RESPONSE (or TDA_NO_MEMORY) with a secret-free detail.
 */
struct json_t *tda__json_load_object(const char *text, size_t len, tda_status *st, char *detail,
                                     size_t size);
tda_status tda__json_take_string(struct json_t *root, const char *name, char **out, char *detail,
                                 size_t size);
tda_status tda__json_take_integer(struct json_t *root, const char *name, int64_t min, int64_t max,
                                  int64_t *out, char *detail, size_t size);

#endif
