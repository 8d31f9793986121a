/* SPDX-License-Identifier: Apache-2.0 */
/* The command line and the configuration it makes. The configuration is
 * written once before the daemon starts and only read afterwards, so it
 * needs no lock. */
#ifndef EMU_OPTIONS_H
#define EMU_OPTIONS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#include "fault_spec.h"
#include "parse.h"

enum emu_exit { EMU_EXIT_OK = 0, EMU_EXIT_FAILURE = 1, EMU_EXIT_USAGE = 2 };

enum emu_scenario {
    EMU_SCENARIO_MANUAL, /* only the /activate page decides */
    EMU_SCENARIO_APPROVE_POLLS,
    EMU_SCENARIO_APPROVE_AFTER,
    EMU_SCENARIO_DENY_POLLS,
    EMU_SCENARIO_DENY_AFTER
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
    bool require_secret;       /* refuse requests without a secret, as Trakt did before */
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

/* *done: --help or --version was answered, and the program should exit. */
enum emu_exit emu_options_parse(int argc, char **argv, struct emu_config *cfg, bool *done);
void emu_config_clear(struct emu_config *cfg);

#endif
