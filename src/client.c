/* SPDX-License-Identifier: Apache-2.0 */
/* The client handle: settings, headers, cancel pipe, the last call's outcome. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"

#define DEFAULT_TIMEOUT_MS 30000L
#define MAX_USER_AGENT 256
#define MAX_REDIRECT_URI 1024

/* Header values must not smuggle in CR/LF or other control bytes. */
static int printable_ascii(const char *s, size_t max_len)
{
    size_t len = strlen(s);
    if (len == 0 || len > max_len)
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
            return 0;
    return 1;
}

static struct curl_slist *append_header(struct curl_slist *list, const char *name,
                                        const char *value)
{
    size_t len = strlen(name) + strlen(value) + 3;
    char *line = tda__malloc(len);
    if (!line)
        return NULL;
    snprintf(line, len, "%s: %s", name, value);
    struct curl_slist *grown = curl_slist_append(list, line);
    tda__free(line);
    return grown;
}

/*
 * The headers every request carries, as Trakt asks: JSON content, a User-Agent
 * that names the application (Cloudflare in front of Trakt blocks requests
 * with none or a generic one), trakt-api-version 2 and the client id as
 * trakt-api-key; names in lower case (capitalised ones have been blocked over
 * HTTP/1.1). Ours replace libcurl's own User-Agent, Accept and Content-Type;
 * "expect:" with no value stops libcurl from sending Expect: 100-continue.
 */
static tda_status rebuild_headers(tda_client *c)
{
    const char *names[] = {"content-type", "accept", "user-agent", "trakt-api-version",
                           "trakt-api-key"};
    const char *values[] = {"application/json", "application/json", c->user_agent, "2",
                            c->client_id};
    struct curl_slist *list = curl_slist_append(NULL, "expect:");
    for (size_t i = 0; list && i < sizeof names / sizeof names[0]; i++) {
        struct curl_slist *grown = append_header(list, names[i], values[i]);
        if (!grown) {
            curl_slist_free_all(list);
            list = NULL;
        }
        list = grown;
    }
    if (!list)
        return TDA_NO_MEMORY;
    curl_slist_free_all(c->headers);
    c->headers = list;
    return TDA_OK;
}

tda_client *tda_client_new(const char *client_id, const char *client_secret)
{
    if (!client_id || !printable_ascii(client_id, 1024))
        return NULL;
    if (client_secret && !printable_ascii(client_secret, 1024))
        return NULL;
    tda_client *c = tda__calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->cancel_pipe[0] = c->cancel_pipe[1] = -1;
    atomic_init(&c->cancelled, 0);
    c->timeout_ms = DEFAULT_TIMEOUT_MS;
    c->retry_after_ms = -1;
    c->client_id = tda__strdup(client_id);
    c->client_secret = client_secret ? tda__strdup(client_secret) : NULL;
    c->base_url = tda__strdup(TDA_DEFAULT_BASE_URL);
    c->user_agent = tda__strdup("traktdeviceauth/" TDA_VERSION_STRING);
    c->redirect_uri = tda__strdup(TDA_DEFAULT_REDIRECT_URI);
    if (!c->client_id || (client_secret && !c->client_secret) || !c->base_url || !c->user_agent ||
        !c->redirect_uri || pipe2(c->cancel_pipe, O_CLOEXEC | O_NONBLOCK) != 0 ||
        tda__transport_init(&c->transport) != TDA_OK || rebuild_headers(c) != TDA_OK) {
        tda_client_free(c);
        return NULL;
    }
    c->jitter_seed = (uint64_t)tda_monotonic_ms() ^ ((uint64_t)getpid() << 32) ^
                     (uint64_t)(uintptr_t)c;
    return c;
}

void tda_client_free(tda_client *c)
{
    if (!c)
        return;
    tda__transport_cleanup(&c->transport);
    curl_slist_free_all(c->headers);
    for (int i = 0; i < 2; i++)
        if (c->cancel_pipe[i] >= 0)
            close(c->cancel_pipe[i]);
    tda__free(c->client_id);
    tda__free_secret(c->client_secret);
    tda__free(c->base_url);
    tda__free(c->user_agent);
    tda__free(c->ca_file);
    tda__free(c->redirect_uri);
    tda__wipe(c->detail, sizeof c->detail);
    tda__free(c);
}

