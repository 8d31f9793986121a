/* SPDX-License-Identifier: Apache-2.0 */
/* trakt-oauth-emulator: private declarations shared by its source files.
 *
 * Ownership in one sentence: struct emu_server holds everything mutable, and
 * its one mutex guards the store, the counters and the log; the configuration
 * is written once before the daemon starts and only read afterwards, so it
 * needs no lock.
 */
#ifndef TRAKT_OAUTH_EMULATOR_H
#define TRAKT_OAUTH_EMULATOR_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <jansson.h>
#include <microhttpd.h>

#include "traktdeviceauth_version.h"

#define EMU_NAME "trakt-oauth-emulator"
#define EMU_VERSION TDA_VERSION_STRING /* from project() in CMakeLists.txt */

#define EMU_MAX_BODY ((size_t) 64 * 1024)
#define EMU_NS_PER_SEC INT64_C(1000000000)

/* Settings are capped so that seconds * 1e9 always fits an int64_t. */
#define EMU_MAX_SECONDS INT64_C(1000000000)

#define EMU_SECRET_BYTES 32 /* 64 hex characters */
#define EMU_SECRET_HEX (EMU_SECRET_BYTES * 2)
#define EMU_USER_CODE_LEN 8
#define EMU_URL_MAX 2048

enum emu_exit { EMU_EXIT_OK = 0, EMU_EXIT_FAILURE = 1, EMU_EXIT_USAGE = 2 };

/* The four endpoints a fault can target come first so they can index arrays. */
enum emu_endpoint {
  EMU_EP_CODE,
  EMU_EP_TOKEN,
  EMU_EP_REFRESH,
  EMU_EP_REVOKE,
  EMU_EP_FAULTABLE,
  EMU_EP_ACTIVATE = EMU_EP_FAULTABLE,
  EMU_EP_STATS,
  EMU_EP_NONE
};

/* A time setting: exact nanoseconds for enforcement, and how the user wrote
 * it so the JSON answer can echo an integer for "5" and a real for "0.2". */
struct emu_duration {
  int64_t ns;
  double seconds;
  bool whole;
};

enum emu_scenario {
  EMU_SCENARIO_MANUAL, /* only the /activate page decides */
  EMU_SCENARIO_APPROVE_POLLS,
  EMU_SCENARIO_APPROVE_AFTER,
  EMU_SCENARIO_DENY_POLLS,
  EMU_SCENARIO_DENY_AFTER
};

/* What a fault does. The first four stand for a proxy (Cloudflare) that
 * answers before Trakt sees the request. The others let Trakt's logic run (a
 * code is issued, a poll counts, a pair is issued, spent or revoked) and
 * spoil its answer on the way back, as a network or proxy failure would. */
enum emu_fault_kind {
  EMU_FAULT_STATUS,      /* answer this status instead */
  EMU_FAULT_DROP,        /* close without an answer */
  EMU_FAULT_STALL,       /* never answer: the connection is held until exit */
  EMU_FAULT_HUGE,        /* a 200 whose body is 10 MB */
  EMU_FAULT_LOSE,        /* logic runs; close before the status line */
  EMU_FAULT_CUT_HEADERS, /* logic runs; the headers, then close */
  EMU_FAULT_CUT_BODY,    /* logic runs; half the body, then close */
  EMU_FAULT_JSON         /* logic runs; its JSON answer altered */
};

#define EMU_HUGE_BODY ((size_t) 10 * 1024 * 1024)

/* Alterations of a JSON answer: set and del edit the object, the others its
 * text (a duplicate key or a stray byte cannot be made in a json_t). */
enum emu_json_op_kind {
  EMU_JSON_SET,     /* set=FIELD=JSON */
  EMU_JSON_DEL,     /* del=FIELD */
  EMU_JSON_DUP,     /* dup=FIELD: the key appears twice */
  EMU_JSON_GARBAGE, /* the text cut in half: not JSON */
  EMU_JSON_ARRAY,   /* the object wrapped in an array */
  EMU_JSON_NON_UTF8 /* a 0xFF byte inside the first string value */
};

#define EMU_JSON_OPS_MAX 6

struct emu_json_op {
  enum emu_json_op_kind kind;
  char field[32];
  char value[64];
};

