/* SPDX-License-Identifier: Apache-2.0 */
/* The server's memory: device codes, token pairs, counters, and the rules
 * that decide what a poll, a refresh or a revocation gets. Every public
 * function here takes the lock for exactly one step, so each rule is applied
 * atomically even with a thread pool. */
#include "state.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "random.h"
#include "tls.h"

/* A generated value that collides with a live one is drawn again; with
 * 256 and 41 bits of entropy this loop practically never runs twice. */
#define MAX_DRAWS 16

enum decision { DECISION_NONE, DECISION_APPROVED, DECISION_DENIED };

struct emu_code {
    char device_code[EMU_SECRET_HEX + 1];
    char user_code[EMU_USER_CODE_LEN + 1];
    unsigned long serial; /* 1 for the first code issued: names it in the log */
    int64_t issued_ns;
    int64_t last_poll_ns;
    bool polled;
    unsigned long answered_polls; /* polls that were not early */
    enum decision decision;       /* set by a person at /activate */
    bool token_issued;
};

enum pair_state { PAIR_ACTIVE, PAIR_SPENT, PAIR_REVOKED };

struct emu_pair {
    char access[EMU_SECRET_HEX + 1];
    char refresh[EMU_SECRET_HEX + 1];
    enum pair_state state;
};

static const char *const counter_names[EMU_C_COUNT] = {
    [EMU_C_REQUESTS] = "requests",
    [EMU_C_CONNECTIONS] = "connections",
    [EMU_C_POLLS] = "polls",
    [EMU_C_EARLY_POLLS] = "early_polls",
    [EMU_C_CODES_ISSUED] = "codes_issued",
    [EMU_C_TOKENS_ISSUED] = "tokens_issued",
    [EMU_C_REFRESHES] = "refreshes",
    [EMU_C_REVOKES] = "revokes",
    [EMU_C_FAULTS_INJECTED] = "faults_injected",
    [EMU_C_SECRETS_SENT] = "secrets_sent",
};

int64_t emu_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * EMU_NS_PER_SEC + ts.tv_nsec;
}

const char *emu_counter_name(enum emu_counter counter)
{
    return counter_names[counter];
}

bool emu_server_init(struct emu_server *srv, struct emu_config *cfg)
{
    memset(srv, 0, sizeof *srv);
    if (cfg->log_path != NULL) {
        srv->log = fopen(cfg->log_path, "a");
        if (srv->log == NULL) {
            fprintf(stderr, "%s: cannot open log %s: %s\n", EMU_NAME, cfg->log_path,
                    strerror(errno));
            return false;
        }
    }
    if (pthread_mutex_init(&srv->lock, NULL) != 0) {
        if (srv->log != NULL)
            fclose(srv->log);
        return false;
    }
    /* The server now owns the fault plan. */
    srv->config = *cfg;
    cfg->faults = NULL;
    cfg->fault_count = 0;
    srv->start_ns = emu_now_ns();
    return true;
}

void emu_server_set_port(struct emu_server *srv, unsigned int port)
{
    pthread_mutex_lock(&srv->lock);
    if (srv->config.verification_url != NULL)
        snprintf(srv->verification_url, sizeof srv->verification_url, "%s",
                 srv->config.verification_url);
    else
        snprintf(srv->verification_url, sizeof srv->verification_url, "%s://%s:%u/activate",
                 emu_scheme(&srv->config), srv->config.url_host, port);
    pthread_mutex_unlock(&srv->lock);
}

void emu_server_destroy(struct emu_server *srv)
{
    emu_index_free(&srv->store.codes_by_user, false);
    emu_index_free(&srv->store.codes_by_device, true);
    emu_index_free(&srv->store.pairs_by_refresh, false);
    emu_index_free(&srv->store.pairs_by_access, true);
    if (srv->log != NULL)
        fclose(srv->log);
    pthread_mutex_destroy(&srv->lock);
    emu_config_clear(&srv->config);
}

void emu_count(struct emu_server *srv, enum emu_counter counter)
{
    pthread_mutex_lock(&srv->lock);
    srv->counters[counter]++;
    pthread_mutex_unlock(&srv->lock);
}

unsigned long emu_next_request_number(struct emu_server *srv, enum emu_endpoint endpoint)
{
    unsigned long n;
    pthread_mutex_lock(&srv->lock);
    n = ++srv->endpoint_requests[endpoint];
    pthread_mutex_unlock(&srv->lock);
    return n;
}

void emu_stats_snapshot(struct emu_server *srv, unsigned long long out[EMU_C_COUNT])
{
    pthread_mutex_lock(&srv->lock);
    memcpy(out, srv->counters, sizeof srv->counters);
    pthread_mutex_unlock(&srv->lock);
}

