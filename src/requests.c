/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Request bodies, built with jansson so any client id or secret, quotes and
 * backslashes included, arrives intact. Field names follow Trakt, not RFC 8628:
 * the device token request sends "code" and no grant_type.
 */
#include <jansson.h>
#include <string.h>

#include "protocol.h"

const char *tda__endpoint_path(tda__endpoint ep)
{
    switch (ep) {
    case TDA__EP_DEVICE_CODE:
        return "/oauth/device/code";
    case TDA__EP_DEVICE_TOKEN:
        return "/oauth/device/token";
    case TDA__EP_REFRESH:
        return "/oauth/token";
    case TDA__EP_REVOKE:
        return "/oauth/revoke";
    }
    return "/";
}

void tda__body_clear(tda__body *b)
{
    if (!b)
        return;
    if (b->data) {
        tda__wipe(b->data, b->len);
        tda__free(b->data);
    }
    b->data = NULL;
    b->len = 0;
}

void tda__json_wipe_string(json_t *string)
{
    /* jansson hands out only a const view of the copy it owns, but that copy is its own
       heap block, writable, and about to be freed: casting the const away is sound here. */
    if (json_is_string(string))
        tda__wipe((char *)json_string_value(string), json_string_length(string));
}

void tda__json_wipe_strings(json_t *object)
{
    const char *key;
    json_t *value;
    json_object_foreach (object, key, value)
        tda__json_wipe_string(value);
}

/*
 * 1 when s is well-formed UTF-8 (what json_string demands), so its refusal can
 * be told apart from running out of memory without allocating again.
 */
static int is_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int extra = *p < 0x80             ? 0
                    : (*p & 0xE0) == 0xC0 ? 1
                    : (*p & 0xF0) == 0xE0 ? 2
                    : (*p & 0xF8) == 0xF0 ? 3
                                          : -1;
        if (extra < 0 || (extra == 1 && *p < 0xC2) || (*p == 0xF4 && extra == 3 && p[1] > 0x8F) ||
            *p > 0xF4)
            return 0;
        if (extra == 2 && ((*p == 0xE0 && p[1] < 0xA0) || (*p == 0xED && p[1] > 0x9F)))
            return 0; /* overlong, or a UTF-16 surrogate */
        if (extra == 3 && *p == 0xF0 && p[1] < 0x90)
            return 0;
        p++;
        for (int i = 0; i < extra; i++, p++)
            if ((*p & 0xC0) != 0x80)
                return 0;
    }
    return 1;
}

typedef struct field {
    const char *name;
    const char *value;
    int optional; /* a NULL value leaves the member out instead of being refused */
} field;

static tda_status build_body(const field *fields, size_t count, tda__body *out)
{
    out->data = NULL;
    out->len = 0;
    json_t *object = json_object();
    if (!object)
        return TDA_NO_MEMORY;
    tda_status st = TDA_OK;
    for (size_t i = 0; i < count && st == TDA_OK; i++) {
        if (!fields[i].value && fields[i].optional)
            continue; /* absent, not null and not "": Trakt's rule for the secret */
        if (!fields[i].value || !is_utf8(fields[i].value)) {
            st = TDA_INVALID_ARGUMENT; /* a required field is missing, or not UTF-8 text */
            break;
        }
        json_t *value = json_string(fields[i].value);
        /* The text is valid UTF-8, so only memory can be missing (set_new frees value then). */
        if (!value || json_object_set_new(object, fields[i].name, value) != 0)
            st = TDA_NO_MEMORY;
    }
    if (st == TDA_OK) {
        size_t len = json_dumpb(object, NULL, 0, JSON_COMPACT);
        out->data = len ? tda__malloc(len + 1) : NULL;
        if (!out->data || json_dumpb(object, out->data, len, JSON_COMPACT) != len) {
            tda__free(out->data);
            out->data = NULL;
            st = TDA_NO_MEMORY;
        } else {
            out->data[len] = '\0';
            out->len = len;
        }
    }
    tda__json_wipe_strings(object);
    json_decref(object);
    return st;
}

#define BUILD(out, ...)                                                                            \
    do {                                                                                           \
        const field fields_[] = {__VA_ARGS__};                                                     \
        return build_body(fields_, sizeof fields_ / sizeof fields_[0], out);                       \
    } while (0)

tda_status tda__build_code_request(const char *client_id, tda__body *out)
{
    BUILD(out, {"client_id", client_id, 0});
}

/*
 * The client secret is optional everywhere (Trakt marks it deprecated for
 * sign-in since July 2026; README.md says more): an application on the user's
 * own device has none to keep, so without one the member is left out
 * entirely. Trakt's device-code request never carried it. (A braced
 * initializer in a macro reads as a block to clang-format.)
 */
/* clang-format off */
#define SECRET(value) {"client_secret", (value), 1}
/* clang-format on */

tda_status tda__build_token_request(const char *client_id, const char *client_secret,
                                    const char *device_code, tda__body *out)
{
    BUILD(out, {"code", device_code, 0}, {"client_id", client_id, 0}, SECRET(client_secret));
}

tda_status tda__build_refresh_request(const char *client_id, const char *client_secret,
                                      const char *refresh_token, const char *redirect_uri,
                                      tda__body *out)
{
    BUILD(out, {"refresh_token", refresh_token, 0}, {"client_id", client_id, 0},
          SECRET(client_secret), {"redirect_uri", redirect_uri, 0},
          {"grant_type", "refresh_token", 0});
}

tda_status tda__build_revoke_request(const char *client_id, const char *client_secret,
                                     const char *access_token, tda__body *out)
{
    BUILD(out, {"token", access_token, 0}, {"client_id", client_id, 0}, SECRET(client_secret));
}
