/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parsing and validating the JSON of a 200 answer. Strict: every field must be
 * present with the right type, so a half-answer never becomes a half-usable
 * code or token. Secrets parsed by jansson are wiped in its memory before it
 * frees them.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "protocol.h"

#define MAX_INTERVAL_MS TDA__MAX_INTERVAL_MS
#define MAX_CODE_LIFE_MS TDA__MAX_CODE_LIFE_MS
#define MAX_TOKEN_LIFE_S (20LL * 365 * 24 * 3600)

static tda_status fail(char *detail, size_t size, const char *what, const char *field_name)
{
    snprintf(detail, size, "malformed answer: %s%s%s", what, field_name ? " " : "",
             field_name ? field_name : "");
    return TDA_BAD_RESPONSE;
}

/* The answer's JSON object, or NULL with *st saying why (BAD_RESPONSE or NO_MEMORY). */
static json_t *load_object(const char *body, size_t len, tda_status *st, char *detail, size_t size)
{
    *st = TDA_BAD_RESPONSE;
    if (!body || len == 0) {
        fail(detail, size, "empty body", NULL);
        return NULL;
    }
    json_error_t err;
    memset(&err, 0, sizeof err); /* jansson leaves it unset when its first allocation fails */
    tda__json_oom_reset();
    /* Duplicate keys make "which value counts" ambiguous: refuse them. */
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
    /*
     * jansson sets no message at all when its very first allocation fails; a
     * failure deeper in its parser looks like a syntax error; and one while it
     * saves a string's bytes is ignored, so the parse "succeeds" with a byte
     * missing from, say, the device code. Hence the flag, checked either way.
     */
    int oom = tda__json_oom_happened();
    if (oom) {
        tda__json_wipe_strings(root);
        json_decref(root);
        root = NULL;
    }
    if (!root &&
        (oom || json_error_code(&err) == json_error_out_of_memory || err.text[0] == '\0')) {
        *st = TDA_NO_MEMORY; /* not the server's fault: do not call its answer malformed */
        snprintf(detail, size, "out of memory while reading the answer");
        return NULL;
    }
    if (!root) {
        /*
         * jansson appends " near '<up to 20 bytes of input>'" to err.text, which
         * can be a piece of a token or device code: keep only the message.
         */
        char *near = strstr(err.text, " near ");
        if (near)
            *near = '\0';
        snprintf(detail, size, "malformed answer: not valid JSON (%s at byte %d)", err.text,
                 err.position);
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        fail(detail, size, "not a JSON object", NULL);
        return NULL;
    }
    return root;
}

/* A required string; allow_empty for fields such as scope. NULs inside are refused. */
static tda_status take_string(json_t *root, const char *name, int allow_empty, char **out,
                              char *detail, size_t size)
{
    json_t *v = json_object_get(root, name);
    if (!v)
        return fail(detail, size, "missing field", name);
    if (!json_is_string(v))
        return fail(detail, size, "wrong type (want a string) for", name);
    size_t len = json_string_length(v);
    const char *s = json_string_value(v);
    if (strlen(s) != len)
        return fail(detail, size, "NUL byte inside", name);
    if (len == 0 && !allow_empty)
        return fail(detail, size, "empty", name);
    *out = tda__strndup(s, len);
    return *out ? TDA_OK : TDA_NO_MEMORY;
}

/* A required positive number of seconds, whole or fractional, as ms in [1, max_ms]. */
static tda_status take_seconds_ms(json_t *root, const char *name, int64_t max_ms, int64_t *out,
                                  char *detail, size_t size)
{
    json_t *v = json_object_get(root, name);
    if (!v)
        return fail(detail, size, "missing field", name);
    if (!json_is_number(v))
        return fail(detail, size, "wrong type (want a number) for", name);
    double ms = json_number_value(v) * 1000.0;
    if (!isfinite(ms) || ms < 1.0)
        return fail(detail, size, "not a positive number:", name);
    if (ms > (double)max_ms)
        return fail(detail, size, "implausibly large", name);
    *out = (int64_t)llround(ms);
    return TDA_OK;
}

