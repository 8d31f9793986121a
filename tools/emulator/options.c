/* SPDX-License-Identifier: Apache-2.0 */
/* Command line: every value is checked strictly here, so the rest of the
 * program can trust the configuration without re-validating it. */
#include "options.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

enum {
    OPT_HOST = 256,
    OPT_PORT,
    OPT_THREADS,
    OPT_INTERVAL,
    OPT_CODE_LIFE,
    OPT_TOKEN_LIFE,
    OPT_CLIENT_ID,
    OPT_CLIENT_SECRET,
    OPT_REQUIRE_SECRET,
    OPT_VERIFICATION_URL,
    OPT_APPROVE_AFTER_POLLS,
    OPT_APPROVE_AFTER,
    OPT_DENY_AFTER_POLLS,
    OPT_DENY_AFTER,
    OPT_FAULT,
    OPT_LOG,
    OPT_TLS_CERT,
    OPT_TLS_KEY
};

static const struct option long_options[] = {
    {"host", required_argument, NULL, OPT_HOST},
    {"port", required_argument, NULL, OPT_PORT},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"interval", required_argument, NULL, OPT_INTERVAL},
    {"code-life", required_argument, NULL, OPT_CODE_LIFE},
    {"token-life", required_argument, NULL, OPT_TOKEN_LIFE},
    {"client-id", required_argument, NULL, OPT_CLIENT_ID},
    {"client-secret", required_argument, NULL, OPT_CLIENT_SECRET},
    {"require-secret", no_argument, NULL, OPT_REQUIRE_SECRET},
    {"verification-url", required_argument, NULL, OPT_VERIFICATION_URL},
    {"approve-after-polls", required_argument, NULL, OPT_APPROVE_AFTER_POLLS},
    {"approve-after", required_argument, NULL, OPT_APPROVE_AFTER},
    {"deny-after-polls", required_argument, NULL, OPT_DENY_AFTER_POLLS},
    {"deny-after", required_argument, NULL, OPT_DENY_AFTER},
    {"fault", required_argument, NULL, OPT_FAULT},
    {"log", required_argument, NULL, OPT_LOG},
    {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
    {"tls-key", required_argument, NULL, OPT_TLS_KEY},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0}};

static const char usage_text[] =
    "Usage: " EMU_NAME " [OPTION]...\n"
    "A local stand-in for Trakt's OAuth device-flow endpoints.\n"
    "\n"
    "  --host ADDR                 loopback address to listen on (127.0.0.1)\n"
    "  --port N                    port, 0 = any free one (0)\n"
    "  --threads N                 worker threads (1)\n"
    "  --interval S                polling interval in seconds (5)\n"
    "  --code-life S               device code lifetime in seconds (600)\n"
    "  --token-life N              access token lifetime, whole seconds "
    "(604800)\n"
    "  --client-id ID              accept only this client id\n"
    "  --client-secret S           the app has this secret: requests may send\n"
    "                              it or none (Trakt made it optional), any\n"
    "                              other is refused with 401; without this\n"
    "                              option, a public app that needs none\n"
    "  --require-secret            refuse requests without a secret (401),\n"
    "                              as Trakt did before July 2026\n"
    "  --verification-url URL      URL to hand out instead of BASE/activate\n"
    "  --approve-after-polls N     approve each code on its poll N+1\n"
    "  --approve-after S           approve each code S seconds after issue\n"
    "  --deny-after-polls N        deny each code on its poll N+1\n"
    "  --deny-after S              deny each code S seconds after issue\n"
    "  --fault ENDPOINT:N[-M]:ACTION[:OPT]...\n"
    "                              inject a fault (repeatable); ENDPOINT is\n"
    "                              code|token|refresh|revoke, N-M the requests\n"
    "                              to it (from 1). ACTION, as a proxy would:\n"
    "                              an HTTP status 200-599, drop, stall, huge\n"
    "                              (10 MB body); or after Trakt acted: lose,\n"
    "                              cut-headers, cut-body, json. A status takes\n"
    "                              OPTs html, cloudflare (its text/plain\n"
    "                              \"error code: 1015\"), empty (no body),\n"
    "                              error=CODE and description=TEXT (an OAuth\n"
    "                              error body), retry-after=S, ratelimit[=S];\n"
    "                              json takes 1 to 6 of set=FIELD=JSON,\n"
    "                              del=FIELD, dup=FIELD, garbage, array,\n"
    "                              non-utf8 (no ':' inside a value)\n"
    "  --log FILE                  append one line per request to FILE\n"
    "  --tls-cert FILE             serve https with this PEM certificate...\n"
    "  --tls-key FILE              ...and this PEM private key\n"
    "  -q, --quiet                 print nothing but the listening line\n"
    "  -h, --help                  show this help and exit\n"
    "  -V, --version               show the version and exit\n"
    "\n"
    "Seconds may have up to nine decimals (0.2). Without an approve or deny\n"
    "option, only the page at /activate decides. See " EMU_NAME "(1).\n";

