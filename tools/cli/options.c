/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The command line and the environment. Options override environment
 * variables; everything has a default except the client id and secret.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <qrencode.h>

#include "cli.h"

static const char usage_text[] =
    "Usage: " CLI_NAME " [options] login|refresh|revoke|status|token\n"
    "\n"
    "Authorize a program on Trakt.tv by the OAuth device method and keep its token.\n"
    "\n"
    "Commands:\n"
    "  login    show a code and a URL (and a QR code), wait for the user to approve\n"
    "           it on another device, save the token\n"
    "  refresh  spend the saved refresh token for a new pair and save it\n"
    "  revoke   revoke the saved token at Trakt, then delete the token file\n"
    "  status   whether the saved token is valid, expiring or expired; no secrets\n"
    "  token    print a valid access token and nothing else, refreshing it first\n"
    "           when less than a tenth of its lifetime (at least a minute) remains\n"
    "\n"
    "Options:\n"
    "  --client-id ID           the app's client id (or TRAKT_CLIENT_ID); status and\n"
    "                           token take it from the token file when not given\n"
    "\n"
    "  The client id is all Trakt needs: its docs now say a client secret inside a\n"
    "  TV, desktop or plugin app is not secret, and to send one only from your own\n"
    "  server. Without one of the next options none is sent. If Trakt still asks\n"
    "  for this app's secret (exit 7 says so), give it:\n"
    "  --client-secret SECRET   the secret (or TRAKT_CLIENT_SECRET); visible to other\n"
    "                           users in ps while starting: prefer the others\n"
    "  --client-secret-file F   read the secret from the first line of file F\n"
    "  --ask-secret             ask for the secret on the terminal, without echo\n"
    "\n"
    "  --token-file PATH        where the token lives (or TRAKT_TOKEN_FILE); default\n"
    "                           $XDG_CONFIG_HOME/trakt-device-auth/token.json\n"
    "  --key NAME               keep one token per account NAME (or TRAKT_TOKEN_KEY),\n"
    "                           each in its own file in the --token-dir\n"
    "  --token-dir DIR          where --key's tokens live (or TRAKT_TOKEN_DIR); default\n"
    "                           $XDG_CONFIG_HOME/trakt-device-auth/tokens\n"
    "  --store URL              keep --key's tokens in PostgreSQL instead (or\n"
    "                           TRAKT_TOKEN_STORE): a postgresql:// URI as libpq takes\n"
    "                           it, table trakt_tokens; machines sharing it refresh\n"
    "                           each token once; needs --client-id\n"
    "  --base-url URL           the OAuth server (or TRAKT_OAUTH_URL); default\n"
    "                           " TDA_DEFAULT_BASE_URL "; http:// only for loopback\n"
    "  --user-agent UA          the User-Agent to send (or TRAKT_USER_AGENT)\n"
    "  --ca-file FILE           trust the CA certificates in this PEM file instead of\n"
    "                           the system's (or TRAKT_CA_FILE), for a TLS-inspecting\n"
    "                           proxy or a test server; verification stays on\n"
    "  --timeout SECONDS        login: give up after this long (default: the code's\n"
    "                           life); refresh, token, revoke: wait at most this long\n"
    "                           for another process holding the token lock (default 60)\n"
    "  --json                   machine-readable output, one JSON object per line\n"
    "  --no-qr                  no QR code in login's terminal view\n"
    "  --qr-prefill             the QR code opens URL/CODE, the code filled in, not\n"
    "                           the URL as Trakt sent it, which Trakt now advises;\n"
    "                           the prefill is unconfirmed on its auth host\n"
    "  --redirect-uri URI       sent with a refresh (or TRAKT_REDIRECT_URI); default\n"
    "                           " TDA_DEFAULT_REDIRECT_URI ", as device apps register\n"
    "  --new-code               login: get a new code even when a login that was\n"
    "                           killed left one that is still valid (by default it\n"
    "                           is shown again and polled, saved in TOKEN_FILE.code)\n"
    "  --renew[=N]              login: when a code expires unused, show a new one,\n"
    "                           at most N times (default: until Ctrl-C or --timeout)\n"
    "  -v, --verbose            log every request and answer on stderr, secrets redacted\n"
    "  -q, --quiet              only errors (login still shows the code and URL)\n"
    "  -V, --version            print the version and exit\n"
    "  -h, --help               print this help and exit\n"
    "\n";