static tda_status take_integer(json_t *root, const char *name, int64_t min, int64_t max,
                               int64_t *out, char *detail, size_t size)
{
    json_t *v = json_object_get(root, name);
    if (!v)
        return fail(detail, size, "missing field", name);
    if (!json_is_integer(v))
        return fail(detail, size, "wrong type (want an integer) for", name);
    json_int_t n = json_integer_value(v);
    if (n < min || n > max)
        return fail(detail, size, "out of range:", name);
    *out = (int64_t)n;
    return TDA_OK;
}

tda_status tda__parse_code(const char *body, size_t len, tda_code *out, char *detail,
                           size_t detail_size)
{
    memset(out, 0, sizeof *out);
    tda_status load_st;
    json_t *root = load_object(body, len, &load_st, detail, detail_size);
    if (!root)
        return load_st;
    tda_status st = take_string(root, "device_code", 0, &out->device_code, detail, detail_size);
    if (st == TDA_OK)
        st = take_string(root, "user_code", 0, &out->user_code, detail, detail_size);
    if (st == TDA_OK)
        st = take_string(root, "verification_url", 0, &out->verification_url, detail, detail_size);
    if (st == TDA_OK)
        st = take_seconds_ms(root, "expires_in", MAX_CODE_LIFE_MS, &out->expires_in_ms, detail,
                             detail_size);
    if (st == TDA_OK)
        st = take_seconds_ms(root, "interval", MAX_INTERVAL_MS, &out->interval_ms, detail,
                             detail_size);
    tda__json_wipe_strings(root);
    json_decref(root);
    if (st != TDA_OK)
        tda_code_clear(out);
    return st;
}

tda_status tda__parse_token(const char *body, size_t len, tda_token *out, char *detail,
                            size_t detail_size)
{
    memset(out, 0, sizeof *out);
    tda_status load_st;
    json_t *root = load_object(body, len, &load_st, detail, detail_size);
    if (!root)
        return load_st;
    tda_status st = tda__parse_token_object(root, out, detail, detail_size);
    tda__json_wipe_strings(root);
    json_decref(root);
    return st;
}

tda_status tda__parse_token_object(json_t *root, tda_token *out, char *detail, size_t detail_size)
{
    memset(out, 0, sizeof *out);
    tda_status st = take_string(root, "access_token", 0, &out->access_token, detail, detail_size);
    if (st == TDA_OK)
        st = take_string(root, "token_type", 0, &out->token_type, detail, detail_size);
    if (st == TDA_OK)
        st = take_string(root, "refresh_token", 0, &out->refresh_token, detail, detail_size);
    if (st == TDA_OK)
        st = take_string(root, "scope", 1, &out->scope, detail, detail_size);
    if (st == TDA_OK)
        st = take_integer(root, "expires_in", 1, MAX_TOKEN_LIFE_S, &out->expires_in, detail,
                          detail_size);
    /* Up to year 9999: far beyond any real token, far below overflow. */
    if (st == TDA_OK)
        st = take_integer(root, "created_at", 0, 253402300799LL, &out->created_at, detail,
                          detail_size);
    if (st == TDA_OK)
        out->expires_at = out->created_at + out->expires_in;
    if (st != TDA_OK)
        tda_token_clear(out);
    return st;
}

/* ---- shared with the code file (code_file.c), which keeps to the same strict rules */

json_t *tda__json_load_object(const char *text, size_t len, tda_status *st, char *detail,
                              size_t size)
{
    return load_object(text, len, st, detail, size);
}

tda_status tda__json_take_string(json_t *root, const char *name, char **out, char *detail,
                                 size_t size)
{
    return take_string(root, name, 0, out, detail, size);
}

tda_status tda__json_take_integer(json_t *root, const char *name, int64_t min, int64_t max,
                                  int64_t *out, char *detail, size_t size)
{
    return take_integer(root, name, min, max, out, detail, size);
}
