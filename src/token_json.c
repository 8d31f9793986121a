/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The token file's text: Trakt's fields, the client id the token belongs to,
 * and the stamp of when it arrived here; and the dump that every file holding
 * a secret goes through (the saved code's too, code_file.c). Parsed once per load, since loading
 * is what every call of tda_token_get does.
 *
 * Why a saved file never needs more than TDA__TOKEN_FILE_MAX: jansson refuses
 * raw control bytes inside strings, so every byte it escapes on output was
 * already escaped at least as long in the answer, and it writes UTF-8 as is.
 * So the four strings take no more bytes here than in the answer (at most
 * TDA__MAX_BODY); the rest is bounded names, numbers and the client id.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "protocol.h"

#define MAX_WALL_S 253402300799LL /* year 9999, as for created_at */
#define MAX_UPTIME_MS 1000000000000000LL

tda_status tda__json_dump_secret(json_t *root, char **text, size_t *len)
{
    *text = NULL;
    *len = 0;
    tda__json_oom_reset();
    /* A dump that failed returns 0: never take that for an empty text. */
    size_t n = json_dumpb(root, NULL, 0, JSON_INDENT(2));
    char *out = n ? tda__malloc(n + 2) : NULL;
    if (out && json_dumpb(root, out, n, JSON_INDENT(2)) == n && !tda__json_oom_happened()) {
        out[n] = '\n';
        out[n + 1] = '\0';
        *text = out;
        *len = n + 1;
        return TDA_OK;
    }
    if (out) {
        tda__wipe(out, n + 2);
        tda__free(out);
    }
    return TDA_NO_MEMORY;
}

tda_status tda__token_to_json(const tda_token *t, char **text, size_t *len)
{
    *text = NULL;
    *len = 0;
    const tda_received *r = &t->received;
    tda__json_oom_reset();
    json_t *root = json_pack(
        "{s:s?, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:s, s:s}", "client_id", t->client_id,
        "access_token", t->access_token, "token_type", t->token_type, "refresh_token",
        t->refresh_token, "scope", t->scope ? t->scope : "", "created_at",
        (json_int_t)t->created_at, "expires_in", (json_int_t)t->expires_in, "expires_at",
        (json_int_t)t->expires_at, "received_at", (json_int_t)r->wall_s, "received_uptime_ms",
        (json_int_t)r->uptime_ms, "received_boot_id", r->boot_id, "received_host", r->host);
    if (!root) /* a required string missing or not UTF-8, unless memory ran out */
        return tda__json_oom_happened() ? TDA_NO_MEMORY : TDA_INVALID_ARGUMENT;
    tda_status st = tda__json_dump_secret(root, text, len);
    tda__json_wipe_strings(root);
    json_decref(root);
    return st;
}

static tda_status damaged(char *detail, size_t size, const char *what, const char *field)
{
    snprintf(detail, size, "%s %s", what, field);
    return TDA_FILE_CORRUPT;
}

/* An optional integer in [min, max]; absent leaves *out as it is. */
static tda_status optional_integer(json_t *root, const char *name, int64_t min, int64_t max,
                                   int64_t *out, char *detail, size_t size)
{
    json_t *v = json_object_get(root, name);
    if (!v)
        return TDA_OK;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return damaged(detail, size, "a bad value for", name);
    *out = (int64_t)json_integer_value(v);
    return TDA_OK;
}

/* An optional short string into a fixed buffer; absent leaves it "". */
static tda_status optional_text(json_t *root, const char *name, char *out, size_t out_size,
                                char *detail, size_t size)
{
    json_t *v = json_object_get(root, name);
    if (!v)
        return TDA_OK;
    if (!json_is_string(v) || json_string_length(v) >= out_size ||
        strlen(json_string_value(v)) != json_string_length(v))
        return damaged(detail, size, "a bad value for", name);
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    return TDA_OK;
}

static tda_status take_fields(json_t *root, tda_token *out, char *detail, size_t size)
{
    tda_status st = tda__parse_token_object(root, out, detail, size);
    if (st != TDA_OK) {
        /* Its words are about answers ("malformed answer: missing field x"); keep the point. */
        const char *prefix = "malformed answer: ";
        if (strncmp(detail, prefix, strlen(prefix)) == 0)
            memmove(detail, detail + strlen(prefix), strlen(detail + strlen(prefix)) + 1);
        return st == TDA_NO_MEMORY ? st : TDA_FILE_CORRUPT;
    }
    json_t *id = json_object_get(root, "client_id");
    if (id && !json_is_string(id) && !json_is_null(id))
        return damaged(detail, size, "a bad value for", "client_id"); /* damage, not absence */
    if (json_is_string(id) && !(out->client_id = tda__strdup(json_string_value(id))))
        return TDA_NO_MEMORY;
    tda_received *r = &out->received;
    st = optional_integer(root, "received_at", -MAX_WALL_S, MAX_WALL_S, &r->wall_s, detail, size);
    if (st == TDA_OK)
        st = optional_integer(root, "received_uptime_ms", -MAX_UPTIME_MS, MAX_UPTIME_MS,
                              &r->uptime_ms, detail, size);
    if (st == TDA_OK)
        st = optional_text(root, "received_boot_id", r->boot_id, sizeof r->boot_id, detail, size);
    if (st == TDA_OK)
        st = optional_text(root, "received_host", r->host, sizeof r->host, detail, size);
    return st;
}

tda_status tda__token_from_json(const char *text, size_t len, tda_token *out, char *detail,
                                size_t detail_size)
{
    memset(out, 0, sizeof *out);
    detail[0] = '\0'; /* a failed allocation below may say nothing */
    json_error_t err;
    memset(&err, 0, sizeof err); /* jansson leaves it unset when its first allocation fails */
    tda__json_oom_reset();
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
    /* jansson reports a failed allocation as a syntax error, or not at all: see alloc.c. */
    if (tda__json_oom_happened() ||
        (!root && (json_error_code(&err) == json_error_out_of_memory || err.text[0] == '\0'))) {
        tda__json_wipe_strings(root);
        json_decref(root);
        snprintf(detail, detail_size, "out of memory while reading it");
        return TDA_NO_MEMORY;
    }
    if (!root) {
        /* jansson's " near '...'" quotes the input, which may be a piece of a token. */
        char *near = strstr(err.text, " near ");
        if (near)
            *near = '\0';
        snprintf(detail, detail_size, "not valid JSON (%s at byte %d)", err.text, err.position);
        return TDA_FILE_CORRUPT;
    }
    tda_status st = json_is_object(root) ? take_fields(root, out, detail, detail_size)
                                         : damaged(detail, detail_size, "not a JSON", "object");
    tda__json_wipe_strings(root);
    json_decref(root);
    if (st == TDA_NO_MEMORY && !detail[0])
        snprintf(detail, detail_size, "out of memory while reading it");
    if (st != TDA_OK)
        tda_token_clear(out);
    return st;
}
