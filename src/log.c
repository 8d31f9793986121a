/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The verbose log: each request and answer as text lines for a log callback,
 * with every secret replaced by "[redacted]" before the text exists anywhere
 * but in our own, wiped, buffers.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "log.h"

/* JSON fields that carry secrets, in requests and answers alike. */
static const char *const secret_fields[] = {"client_secret", "code",          "device_code",
                                            "access_token",  "refresh_token", "token"};

void tda_client_set_log(tda_client *c, tda_log_fn fn, void *userdata)
{
    if (!c)
        return;
    c->log_fn = fn;
    c->log_userdata = userdata;
}

static void emit(tda_client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void emit(tda_client *c, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* Defence in depth: the secret may not hide anywhere in the line. */
    size_t len = c->client_secret ? strlen(c->client_secret) : 0;
    for (char *hit = len >= 4 ? strstr(line, c->client_secret) : NULL; hit;
         hit = strstr(hit + len, c->client_secret))
        memset(hit, '*', len);
    c->log_fn(line, c->log_userdata);
    tda__wipe(line, sizeof line);
}

static int is_secret_field(const char *key)
{
    for (size_t i = 0; i < sizeof secret_fields / sizeof secret_fields[0]; i++)
        if (strcmp(key, secret_fields[i]) == 0)
            return 1;
    return 0;
}

/*
 * Replaces the value of every secret field with "[redacted]", at any depth
 * (an error answer may echo a request, or wrap it); past a depth no honest
 * answer reaches, whole values are redacted rather than searched.
 */
static void redact(json_t *value, int depth)
{
    const char *key;
    json_t *member;
    void *tmp;
    size_t i;
    json_object_foreach_safe (value, tmp, key, member) {
        if (is_secret_field(key) ||
            (depth >= 8 && (json_is_object(member) || json_is_array(member)))) {
            tda__json_wipe_string(member); /* jansson frees the old value without wiping it */
            json_object_set_new(value, key, json_string("[redacted]"));
        } else {
            redact(member, depth + 1);
        }
    }
    json_array_foreach (value, i, member)
        redact(member, depth + 1);
}

/* A body as loggable text: JSON with secret values replaced, or a description. */
static void emit_body(tda_client *c, const char *prefix, const char *body, size_t len,
                      const char *content_type)
{
    if (!body || len == 0) {
        emit(c, "%s(empty body)", prefix);
        return;
    }
    json_t *root = json_loadb(body, len, 0, NULL);
    if (!json_is_object(root)) {
        /* Not a JSON object: its text could be anything, so only its shape is shown. */
        emit(c, "%s(%zu bytes of %s)", prefix, len, content_type ? content_type : "unknown type");
        json_decref(root);
        return;
    }
    redact(root, 0);
    char text[900];
    size_t n = json_dumpb(root, text, sizeof text - 1, JSON_COMPACT);
    if (n < sizeof text)
        text[n] = '\0';
    else
        snprintf(text, sizeof text, "(%zu bytes of JSON)", len);
    emit(c, "%s%s", prefix, text);
    tda__wipe(text, sizeof text);
    tda__json_wipe_strings(root);
    json_decref(root);
}

void tda__log_request(tda_client *c, const char *url, const tda__body *body)
{
    if (!c->log_fn)
        return;
    emit(c, "> POST %s", url);
    for (const struct curl_slist *h = c->headers; h; h = h->next)
        if (strchr(h->data, ':')[1] != '\0') /* skip "expect:", which only removes a header */
            emit(c, "> %s", h->data);
    emit_body(c, "> ", body->data, body->len, "application/json");
}

void tda__log_answer(tda_client *c, tda_status transport, const tda__response *r, int64_t took_ms,
                     const char *detail)
{
    if (!c->log_fn)
        return;
    if (transport != TDA_OK) {
        emit(c, "< no answer after %lld ms: %s", (long long)took_ms, detail);
        return;
    }
    emit(c, "< HTTP %ld after %lld ms", r->http_status, (long long)took_ms);
    const char *names[] = {"content-type", "retry-after", "server", "location"};
    const char *values[] = {r->content_type, r->retry_after, r->server, r->location};
    for (size_t i = 0; i < 4; i++)
        if (values[i])
            emit(c, "< %s: %.200s", names[i], values[i]);
    emit_body(c, "< ", r->body, r->body_len, r->content_type);
}