static bool parse_host(const char *text, struct emu_config *cfg)
{
    struct in6_addr a6;
    char bare[INET6_ADDRSTRLEN];
    size_t len = strlen(text);

    if (strcmp(text, "localhost") == 0)
        text = "127.0.0.1";
    if (inet_pton(AF_INET, text, &cfg->addr4) == 1) {
        if ((ntohl(cfg->addr4.s_addr) >> 24) != 127)
            return false;
        cfg->ipv6 = false;
        return inet_ntop(AF_INET, &cfg->addr4, cfg->url_host, (socklen_t)sizeof cfg->url_host) !=
               NULL;
    }
    if (len >= 2 && text[0] == '[' && text[len - 1] == ']') {
        if (len - 2 >= sizeof bare)
            return false;
        memcpy(bare, text + 1, len - 2);
        bare[len - 2] = '\0';
        text = bare;
    }
    if (inet_pton(AF_INET6, text, &a6) != 1 || !IN6_IS_ADDR_LOOPBACK(&a6))
        return false;
    cfg->ipv6 = true;
    strcpy(cfg->url_host, "[::1]");
    return true;
}

static bool add_fault(struct emu_config *cfg, const char *spec, const char **why)
{
    struct emu_fault fault;
    struct emu_fault *grown;

    if (!emu_fault_parse(spec, &fault, why))
        return false;
    grown = realloc(cfg->faults, (cfg->fault_count + 1) * sizeof *grown);
    if (grown == NULL) {
        *why = "out of memory";
        return false;
    }
    cfg->faults = grown;
    cfg->faults[cfg->fault_count++] = fault;
    return true;
}

static bool set_scenario(struct emu_config *cfg, enum emu_scenario scenario, const char *value,
                         const char **why)
{
    bool by_polls = scenario == EMU_SCENARIO_APPROVE_POLLS || scenario == EMU_SCENARIO_DENY_POLLS;

    if (cfg->scenario != EMU_SCENARIO_MANUAL) {
        *why = "give at most one of --approve-after-polls, --approve-after, "
               "--deny-after-polls and --deny-after";
        return false;
    }
    if (by_polls ? !emu_parse_count(value, 1000000000UL, &cfg->scenario_polls)
                 : !emu_parse_duration(value, &cfg->scenario_after)) {
        *why = by_polls ? "expected a whole number of polls" : "expected seconds, such as 5 or 0.2";
        return false;
    }
    cfg->scenario = scenario;
    return true;
}

static bool set_text(const char **slot, const char *value, const char **why)
{
    if (*value == '\0') {
        *why = "must not be empty";
        return false;
    }
    *slot = value;
    return true;
}

static bool set_number(unsigned int *slot, const char *value, unsigned long min, unsigned long max,
                       const char **why)
{
    unsigned long n;
    if (!emu_parse_count(value, max, &n) || n < min) {
        *why = "number out of range";
        return false;
    }
    *slot = (unsigned int)n;
    return true;
}

static bool set_duration(struct emu_duration *slot, const char *value, const char **why)
{
    if (!emu_parse_duration(value, slot)) {
        *why = "expected seconds, such as 5 or 0.2 (at most 9 decimals)";
        return false;
    }
    return true;
}