enum {
    OPT_CLIENT_ID = 256,
    OPT_CLIENT_SECRET,
    OPT_CLIENT_SECRET_FILE,
    OPT_TOKEN_FILE,
    OPT_KEY,
    OPT_TOKEN_DIR,
    OPT_STORE,
    OPT_BASE_URL,
    OPT_USER_AGENT,
    OPT_CA_FILE,
    OPT_TIMEOUT,
    OPT_JSON,
    OPT_NO_QR,
    OPT_ASK_SECRET,
    OPT_QR_PREFILL,
    OPT_REDIRECT_URI,
    OPT_NEW_CODE,
    OPT_RENEW
};

static const struct option long_options[] = {
    {"client-id", required_argument, NULL, OPT_CLIENT_ID},
    {"client-secret", required_argument, NULL, OPT_CLIENT_SECRET},
    {"client-secret-file", required_argument, NULL, OPT_CLIENT_SECRET_FILE},
    {"token-file", required_argument, NULL, OPT_TOKEN_FILE},
    {"key", required_argument, NULL, OPT_KEY},
    {"token-dir", required_argument, NULL, OPT_TOKEN_DIR},
    {"store", required_argument, NULL, OPT_STORE},
    {"base-url", required_argument, NULL, OPT_BASE_URL},
    {"user-agent", required_argument, NULL, OPT_USER_AGENT},
    {"ca-file", required_argument, NULL, OPT_CA_FILE},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"json", no_argument, NULL, OPT_JSON},
    {"no-qr", no_argument, NULL, OPT_NO_QR},
    {"ask-secret", no_argument, NULL, OPT_ASK_SECRET},
    {"qr-prefill", no_argument, NULL, OPT_QR_PREFILL},
    {"redirect-uri", required_argument, NULL, OPT_REDIRECT_URI},
    {"new-code", no_argument, NULL, OPT_NEW_CODE},
    {"renew", optional_argument, NULL, OPT_RENEW},
    {"verbose", no_argument, NULL, 'v'},
    {"quiet", no_argument, NULL, 'q'},
    {"version", no_argument, NULL, 'V'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static const struct {
    const char *name;
    cli_command command;
} commands[] = {
    {"login", CLI_LOGIN},   {"refresh", CLI_REFRESH}, {"revoke", CLI_REVOKE},
    {"status", CLI_STATUS}, {"token", CLI_TOKEN},
};

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, CLI_NAME ": ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry '" CLI_NAME " --help' for more information.\n");
    va_end(ap);
    return CLI_EXIT_USAGE;
}

static void print_version(void)
{
    printf(CLI_NAME " %s\nlibtraktdeviceauth %s, %s, libqrencode %s\n", TDA_VERSION_STRING,
           tda_version(), curl_version(), QRcode_APIVersionString());
}

/* A copy of a secret given on the command line, then the argv text blanked out. */
static char *take_secret_argument(char *arg)
{
    /* The analyzer sees --renew's optional argument leave optarg NULL, and does not know
       that getopt_long always sets it for the options that require one, the only callers. */
    /* NOLINTBEGIN(clang-analyzer-core.NonNullParamChecker): arg is never NULL (above) */
    char *copy = strdup(arg);
    /* Blanking argv hides it from later reads of /proc/PID/cmdline (ps, top). */
    memset(arg, 'x', strlen(arg));
    /* NOLINTEND(clang-analyzer-core.NonNullParamChecker) */
    return copy;
}