/* ---------------------------------------------------------------- codes */

static bool draw_code(struct emu_store *store, struct emu_code *code)
{
    for (int i = 0; i < MAX_DRAWS; i++) {
        if (!emu_random_hex(code->device_code, EMU_SECRET_BYTES) ||
            !emu_random_user_code(code->user_code))
            return false;
        if (emu_index_get(&store->codes_by_device, code->device_code) == NULL &&
            emu_index_get(&store->codes_by_user, code->user_code) == NULL)
            return true;
    }
    return false;
}

bool emu_state_issue_code(struct emu_server *srv, int64_t now, struct emu_issued_code *out)
{
    struct emu_code *code = calloc(1, sizeof *code);
    struct emu_store *store = &srv->store;
    bool owned = false, stored = false;

    if (code == NULL)
        return false;
    code->issued_ns = now;
    pthread_mutex_lock(&srv->lock);
    /* The device index owns the record, so it is filled first: if the second
   * insert fails the record is merely unreachable by user code, and is
   * freed with the index. */
    if (draw_code(store, code) && emu_index_put(&store->codes_by_device, code->device_code, code)) {
        owned = true;
        stored = emu_index_put(&store->codes_by_user, code->user_code, code);
    }
    if (stored) {
        code->serial = (unsigned long)++srv->counters[EMU_C_CODES_ISSUED];
        out->serial = code->serial;
        memcpy(out->device_code, code->device_code, sizeof out->device_code);
        memcpy(out->user_code, code->user_code, sizeof out->user_code);
        memcpy(out->verification_url, srv->verification_url, sizeof out->verification_url);
    }
    pthread_mutex_unlock(&srv->lock);
    if (!owned)
        free(code);
    return stored;
}

/* ---------------------------------------------------------------- pairs */

static bool draw_pair(struct emu_store *store, struct emu_pair *pair)
{
    for (int i = 0; i < MAX_DRAWS; i++) {
        if (!emu_random_hex(pair->access, EMU_SECRET_BYTES) ||
            !emu_random_hex(pair->refresh, EMU_SECRET_BYTES))
            return false;
        if (emu_index_get(&store->pairs_by_access, pair->access) == NULL &&
            emu_index_get(&store->pairs_by_refresh, pair->refresh) == NULL)
            return true;
    }
    return false;
}

/* Caller holds the lock. */
static bool new_pair(struct emu_store *store, struct emu_pair_text *out)
{
    struct emu_pair *pair = calloc(1, sizeof *pair);

    if (pair == NULL)
        return false;
    if (!draw_pair(store, pair) || !emu_index_put(&store->pairs_by_access, pair->access, pair)) {
        free(pair);
        return false;
    }
    if (!emu_index_put(&store->pairs_by_refresh, pair->refresh, pair)) {
        /* Owned by the access index now; make sure it can never be used. */
        pair->state = PAIR_REVOKED;
        return false;
    }
    memcpy(out->access, pair->access, sizeof out->access);
    memcpy(out->refresh, pair->refresh, sizeof out->refresh);
    return true;
}

/* ---------------------------------------------------------------- rules */

/* A person's choice at /activate wins over the scripted scenario: a demo
 * can then always be steered by hand. */
static enum decision decide(const struct emu_config *cfg, const struct emu_code *code, int64_t now)
{
    int64_t age = now - code->issued_ns;

    if (code->decision != DECISION_NONE)
        return code->decision;
    switch (cfg->scenario) {
    case EMU_SCENARIO_APPROVE_POLLS:
        return code->answered_polls > cfg->scenario_polls ? DECISION_APPROVED : DECISION_NONE;
    case EMU_SCENARIO_APPROVE_AFTER:
        return age >= cfg->scenario_after.ns ? DECISION_APPROVED : DECISION_NONE;
    case EMU_SCENARIO_DENY_POLLS:
        return code->answered_polls > cfg->scenario_polls ? DECISION_DENIED : DECISION_NONE;
    case EMU_SCENARIO_DENY_AFTER:
        return age >= cfg->scenario_after.ns ? DECISION_DENIED : DECISION_NONE;
    case EMU_SCENARIO_MANUAL:
    default:
        return DECISION_NONE;
    }
}

static bool expired(const struct emu_config *cfg, const struct emu_code *code, int64_t now)
{
    return now - code->issued_ns >= cfg->code_life.ns;
}

/* Early is judged between arrivals. Every poll moves the mark, so a client
 * that keeps hammering stays early until it waits a whole interval. With a
 * thread pool two polls of one code can be handled out of order; the mark
 * never moves backwards. */