static bool apply_option(struct emu_config *cfg, int opt, const char *value, const char **why)
{
    unsigned long n;

    switch (opt) {
    case OPT_HOST:
        *why = "only a loopback address (127.0.0.0/8, ::1, localhost) is allowed";
        return parse_host(value, cfg);
    case OPT_PORT:
        return set_number(&cfg->port, value, 0, 65535, why);
    case OPT_THREADS:
        return set_number(&cfg->threads, value, 1, 256, why);
    case OPT_INTERVAL:
        return set_duration(&cfg->interval, value, why);
    case OPT_CODE_LIFE:
        return set_duration(&cfg->code_life, value, why);
    case OPT_TOKEN_LIFE:
        *why = "expected whole seconds, at most 2147483647";
        if (!emu_parse_count(value, 2147483647UL, &n))
            return false;
        cfg->token_life = (long long)n;
        return true;
    case OPT_CLIENT_ID:
        return set_text(&cfg->client_id, value, why);
    case OPT_CLIENT_SECRET:
        return set_text(&cfg->client_secret, value, why);
    case OPT_REQUIRE_SECRET:
        cfg->require_secret = true;
        return true;
    case OPT_VERIFICATION_URL:
        if (strlen(value) >= EMU_URL_MAX) {
            *why = "too long";
            return false;
        }
        return set_text(&cfg->verification_url, value, why);
    case OPT_LOG:
        return set_text(&cfg->log_path, value, why);
    case OPT_TLS_CERT:
        return set_text(&cfg->tls_cert_path, value, why);
    case OPT_TLS_KEY:
        return set_text(&cfg->tls_key_path, value, why);
    case OPT_APPROVE_AFTER_POLLS:
        return set_scenario(cfg, EMU_SCENARIO_APPROVE_POLLS, value, why);
    case OPT_APPROVE_AFTER:
        return set_scenario(cfg, EMU_SCENARIO_APPROVE_AFTER, value, why);
    case OPT_DENY_AFTER_POLLS:
        return set_scenario(cfg, EMU_SCENARIO_DENY_POLLS, value, why);
    case OPT_DENY_AFTER:
        return set_scenario(cfg, EMU_SCENARIO_DENY_AFTER, value, why);
    case OPT_FAULT:
        return add_fault(cfg, value, why);
    default:
        *why = "unknown option";
        return false;
    }
}

static void set_defaults(struct emu_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->addr4.s_addr = htonl(INADDR_LOOPBACK);
    strcpy(cfg->url_host, "127.0.0.1");
    cfg->threads = 1;
    (void)emu_parse_duration("5", &cfg->interval);
    (void)emu_parse_duration("600", &cfg->code_life);
    cfg->token_life = 604800;
    cfg->scenario = EMU_SCENARIO_MANUAL;
}

static const char *option_name(int opt)
{
    for (const struct option *o = long_options; o->name != NULL; o++)
        if (o->val == opt)
            return o->name;
    return "?";
}

static enum emu_exit usage_error(void)
{
    fprintf(stderr, "Try '" EMU_NAME " --help' for more information.\n");
    return EMU_EXIT_USAGE;
}

enum emu_exit emu_options_parse(int argc, char **argv, struct emu_config *cfg, bool *done)
{
    int opt;

    set_defaults(cfg);
    *done = false;
    opterr = 0; /* report in our own words, under our own name */
    while ((opt = getopt_long(argc, argv, ":qhV", long_options, NULL)) != -1) {
        const char *why = NULL;
        switch (opt) {
        case 'q':
            cfg->quiet = true;
            continue;
        case 'h':
            fputs(usage_text, stdout);
            *done = true;
            return EMU_EXIT_OK;
        case 'V':
            puts(EMU_NAME " " EMU_VERSION);
            *done = true;
            return EMU_EXIT_OK;
        case ':':
            fprintf(stderr, "%s: option '%s' needs a value\n", EMU_NAME, argv[optind - 1]);
            return usage_error();
        case '?':
            fprintf(stderr, "%s: unknown option '%s'\n", EMU_NAME, argv[optind - 1]);
            return usage_error();
        default:
            if (apply_option(cfg, opt, optarg, &why))
                continue;
            fprintf(stderr, "%s: bad value '%s' for --%s: %s\n", EMU_NAME, optarg, option_name(opt),
                    why);
            return usage_error();
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument '%s'\n", EMU_NAME, argv[optind]);
        return usage_error();
    }
    if ((cfg->tls_cert_path == NULL) != (cfg->tls_key_path == NULL)) {
        fprintf(stderr, "%s: --tls-cert and --tls-key go together\n", EMU_NAME);
        return usage_error();
    }
    return EMU_EXIT_OK;
}

void emu_config_clear(struct emu_config *cfg)
{
    if (cfg->tls_key != NULL)
        explicit_bzero(cfg->tls_key, strlen(cfg->tls_key));
    free(cfg->tls_key);
    free(cfg->tls_cert);
    cfg->tls_key = cfg->tls_cert = NULL;
    free(cfg->faults);
    cfg->faults = NULL;
    cfg->fault_count = 0;
}
