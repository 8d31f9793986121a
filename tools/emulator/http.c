/* SPDX-License-Identifier: Apache-2.0 */
/* libmicrohttpd glue: collects each request's body, routes it, applies the
 * fault plan, and puts the handler's answer on the wire.
 *
 * libmicrohttpd calls the access handler several times per request: once
 * when the headers are in (we note the arrival time then, because the
 * interval rule is about arrivals), once per piece of body, and once more
 * with no data when the body is complete (we answer then). */
#include "http.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "activate_page.h"
#include "answer.h"
#include "common.h"
#include "endpoints.h"
#include "faults.h"
#include "log.h"
#include "stall.h"
#include "state.h"

/* A request body larger than this is answered 413. */
#define EMU_MAX_BODY ((size_t)64 * 1024)

struct emu_request {
    int64_t arrival;
    enum emu_endpoint endpoint;
    unsigned long number; /* per endpoint, for the fault plan; 0 if none */
    char *body;
    size_t len;
    size_t cap;
    bool too_large;
    bool no_memory;
    bool stalled; /* held by a stall fault; closed when resumed at exit */
};

static const struct route {
    const char *path;
    enum emu_endpoint endpoint;
} routes[] = {
    {"/oauth/device/code", EMU_EP_CODE}, {"/oauth/device/token", EMU_EP_TOKEN},
    {"/oauth/token", EMU_EP_REFRESH},    {"/oauth/revoke", EMU_EP_REVOKE},
    {"/activate", EMU_EP_ACTIVATE},      {"/stats", EMU_EP_STATS},
};

static const char activate_prefix[] = "/activate/";

static enum emu_endpoint route(const char *url)
{
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (strcmp(url, routes[i].path) == 0)
            return routes[i].endpoint;
    }
    if (strncmp(url, activate_prefix, sizeof activate_prefix - 1) == 0)
        return EMU_EP_ACTIVATE;
    return EMU_EP_NONE;
}

static const char *allowed_methods(enum emu_endpoint endpoint)
{
    switch (endpoint) {
    case EMU_EP_ACTIVATE:
        return "GET, HEAD, POST";
    case EMU_EP_STATS:
        return "GET, HEAD";
    default:
        return "POST";
    }
}

static bool method_allowed(enum emu_endpoint endpoint, const char *method)
{
    bool is_get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
                  strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    bool is_post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;

    switch (endpoint) {
    case EMU_EP_ACTIVATE:
        return is_get || is_post;
    case EMU_EP_STATS:
        return is_get;
    default:
        return is_post;
    }
}

static void dispatch(struct emu_server *srv, const struct emu_request *req, const char *url,
                     const char *method, struct emu_answer *ans)
{
    const char *body = req->body != NULL ? req->body : "";
    const char *path_code = NULL;

    if (req->endpoint == EMU_EP_NONE) {
        emu_answer_error(ans, MHD_HTTP_NOT_FOUND, "not_found");
        return;
    }
    if (!method_allowed(req->endpoint, method)) {
        emu_answer_error(ans, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed");
        ans->allow = allowed_methods(req->endpoint);
        return;
    }
    switch (req->endpoint) {
    case EMU_EP_CODE:
        emu_handle_device_code(srv, body, req->len, req->arrival, ans);
        break;
    case EMU_EP_TOKEN:
        emu_handle_device_token(srv, body, req->len, req->arrival, ans);
        break;
    case EMU_EP_REFRESH:
        emu_handle_refresh(srv, body, req->len, ans);
        break;
    case EMU_EP_REVOKE:
        emu_handle_revoke(srv, body, req->len, ans);
        break;
    case EMU_EP_ACTIVATE:
        if (strcmp(method, MHD_HTTP_METHOD_POST) == 0) {
            emu_activate_submit(srv, body, req->len, req->arrival, ans);
        } else {
            if (strncmp(url, activate_prefix, sizeof activate_prefix - 1) == 0)
                path_code = url + sizeof activate_prefix - 1;
            emu_activate_form(path_code, ans);
        }
        break;
    case EMU_EP_STATS:
        emu_handle_stats(srv, ans);
        break;
    case EMU_EP_NONE:
    default:
        break;
    }
}

/* json_dumps allocates with malloc (jansson's default allocator), so the
 * text can be handed to libmicrohttpd together with free. */
static struct MHD_Response *make_response(struct emu_answer *ans)
{
    struct MHD_Response *resp;
    char *text;
    size_t len;

    if (ans->json != NULL) {
        text = json_dumps(ans->json, JSON_COMPACT | JSON_REAL_PRECISION(15));
        if (text == NULL)
            return NULL;
        len = strlen(text);
    } else if (ans->body != NULL) {
        text = ans->body;
        len = ans->body_len;
        ans->body = NULL;
    } else {
        return MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    }
    resp = MHD_create_response_from_buffer_with_free_callback(len, text, free);
    if (resp == NULL)
        free(text);
    return resp;
}

/* A streamed answer: the body, then filler, cut off after cut_at bytes. */
struct stream {
    char *text;
    size_t text_len;
    size_t cut_at;
};

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream *st = cls;
    size_t n = 0;

    if (pos >= st->cut_at)
        return MHD_CONTENT_READER_END_WITH_ERROR; /* libmicrohttpd closes */
    while (n < max && pos + n < st->cut_at) {
        size_t at = (size_t)pos + n;
        buf[n++] = (char)(at < st->text_len ? st->text[at] : 'a');
    }
    return (ssize_t)n;
}