static const char *env_or_null(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

/* A store URL: PostgreSQL's, the only kind there is (libpq takes both schemes). */
static int store_url_ok(const char *url)
{
    return strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0;
}

/* --store (or TRAKT_TOKEN_STORE): with a key and a client id, and no file options. */
static int choose_pg_store(cli_options *o, const char *token_file, const char *token_dir)
{
    if (!store_url_ok(o->store_url))
        return usage_error("%s", "--store (or TRAKT_TOKEN_STORE) wants a postgresql:// URI, "
                                 "e.g. postgresql://app@db.example/trakt");
    if (token_file || token_dir)
        return usage_error("%s", "--store keeps the tokens in PostgreSQL: --token-file and "
                                 "--token-dir (or TRAKT_TOKEN_FILE / TRAKT_TOKEN_DIR) do not "
                                 "go with it");
    if (!o->key)
        return usage_error("%s", "--store holds one token per account: give --key too");
    if (!o->client_id)
        return usage_error("%s", "--store keeps each client id's tokens apart: give --client-id "
                                 "(or TRAKT_CLIENT_ID)");
    return CLI_EXIT_OK;
}

/* One token file, or with a key a directory of them or PostgreSQL: never two. */
static int choose_store(cli_options *o, const char *token_file, const char *token_dir)
{
    if (!o->key)
        o->key = env_or_null("TRAKT_TOKEN_KEY");
    if (!token_file)
        token_file = env_or_null("TRAKT_TOKEN_FILE");
    if (!token_dir)
        token_dir = env_or_null("TRAKT_TOKEN_DIR");
    const char *store_env = env_or_null("TRAKT_TOKEN_STORE");
    if (!o->store_url && store_env) {
        o->store_url = strdup(store_env);
        if (!o->store_url)
            return CLI_EXIT_FAILURE;
    }
    if (o->store_url)
        return choose_pg_store(o, token_file, token_dir);
    if (o->key && token_file)
        return usage_error("%s", "--key picks an account's token in --token-dir; --token-file "
                                 "holds a single token: give one or the other (or unset "
                                 "TRAKT_TOKEN_KEY / TRAKT_TOKEN_FILE)");
    if (!o->key && token_dir)
        return usage_error("%s", "--token-dir holds one token per account: give --key too");
    if (o->key) {
        o->token_dir = token_dir ? strdup(token_dir) : cli_default_token_dir();
        if (!o->token_dir) {
            fprintf(stderr, CLI_NAME ": no token directory: set HOME, XDG_CONFIG_HOME or use "
                                     "--token-dir\n");
            return CLI_EXIT_USAGE;
        }
        return CLI_EXIT_OK;
    }
    o->token_file = token_file ? strdup(token_file) : cli_default_token_file();
    if (!o->token_file) {
        fprintf(stderr, CLI_NAME ": no token file location: set HOME, XDG_CONFIG_HOME or use "
                                 "--token-file\n");
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

int cli_parse_options(int argc, char **argv, cli_options *o, bool *done)
{
    memset(o, 0, sizeof *o);
    *done = false;
    const char *token_file = NULL;
    const char *token_dir = NULL;
    int opt;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":vqVh", long_options, NULL)) != -1) {
        switch (opt) {
        case OPT_CLIENT_ID:
            o->client_id = optarg;
            break;
        case OPT_CLIENT_SECRET:
            cli_wipe_secret(&o->client_secret); /* a repeated option leaks no first copy */
            o->client_secret = take_secret_argument(optarg);
            if (!o->client_secret)
                return CLI_EXIT_FAILURE;
            break;
        case OPT_CLIENT_SECRET_FILE:
            o->client_secret_file = optarg;
            break;
        case OPT_TOKEN_FILE:
            token_file = optarg;
            break;
        case OPT_KEY:
            o->key = optarg;
            break;
        case OPT_TOKEN_DIR:
            token_dir = optarg;
            break;
        case OPT_STORE:
            /* It may hold a password: kept like a secret, blanked in ps. */
            cli_wipe_secret(&o->store_url);
            o->store_url = take_secret_argument(optarg);
            if (!o->store_url)
                return CLI_EXIT_FAILURE;
            break;
        case OPT_BASE_URL:
            o->base_url = optarg;
            break;
        case OPT_USER_AGENT:
            o->user_agent = optarg;
            break;
        case OPT_CA_FILE:
            o->ca_file = optarg;
            break;
        case OPT_TIMEOUT: {
            char *end = NULL;
            /* optarg is set: --timeout requires an argument (see take_secret_argument) */
            double t = strtod(optarg, &end); /* NOLINT(clang-analyzer-core.NonNullParamChecker) */
            if (end == optarg || *end || !isfinite(t) || t <= 0 || t > 1e7)
                return usage_error("--timeout wants a number of seconds above 0, not '%s'", optarg);
            o->timeout_s = t;
            break;
        }
        case OPT_JSON:
            o->json = true;
            break;
        case OPT_NO_QR:
            o->no_qr = true;
            break;
        case OPT_ASK_SECRET:
            o->ask_secret = true;
            break;
        case OPT_QR_PREFILL:
            o->qr_prefill = true;
            break;
        case OPT_REDIRECT_URI:
            o->redirect_uri = optarg;
            break;
        case OPT_NEW_CODE:
            o->new_code = true;
            break;
        case OPT_RENEW: {
            if (!optarg) {
                o->renew = TDA_RENEW_UNLIMITED;
                break;
            }
            char *end = NULL;
            errno = 0;
            long n = strtol(optarg, &end, 10);
            if (end == optarg || *end || errno || n < 1 || n > 1000000)
                return usage_error("--renew wants a number of new codes from 1 up (--renew=3), "
                                   "or nothing for no limit, not '%s'",
                                   optarg);
            o->renew = (int)n;
            break;
        }
        case 'v':
            o->verbose = true;
            break;
        case 'q':
            o->quiet = true;
            break;
        case 'V':
            print_version();
            *done = true;
            return CLI_EXIT_OK;
        case 'h':
            fputs(usage_text, stdout);
            fputs(cli_exit_code_help, stdout);
            *done = true;
            return CLI_EXIT_OK;
        case ':':
            return usage_error("option '%s' needs a value", argv[optind - 1]);
        default:
            if (optopt)
                return usage_error("unknown option '-%c'", optopt);
            /* Only the name: "--client_secret=VALUE" must not print the value. */
            return usage_error("unknown option '%.*s'", (int)strcspn(argv[optind - 1], "="),
                               argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return usage_error("%s", "a command is needed: login, refresh, revoke, status or token");
    if (optind + 1 < argc)
        return usage_error("unexpected argument '%s'", argv[optind + 1]);
    size_t i = 0;
    while (i < sizeof commands / sizeof commands[0] && strcmp(commands[i].name, argv[optind]) != 0)
        i++;
    if (i == sizeof commands / sizeof commands[0])
        return usage_error("unknown command '%s' (login, refresh, revoke, status or token)",
                           argv[optind]);
    o->command = commands[i].command;
    if (o->quiet && o->verbose)
        return usage_error("%s", "--quiet and --verbose contradict each other");
    if (o->ask_secret && (o->client_secret || o->client_secret_file))
        return usage_error("%s", "--ask-secret and --client-secret(-file) contradict each other");
    if ((o->renew || o->new_code) && o->command != CLI_LOGIN)
        return usage_error("%s only goes with login", o->renew ? "--renew" : "--new-code");

    if (!o->client_id)
        o->client_id = env_or_null("TRAKT_CLIENT_ID");
    const char *secret_env = env_or_null("TRAKT_CLIENT_SECRET");
    if (!o->client_secret && !o->client_secret_file && !o->ask_secret && secret_env) {
        o->client_secret = strdup(secret_env);
        if (!o->client_secret)
            return CLI_EXIT_FAILURE;
    }
    if (!o->base_url)
        o->base_url = env_or_null("TRAKT_OAUTH_URL");
    if (!o->user_agent)
        o->user_agent = env_or_null("TRAKT_USER_AGENT");
    if (!o->ca_file)
        o->ca_file = env_or_null("TRAKT_CA_FILE");
    if (!o->redirect_uri)
        o->redirect_uri = env_or_null("TRAKT_REDIRECT_URI");
    return choose_store(o, token_file, token_dir);
}

void cli_wipe_secret(char **secret)
{
    if (*secret) {
        explicit_bzero(*secret, strlen(*secret));
        free(*secret);
        *secret = NULL;
    }
}

void cli_options_clear(cli_options *o)
{
    cli_wipe_secret(&o->client_secret);
    cli_wipe_secret(&o->store_url);
    free(o->token_file);
    o->token_file = NULL;
    free(o->token_dir);
    o->token_dir = NULL;
    tda_store_free(o->store);
    o->store = NULL;
}
