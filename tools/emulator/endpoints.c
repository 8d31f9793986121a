/* SPDX-License-Identifier: Apache-2.0 */
/* The JSON endpoints: read the request body, check the client, ask state.c,
 * and say which status and body go back. Trakt's device-token endpoint
 * answers with the status alone, so its non-200 answers have empty bodies. */
#include "endpoints.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <microhttpd.h>

static const char invalid_grant_description[] =
    "The provided authorization grant is invalid, expired, revoked, does not "
    "match the redirection URI used in the authorization request, or was "
    "issued to another client.";

static json_t *parse_object(const char *body, size_t len)
{
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);

    if (root != NULL && !json_is_object(root)) {
        json_decref(root);
        return NULL;
    }
    return root;
}

/* A string with an embedded NUL would compare equal to its prefix in C;
 * treat it as absent instead. */
static const char *field_string(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);

    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
        return NULL;
    return json_string_value(v);
}

static bool same_text(const char *got, const char *want)
{
    return got != NULL && strcmp(got, want) == 0;
}

/* Trakt, since July 2026: the secret is deprecated and optional. A public
 * app (no --client-secret) takes requests without one; an app with a
 * secret takes none or the right one; --require-secret restores the old
 * rule that refuses a request without one. A wrong secret is always 401. */
static bool client_rejected(const struct emu_config *cfg, const json_t *req, struct emu_answer *ans)
{
    bool sent = json_object_get(req, "client_secret") != NULL;

    if (cfg->client_id != NULL && !same_text(field_string(req, "client_id"), cfg->client_id)) {
        emu_answer_error(ans, MHD_HTTP_FORBIDDEN, "invalid_client");
        return true;
    }
    if (!sent && cfg->require_secret) {
        emu_answer_error(ans, MHD_HTTP_UNAUTHORIZED, "invalid_client");
        ans->note = "no secret";
        return true;
    }
    if (sent && cfg->client_secret != NULL &&
        !same_text(field_string(req, "client_secret"), cfg->client_secret)) {
        emu_answer_error(ans, MHD_HTTP_UNAUTHORIZED, "invalid_client");
        return true;
    }
    return false;
}

bool emu_body_has_secret(const char *body, size_t len)
{
    json_t *req = parse_object(body, len);
    bool sent = json_object_get(req, "client_secret") != NULL;

    json_decref(req);
    return sent;
}

static json_t *token_json(const struct emu_config *cfg, const struct emu_pair_text *pair)
{
    return json_pack("{s:s, s:s, s:I, s:s, s:s, s:I}", "access_token", pair->access, "token_type",
                     "bearer", "expires_in", (json_int_t)cfg->token_life, "refresh_token",
                     pair->refresh, "scope", "public", "created_at", (json_int_t)time(NULL));
}

void emu_handle_device_code(struct emu_server *srv, const char *body, size_t len, int64_t arrival,
                            struct emu_answer *ans)
{
    const struct emu_config *cfg = &srv->config;
    json_t *req = parse_object(body, len);
    const char *client_id = field_string(req, "client_id");
    struct emu_issued_code code;

    if (client_id == NULL) {
        emu_answer_error(ans, MHD_HTTP_BAD_REQUEST, "invalid_request");
    } else if (cfg->client_id != NULL && strcmp(client_id, cfg->client_id) != 0) {
        emu_answer_error(ans, MHD_HTTP_FORBIDDEN, "invalid_client");
    } else if (!emu_state_issue_code(srv, arrival, &code)) {
        emu_answer_empty(ans, MHD_HTTP_INTERNAL_SERVER_ERROR);
    } else {
        snprintf(ans->code_note, sizeof ans->code_note, "code=%lu", code.serial);
        emu_answer_json(ans, MHD_HTTP_OK,
                        json_pack("{s:s, s:s, s:s, s:o, s:o}", "device_code", code.device_code,
                                  "user_code", code.user_code, "verification_url",
                                  code.verification_url, "expires_in",
                                  emu_duration_json(&cfg->code_life), "interval",
                                  emu_duration_json(&cfg->interval)));
    }
    json_decref(req);
}

/* Retry-After carries whole seconds, so a sub-second interval rounds up:
 * a client that obeys it is never early. */
static unsigned long interval_ceil_seconds(const struct emu_config *cfg)
{
    return (unsigned long)((cfg->interval.ns + EMU_NS_PER_SEC - 1) / EMU_NS_PER_SEC);
}

static void answer_poll(struct emu_server *srv, const char *device_code, int64_t arrival,
                        struct emu_answer *ans)
{
    struct emu_pair_text pair;
    unsigned long serial = 0;
    enum emu_poll_outcome outcome = emu_state_poll(srv, device_code, arrival, &pair, &serial);