tda_status tda_client_set_base_url(tda_client *c, const char *url)
{
    if (!c)
        return TDA_INVALID_ARGUMENT;
    char *normalized = NULL;
    char why[160] = "out of memory";
    tda_status st = tda__url_check(url, &normalized, why, sizeof why);
    if (st != TDA_OK) {
        tda__client_set_detail(c, "%s", why);
        return st;
    }
    tda__free(c->base_url);
    c->base_url = normalized;
    return TDA_OK;
}

const char *tda_client_base_url(const tda_client *c)
{
    return c ? c->base_url : NULL;
}

tda_status tda_client_set_user_agent(tda_client *c, const char *ua)
{
    if (!c || !ua || !printable_ascii(ua, MAX_USER_AGENT))
        return TDA_INVALID_ARGUMENT;
    char *copy = tda__strdup(ua);
    if (!copy)
        return TDA_NO_MEMORY;
    char *old = c->user_agent;
    c->user_agent = copy;
    tda_status st = rebuild_headers(c);
    if (st != TDA_OK) {
        c->user_agent = old;
        tda__free(copy);
        return st;
    }
    tda__free(old);
    return TDA_OK;
}

tda_status tda_client_set_redirect_uri(tda_client *c, const char *uri)
{
    if (!c || !uri || !printable_ascii(uri, MAX_REDIRECT_URI))
        return TDA_INVALID_ARGUMENT;
    char *copy = tda__strdup(uri);
    if (!copy)
        return TDA_NO_MEMORY;
    tda__free(c->redirect_uri);
    c->redirect_uri = copy;
    return TDA_OK;
}

tda_status tda_client_set_ca_file(tda_client *c, const char *path)
{
    struct stat sb;
    if (!c || !path || !*path || stat(path, &sb) != 0 || !S_ISREG(sb.st_mode) ||
        access(path, R_OK) != 0)
        return TDA_INVALID_ARGUMENT;
    /* libcurl copies the string; the easy handle keeps it for every request. */
    char *copy = tda__strdup(path);
    if (!copy || curl_easy_setopt(c->transport.slot.easy, CURLOPT_CAINFO, path) != CURLE_OK) {
        tda__free(copy);
        return TDA_NO_MEMORY;
    }
    /* Kept for the engine's own handles (multi_pool.c). */
    tda__free(c->ca_file);
    c->ca_file = copy;
    return TDA_OK;
}

tda_status tda_client_set_timeout_ms(tda_client *c, long ms)
{
    if (!c || ms < 1)
        return TDA_INVALID_ARGUMENT;
    c->timeout_ms = ms;
    return TDA_OK;
}

long tda_client_http_status(const tda_client *c)
{
    return c ? c->http_status : 0;
}

long tda_client_retry_after_ms(const tda_client *c)
{
    return c ? (long)c->retry_after_ms : -1;
}

const char *tda_client_error_detail(const tda_client *c)
{
    return c ? c->detail : "";
}

void tda_client_cancel(tda_client *c)
{
    if (!c)
        return;
    /* Only async-signal-safe steps: an atomic store and write(2). */
    atomic_store(&c->cancelled, 1);
    ssize_t ignored = write(c->cancel_pipe[1], "x", 1);
    (void)ignored; /* a full pipe already wakes the waiter */
}

void tda_client_reset_cancel(tda_client *c)
{
    if (!c)
        return;
    atomic_store(&c->cancelled, 0);
    tda__drain_cancel_pipe(c->cancel_pipe[0]);
}

void tda__client_forget_outcome(tda_client *c)
{
    c->http_status = 0;
    c->retry_after_ms = -1;
    c->detail[0] = '\0';
}

void tda__client_set_detail(tda_client *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->detail, sizeof c->detail, fmt, ap);
    va_end(ap);
}

void tda__client_redact(tda_client *c, const char *secret)
{
    tda__redact(c->detail, secret);
}