struct emu_fault {
  enum emu_endpoint endpoint;
  unsigned long first, last; /* 1-based, inclusive */
  enum emu_fault_kind kind;
  unsigned int status; /* EMU_FAULT_STATUS only */
  bool html;
  bool cloudflare; /* server: cloudflare, and its plain "error code: 1015" body */
  bool empty;      /* no body at all */
  char error[32];  /* an OAuth error body {"error": ..., "error_description": ...} */
  char description[96];
  bool ratelimit;
  unsigned long ratelimit_reset; /* seconds from now to X-Ratelimit's until */
  bool has_retry_after;
  unsigned long retry_after;
  struct emu_json_op ops[EMU_JSON_OPS_MAX];
  size_t op_count;
};

struct emu_config {
  bool ipv6;
  struct in_addr addr4;
  char url_host[48]; /* as it appears in a URL: 127.0.0.1 or [::1] */
  unsigned int port;
  unsigned int threads;
  struct emu_duration interval;
  struct emu_duration code_life;
  long long token_life;
  enum emu_scenario scenario;
  unsigned long scenario_polls;
  struct emu_duration scenario_after;
  /* These point into argv, which outlives the server. */
  const char *client_id;
  const char *client_secret; /* NULL: a public app */
  bool require_secret;        /* refuse requests without a secret, as Trakt did before */
  const char *verification_url;
  const char *log_path;
  const char *tls_cert_path;
  const char *tls_key_path;
  char *tls_cert; /* owned: the PEM texts, read at start-up; NULL: plain http */
  char *tls_key;
  bool quiet;
  struct emu_fault *faults; /* owned */
  size_t fault_count;
};

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

/* Open addressing, string keys owned by the values, no deletion: records
 * live until the server stops, so a spent code still answers 409 or 410. */
struct emu_index_slot {
  const char *key;
  void *value;
};

