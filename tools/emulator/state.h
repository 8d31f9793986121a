/* SPDX-License-Identifier: Apache-2.0 */
/* The server's memory and its rules: device codes, token pairs, counters.
 *
 * Ownership in one sentence: struct emu_server holds everything mutable, and
 * its one mutex guards the store, the counters and the log; the configuration
 * is written once before the daemon starts and only read afterwards, so it
 * needs no lock. */
#ifndef EMU_STATE_H
#define EMU_STATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common.h"
#include "fault_spec.h"
#include "index.h"
#include "options.h"

struct MHD_Connection;

enum emu_counter {
    EMU_C_REQUESTS,
    EMU_C_CONNECTIONS,
    EMU_C_POLLS,
    EMU_C_EARLY_POLLS,
    EMU_C_CODES_ISSUED,
    EMU_C_TOKENS_ISSUED,
    EMU_C_REFRESHES,
    EMU_C_REVOKES,
    EMU_C_FAULTS_INJECTED,
    EMU_C_SECRETS_SENT, /* requests to an OAuth endpoint that carried client_secret */
    EMU_C_COUNT
};

struct emu_store {
    struct emu_index codes_by_device; /* owns the struct emu_code records */
    struct emu_index codes_by_user;
    struct emu_index pairs_by_access; /* owns the struct emu_pair records */
    struct emu_index pairs_by_refresh;
};

struct emu_server {
    struct emu_config config;
    pthread_mutex_t lock;
    int64_t start_ns;
    /* Written once the port is known, which with --port 0 is only after the
   * daemon has started: so it is read and written under the lock. */
    char verification_url[EMU_URL_MAX];
    FILE *log;
    struct emu_store store;
    unsigned long long counters[EMU_C_COUNT];
    unsigned long endpoint_requests[EMU_EP_FAULTABLE];
    /* Connections held by a stall fault; resumed (and closed) at shutdown,
   * since libmicrohttpd must not stop with suspended connections. */
    struct MHD_Connection **stalled;
    size_t stalled_count, stalled_cap;
};

struct emu_issued_code {
    unsigned long serial; /* 1 for the first code issued */
    char device_code[EMU_SECRET_HEX + 1];
    char user_code[EMU_USER_CODE_LEN + 1];
    char verification_url[EMU_URL_MAX];
};

struct emu_pair_text {
    char access[EMU_SECRET_HEX + 1];
    char refresh[EMU_SECRET_HEX + 1];
};

enum emu_poll_outcome {
    EMU_POLL_UNKNOWN,
    EMU_POLL_EARLY,
    EMU_POLL_USED,
    EMU_POLL_EXPIRED,
    EMU_POLL_DENIED,
    EMU_POLL_APPROVED,
    EMU_POLL_PENDING,
    EMU_POLL_NO_MEMORY
};

enum emu_refresh_outcome { EMU_REFRESH_OK, EMU_REFRESH_INVALID_GRANT, EMU_REFRESH_NO_MEMORY };

enum emu_decide_outcome {
    EMU_DECIDE_APPROVED,
    EMU_DECIDE_DENIED,
    EMU_DECIDE_UNKNOWN /* no such code, expired, or its token already issued */
};

int64_t emu_now_ns(void);
/* Takes over cfg's fault plan. */
bool emu_server_init(struct emu_server *srv, struct emu_config *cfg);
void emu_server_set_port(struct emu_server *srv, unsigned int port);
void emu_server_destroy(struct emu_server *srv);
void emu_count(struct emu_server *srv, enum emu_counter counter);
unsigned long emu_next_request_number(struct emu_server *srv, enum emu_endpoint endpoint);
void emu_stats_snapshot(struct emu_server *srv, unsigned long long out[EMU_C_COUNT]);
const char *emu_counter_name(enum emu_counter counter);
bool emu_state_issue_code(struct emu_server *srv, int64_t now, struct emu_issued_code *out);
enum emu_poll_outcome emu_state_poll(struct emu_server *srv, const char *device_code,
                                     int64_t arrival, struct emu_pair_text *out,
                                     unsigned long *serial);
enum emu_refresh_outcome emu_state_refresh(struct emu_server *srv, const char *refresh_token,
                                           struct emu_pair_text *out);
bool emu_state_revoke(struct emu_server *srv, const char *token);
enum emu_decide_outcome emu_state_decide(struct emu_server *srv, const char *user_code,
                                         bool approve, int64_t now);

#endif