static void stream_free(void *cls)
{
    struct stream *st = cls;

    free(st->text);
    free(st);
}

static struct MHD_Response *make_stream(struct emu_answer *ans)
{
    struct stream *st = calloc(1, sizeof *st);
    struct MHD_Response *resp;

    if (st == NULL)
        return NULL;
    st->text = ans->body;
    st->text_len = ans->body_len;
    st->cut_at = ans->cut_at;
    ans->body = NULL;
    resp = MHD_create_response_from_callback(ans->stream_len, (size_t)16 * 1024, stream_read, st,
                                             stream_free);
    if (resp == NULL)
        stream_free(st);
    return resp;
}

/* Shaped like Trakt's: which limit, and when it resets. */
static void add_ratelimit(struct MHD_Response *resp, const struct emu_answer *ans)
{
    char value[200], until[32];
    time_t reset = time(NULL) + (time_t)ans->ratelimit_reset;
    struct tm tm;

    gmtime_r(&reset, &tm);
    strftime(until, sizeof until, "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(value, sizeof value,
             "{\"name\":\"UNAUTHED_API_POST_LIMIT\",\"period\":1,"
             "\"limit\":1,\"remaining\":0,\"until\":\"%s\"}",
             until);
    MHD_add_response_header(resp, "X-Ratelimit", value);
}

static void add_headers(struct MHD_Response *resp, const struct emu_answer *ans)
{
    char seconds[24];

    if (ans->content_type != NULL)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ans->content_type);
    /* RFC 6749 5.1: token answers must not be cached. */
    if (ans->json != NULL)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (ans->ratelimit)
        add_ratelimit(resp, ans);
    if (ans->has_retry_after) {
        snprintf(seconds, sizeof seconds, "%lu", ans->retry_after);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, seconds);
    }
    if (ans->allow != NULL)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, ans->allow);
    if (ans->cloudflare)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_SERVER, "cloudflare");
}