struct emu_index {
  struct emu_index_slot *slots;
  size_t capacity; /* a power of two, or 0 before the first insert */
  size_t count;
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

/* What a handler decided; http.c turns it into bytes on the wire. */
struct emu_answer {
  unsigned int status;
  json_t *json; /* owned; wins over body */
  char *body;   /* owned, malloc'd */
  size_t body_len;
  const char *content_type;
  const char *allow; /* Allow header of a 405 */
  bool has_retry_after;
  unsigned long retry_after;
  bool cloudflare; /* add the server header Cloudflare sends */
  bool ratelimit;  /* add an X-Ratelimit header like Trakt's */
  unsigned long ratelimit_reset;
  bool drop;       /* close the connection without an answer */
  bool stall;      /* never answer; the connection is held until exit */
  /* Streamed delivery: the headers declare stream_len bytes (the body, then
   * filler), and the connection closes after cut_at of them. */
  bool stream;
  size_t stream_len;
  size_t cut_at;
  const char *note; /* extra word for the request log */
  /* Which code a request was about, by its serial ("code=3"): tests follow
   * one code's polls across a client's restart without logging the code. */
  char code_note[32];
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

enum emu_refresh_outcome {
  EMU_REFRESH_OK,
  EMU_REFRESH_INVALID_GRANT,
  EMU_REFRESH_NO_MEMORY
};

enum emu_decide_outcome {
  EMU_DECIDE_APPROVED,
  EMU_DECIDE_DENIED,
  EMU_DECIDE_UNKNOWN /* no such code, expired, or its token already issued */
};

/* options.c */
enum emu_exit emu_options_parse(int argc, char **argv, struct emu_config *cfg,
                                bool *done);
void emu_config_clear(struct emu_config *cfg);
bool emu_parse_duration(const char *text, struct emu_duration *out);
bool emu_parse_count(const char *text, unsigned long max, unsigned long *out);

/* faults.c */
bool emu_fault_parse(const char *spec, struct emu_fault *out, const char **why);
const struct emu_fault *emu_fault_find(const struct emu_config *cfg,
                                       enum emu_endpoint endpoint,
                                       unsigned long number);
bool emu_fault_skips_logic(const struct emu_fault *fault);
void emu_fault_answer(const struct emu_fault *fault, struct emu_answer *ans);
void emu_fault_spoil(const struct emu_fault *fault, struct emu_answer *ans);

/* tls.c */
bool emu_tls_load(struct emu_config *cfg);
const char *emu_scheme(const struct emu_config *cfg);

/* random.c */
bool emu_random_hex(char *out, size_t bytes);
bool emu_random_user_code(char out[EMU_USER_CODE_LEN + 1]);

/* index.c */
void *emu_index_get(const struct emu_index *idx, const char *key);
bool emu_index_put(struct emu_index *idx, const char *key, void *value);
void emu_index_free(struct emu_index *idx, bool free_values);

/* state.c */
int64_t emu_now_ns(void);
bool emu_server_init(struct emu_server *srv, struct emu_config *cfg);
void emu_server_set_port(struct emu_server *srv, unsigned int port);
void emu_server_destroy(struct emu_server *srv);
void emu_count(struct emu_server *srv, enum emu_counter counter);
bool emu_hold_stalled(struct emu_server *srv, struct MHD_Connection *conn);
void emu_release_stalled(struct emu_server *srv);
unsigned long emu_next_request_number(struct emu_server *srv,
                                      enum emu_endpoint endpoint);
void emu_stats_snapshot(struct emu_server *srv,
                        unsigned long long out[EMU_C_COUNT]);
const char *emu_counter_name(enum emu_counter counter);
bool emu_state_issue_code(struct emu_server *srv, int64_t now,
                          struct emu_issued_code *out);
enum emu_poll_outcome emu_state_poll(struct emu_server *srv,
                                     const char *device_code, int64_t arrival,
                                     struct emu_pair_text *out,
                                     unsigned long *serial);
enum emu_refresh_outcome emu_state_refresh(struct emu_server *srv,
                                           const char *refresh_token,
                                           struct emu_pair_text *out);
bool emu_state_revoke(struct emu_server *srv, const char *token);
enum emu_decide_outcome emu_state_decide(struct emu_server *srv,
                                         const char *user_code, bool approve,
                                         int64_t now);

/* answer.c */
void emu_answer_json(struct emu_answer *ans, unsigned int status, json_t *json);
void emu_answer_error(struct emu_answer *ans, unsigned int status,
                      const char *error);
void emu_answer_empty(struct emu_answer *ans, unsigned int status);
void emu_answer_owned(struct emu_answer *ans, unsigned int status,
                      const char *content_type, char *body);
void emu_answer_clear(struct emu_answer *ans);
bool emu_answer_to_text(struct emu_answer *ans);

/* json_alter.c */
void emu_json_alter(const struct emu_fault *fault, struct emu_answer *ans);
json_t *emu_duration_json(const struct emu_duration *d);

/* endpoints.c */
void emu_handle_device_code(struct emu_server *srv, const char *body,
                            size_t len, int64_t arrival,
                            struct emu_answer *ans);
void emu_handle_device_token(struct emu_server *srv, const char *body,
                             size_t len, int64_t arrival,
                             struct emu_answer *ans);
void emu_handle_refresh(struct emu_server *srv, const char *body, size_t len,
                        struct emu_answer *ans);
void emu_handle_revoke(struct emu_server *srv, const char *body, size_t len,
                       struct emu_answer *ans);
void emu_handle_stats(struct emu_server *srv, struct emu_answer *ans);
bool emu_body_has_secret(const char *body, size_t len);

/* activate_page.c */
void emu_activate_form(const char *path_code, struct emu_answer *ans);
void emu_activate_submit(struct emu_server *srv, const char *body, size_t len,
                         int64_t arrival, struct emu_answer *ans);
bool emu_normalize_user_code(const char *in, size_t len, char *out,
                             size_t out_size);

/* log.c */
enum emu_secret_seen { EMU_SECRET_NOT_ASKED, EMU_SECRET_ABSENT, EMU_SECRET_SENT };
void emu_log_request(struct emu_server *srv, int64_t arrival,
                     const char *method, const char *url,
                     enum emu_secret_seen secret, const struct emu_answer *ans);
void emu_say(const struct emu_server *srv, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void emu_mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* http.c */
enum MHD_Result emu_http_handle(void *cls, struct MHD_Connection *conn,
                                const char *url, const char *method,
                                const char *version, const char *upload_data,
                                size_t *upload_data_size, void **req_cls);
void emu_http_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                        enum MHD_RequestTerminationCode toe);
void emu_http_connection(void *cls, struct MHD_Connection *conn,
                         void **socket_context,
                         enum MHD_ConnectionNotificationCode toe);

#endif