    if (serial != 0)
        snprintf(ans->code_note, sizeof ans->code_note, "code=%lu", serial);
    switch (outcome) {
    case EMU_POLL_UNKNOWN:
        emu_answer_empty(ans, MHD_HTTP_NOT_FOUND);
        break;
    case EMU_POLL_EARLY:
        emu_answer_empty(ans, MHD_HTTP_TOO_MANY_REQUESTS);
        ans->has_retry_after = true;
        ans->retry_after = interval_ceil_seconds(&srv->config);
        ans->note = "early";
        break;
    case EMU_POLL_USED:
        emu_answer_empty(ans, MHD_HTTP_CONFLICT);
        break;
    case EMU_POLL_EXPIRED:
        emu_answer_empty(ans, MHD_HTTP_GONE);
        break;
    case EMU_POLL_DENIED:
        emu_answer_empty(ans, 418);
        break;
    case EMU_POLL_APPROVED:
        emu_answer_json(ans, MHD_HTTP_OK, token_json(&srv->config, &pair));
        break;
    case EMU_POLL_PENDING:
        emu_answer_empty(ans, MHD_HTTP_BAD_REQUEST);
        break;
    case EMU_POLL_NO_MEMORY:
    default:
        emu_answer_empty(ans, MHD_HTTP_INTERNAL_SERVER_ERROR);
        break;
    }
}

/* A body without a code also gets 400, because that is what a client of
 * Trakt would see; only the log tells it apart from "pending". */
void emu_handle_device_token(struct emu_server *srv, const char *body, size_t len, int64_t arrival,
                             struct emu_answer *ans)
{
    json_t *req = parse_object(body, len);
    const char *device_code = field_string(req, "code");

    if (device_code == NULL) {
        emu_answer_error(ans, MHD_HTTP_BAD_REQUEST, "invalid_request");
        ans->note = "bad request";
    } else if (!client_rejected(&srv->config, req, ans)) {
        answer_poll(srv, device_code, arrival, ans);
    }
    json_decref(req);
}

static void answer_refresh(struct emu_server *srv, const char *refresh_token,
                           struct emu_answer *ans)
{
    struct emu_pair_text pair;

    switch (emu_state_refresh(srv, refresh_token, &pair)) {
    case EMU_REFRESH_OK:
        emu_answer_json(ans, MHD_HTTP_OK, token_json(&srv->config, &pair));
        break;
    case EMU_REFRESH_INVALID_GRANT:
        emu_answer_json(ans, MHD_HTTP_BAD_REQUEST,
                        json_pack("{s:s, s:s}", "error", "invalid_grant", "error_description",
                                  invalid_grant_description));
        break;
    case EMU_REFRESH_NO_MEMORY:
    default:
        emu_answer_empty(ans, MHD_HTTP_INTERNAL_SERVER_ERROR);
        break;
    }
}

void emu_handle_refresh(struct emu_server *srv, const char *body, size_t len,
                        struct emu_answer *ans)
{
    json_t *req = parse_object(body, len);
    const char *refresh_token;

    /* No JSON object and no refresh_token are both invalid_request, the same answer
   * on purpose; the client and grant type checks come between them. */
    if (req == NULL) { /* NOLINT(bugprone-branch-clone) */
        emu_answer_error(ans, MHD_HTTP_BAD_REQUEST, "invalid_request");
    } else if (client_rejected(&srv->config, req, ans)) {
        /* answered */
    } else if (!same_text(field_string(req, "grant_type"), "refresh_token")) {
        emu_answer_error(ans, MHD_HTTP_BAD_REQUEST, "unsupported_grant_type");
    } else if ((refresh_token = field_string(req, "refresh_token")) == NULL) {
        emu_answer_error(ans, MHD_HTTP_BAD_REQUEST, "invalid_request");
    } else {
        answer_refresh(srv, refresh_token, ans);
    }
    json_decref(req);
}

/* RFC 7009: the answer is 200 whether or not the token was known, so that
 * revocation tells a caller nothing about which tokens exist. */
void emu_handle_revoke(struct emu_server *srv, const char *body, size_t len, struct emu_answer *ans)
{
    json_t *req = parse_object(body, len);
    const char *token;

    /* No JSON object and no token are both invalid_request, the same answer on
   * purpose; the client check comes between them. */
    if (req == NULL) { /* NOLINT(bugprone-branch-clone) */
        emu_answer_error(ans, MHD_HTTP_BAD_REQUEST, "invalid_request");
    } else if (client_rejected(&srv->config, req, ans)) {
        /* answered */
    } else if ((token = field_string(req, "token")) == NULL) {
        emu_answer_error(ans, MHD_HTTP_BAD_REQUEST, "invalid_request");
    } else {
        (void)emu_state_revoke(srv, token);
        emu_answer_empty(ans, MHD_HTTP_OK);
    }
    json_decref(req);
}

void emu_handle_stats(struct emu_server *srv, struct emu_answer *ans)
{
    unsigned long long counts[EMU_C_COUNT];
    json_t *obj = json_object();

    emu_stats_snapshot(srv, counts);
    for (int i = 0; obj != NULL && i < EMU_C_COUNT; i++) {
        if (json_object_set_new(obj, emu_counter_name((enum emu_counter)i),
                                json_integer((json_int_t)counts[i])) != 0) {
            json_decref(obj);
            obj = NULL;
        }
    }
    emu_answer_json(ans, MHD_HTTP_OK, obj);
}