static bool note_poll(const struct emu_config *cfg, struct emu_code *code, int64_t arrival)
{
    bool early = code->polled && arrival - code->last_poll_ns < cfg->interval.ns;

    if (!code->polled || arrival > code->last_poll_ns)
        code->last_poll_ns = arrival;
    code->polled = true;
    return early;
}

static enum emu_poll_outcome poll_code(struct emu_server *srv, struct emu_code *code,
                                       int64_t arrival, struct emu_pair_text *out)
{
    const struct emu_config *cfg = &srv->config;

    if (note_poll(cfg, code, arrival))
        return EMU_POLL_EARLY;
    code->answered_polls++;
    if (code->token_issued)
        return EMU_POLL_USED;
    if (expired(cfg, code, arrival))
        return EMU_POLL_EXPIRED;
    switch (decide(cfg, code, arrival)) {
    case DECISION_DENIED:
        return EMU_POLL_DENIED;
    case DECISION_APPROVED:
        if (!new_pair(&srv->store, out))
            return EMU_POLL_NO_MEMORY;
        code->token_issued = true;
        return EMU_POLL_APPROVED;
    case DECISION_NONE:
    default:
        return EMU_POLL_PENDING;
    }
}

enum emu_poll_outcome emu_state_poll(struct emu_server *srv, const char *device_code,
                                     int64_t arrival, struct emu_pair_text *out,
                                     unsigned long *serial)
{
    enum emu_poll_outcome outcome = EMU_POLL_UNKNOWN;
    struct emu_code *code;

    pthread_mutex_lock(&srv->lock);
    srv->counters[EMU_C_POLLS]++;
    code = emu_index_get(&srv->store.codes_by_device, device_code);
    *serial = code != NULL ? code->serial : 0;
    if (code != NULL)
        outcome = poll_code(srv, code, arrival, out);
    if (outcome == EMU_POLL_EARLY)
        srv->counters[EMU_C_EARLY_POLLS]++;
    else if (outcome == EMU_POLL_APPROVED)
        srv->counters[EMU_C_TOKENS_ISSUED]++;
    pthread_mutex_unlock(&srv->lock);
    return outcome;
}

/* The old pair is spent only once the new one exists: a refresh that fails
 * on our side must not cost the client its only refresh token. */
enum emu_refresh_outcome emu_state_refresh(struct emu_server *srv, const char *refresh_token,
                                           struct emu_pair_text *out)
{
    enum emu_refresh_outcome outcome = EMU_REFRESH_INVALID_GRANT;
    struct emu_pair *old;

    pthread_mutex_lock(&srv->lock);
    old = emu_index_get(&srv->store.pairs_by_refresh, refresh_token);
    if (old != NULL && old->state == PAIR_ACTIVE) {
        outcome = EMU_REFRESH_NO_MEMORY;
        if (new_pair(&srv->store, out)) {
            old->state = PAIR_SPENT;
            srv->counters[EMU_C_REFRESHES]++;
            outcome = EMU_REFRESH_OK;
        }
    }
    pthread_mutex_unlock(&srv->lock);
    return outcome;
}

/* RFC 7009 lets a client revoke with either token of a pair. */
bool emu_state_revoke(struct emu_server *srv, const char *token)
{
    struct emu_pair *pair;
    bool known;

    pthread_mutex_lock(&srv->lock);
    pair = emu_index_get(&srv->store.pairs_by_access, token);
    if (pair == NULL)
        pair = emu_index_get(&srv->store.pairs_by_refresh, token);
    known = pair != NULL && pair->state == PAIR_ACTIVE;
    if (known)
        pair->state = PAIR_REVOKED;
    srv->counters[EMU_C_REVOKES]++;
    pthread_mutex_unlock(&srv->lock);
    return known;
}

/* Until its token is issued a code's decision can still change, as a
 * person might press the wrong button and then the right one. */
enum emu_decide_outcome emu_state_decide(struct emu_server *srv, const char *user_code,
                                         bool approve, int64_t now)
{
    enum emu_decide_outcome outcome = EMU_DECIDE_UNKNOWN;
    struct emu_code *code;

    pthread_mutex_lock(&srv->lock);
    code = emu_index_get(&srv->store.codes_by_user, user_code);
    if (code != NULL && !code->token_issued && !expired(&srv->config, code, now)) {
        code->decision = approve ? DECISION_APPROVED : DECISION_DENIED;
        outcome = approve ? EMU_DECIDE_APPROVED : EMU_DECIDE_DENIED;
    }
    pthread_mutex_unlock(&srv->lock);
    return outcome;
}