static enum MHD_Result send_answer(struct MHD_Connection *conn, struct emu_answer *ans)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;

    resp = ans->stream ? make_stream(ans) : make_response(ans);
    if (resp == NULL)
        return MHD_NO;
    add_headers(resp, ans);
    ret = MHD_queue_response(conn, ans->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result begin_request(struct emu_server *srv, const char *url, void **req_cls)
{
    struct emu_request *req = calloc(1, sizeof *req);

    if (req == NULL)
        return MHD_NO;
    req->arrival = emu_now_ns();
    req->endpoint = route(url);
    emu_count(srv, EMU_C_REQUESTS);
    if (req->endpoint < EMU_EP_FAULTABLE)
        req->number = emu_next_request_number(srv, req->endpoint);
    *req_cls = req;
    return MHD_YES;
}

/* Past the cap the rest of the body is read and thrown away, so that the
 * 413 goes out on a connection that stays usable. */
static void collect_body(struct emu_request *req, const char *data, size_t size)
{
    size_t want;
    char *grown;

    if (req->too_large || req->no_memory)
        return;
    if (size > EMU_MAX_BODY - req->len) {
        req->too_large = true;
        return;
    }
    want = req->len + size + 1;
    if (want > req->cap) {
        size_t cap = req->cap == 0 ? 1024 : req->cap;
        while (cap < want)
            cap *= 2;
        grown = realloc(req->body, cap);
        if (grown == NULL) {
            req->no_memory = true;
            return;
        }
        req->body = grown;
        req->cap = cap;
    }
    memcpy(req->body + req->len, data, size);
    req->len += size;
    req->body[req->len] = '\0';
}

/* A fault that stands for a proxy answers before anything else looks at the
 * request; the others spoil the answer Trakt's logic gave. */
static enum MHD_Result finish_request(struct emu_server *srv, struct MHD_Connection *conn,
                                      struct emu_request *req, const char *url, const char *method)
{
    struct emu_answer ans;
    const struct emu_fault *fault = NULL;
    enum emu_secret_seen secret = EMU_SECRET_NOT_ASKED;
    enum MHD_Result ret;

    memset(&ans, 0, sizeof ans);
    if (req->endpoint < EMU_EP_FAULTABLE) {
        secret = req->body != NULL && emu_body_has_secret(req->body, req->len) ? EMU_SECRET_SENT
                                                                               : EMU_SECRET_ABSENT;
        if (secret == EMU_SECRET_SENT)
            emu_count(srv, EMU_C_SECRETS_SENT);
    }
    if (req->number != 0)
        fault = emu_fault_find(&srv->config, req->endpoint, req->number);
    if (fault != NULL)
        emu_count(srv, EMU_C_FAULTS_INJECTED);
    if (fault != NULL && emu_fault_skips_logic(fault)) {
        emu_fault_answer(fault, &ans);
    } else if (req->too_large) {
        emu_answer_error(&ans, MHD_HTTP_CONTENT_TOO_LARGE, "request_too_large");
    } else if (req->no_memory) {
        emu_answer_empty(&ans, MHD_HTTP_INTERNAL_SERVER_ERROR);
    } else {
        dispatch(srv, req, url, method, &ans);
        if (fault != NULL)
            emu_fault_spoil(fault, &ans);
    }
    emu_log_request(srv, req->arrival, method, url, secret, &ans);
    if (ans.stall) {
        req->stalled = emu_hold_stalled(srv, conn);
        ret = req->stalled ? MHD_YES : MHD_NO;
    } else {
        ret = ans.drop ? MHD_NO : send_answer(conn, &ans);
    }
    emu_answer_clear(&ans);
    return ret;
}

enum MHD_Result emu_http_handle(void *cls, struct MHD_Connection *conn, const char *url,
                                const char *method, const char *version, const char *upload_data,
                                size_t *upload_data_size, void **req_cls)
{
    struct emu_server *srv = cls;
    struct emu_request *req = *req_cls;

    (void)version;
    if (req == NULL)
        return begin_request(srv, url, req_cls);
    if (req->stalled)
        return MHD_NO; /* resumed at shutdown: close without an answer */
    if (*upload_data_size != 0) {
        collect_body(req, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    return finish_request(srv, conn, req, url, method);
}

void emu_http_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                        enum MHD_RequestTerminationCode toe)
{
    struct emu_request *req = *req_cls;

    (void)cls;
    (void)conn;
    (void)toe;
    if (req != NULL) {
        free(req->body);
        free(req);
        *req_cls = NULL;
    }
}

void emu_http_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                         enum MHD_ConnectionNotificationCode toe)
{
    (void)conn;
    (void)socket_context;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED)
        emu_count(cls, EMU_C_CONNECTIONS);
}
