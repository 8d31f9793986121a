/* SPDX-License-Identifier: Apache-2.0 */
/* trakt-oauth-emulator: start-up and shutdown.
 *
 * SIGINT and SIGTERM are blocked before libmicrohttpd starts its threads,
 * so every thread inherits the mask and the main thread alone receives them
 * in sigwait(): no signal handler, nothing async-signal-unsafe, and the
 * shutdown runs as ordinary code that frees everything. */
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include <microhttpd.h>

#include "common.h"
#include "http.h"
#include "log.h"
#include "options.h"
#include "stall.h"
#include "state.h"
#include "tls.h"

/* Idle keep-alive connections are closed after this long; it is longer than
 * any sensible polling interval, so one login keeps one connection. */
#define IDLE_TIMEOUT_S 300

/* Descriptors kept back from connections: the listening socket, epoll, the
 * log, the standard streams, libmicrohttpd's internal pipes. */
#define SPARE_FDS 64
#define MAX_CONNECTIONS 65536

union listen_addr {
    struct sockaddr any;
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
};

static void fill_address(const struct emu_config *cfg, union listen_addr *a)
{
    memset(a, 0, sizeof *a);
    if (cfg->ipv6) {
        a->v6.sin6_family = AF_INET6;
        a->v6.sin6_port = htons((uint16_t)cfg->port);
        a->v6.sin6_addr = in6addr_loopback;
    } else {
        a->v4.sin_family = AF_INET;
        a->v4.sin_port = htons((uint16_t)cfg->port);
        a->v4.sin_addr = cfg->addr4;
    }
}

/* libmicrohttpd caps connections at FD_SETSIZE - 4 (1020) by default, a
 * select() limit that epoll does not have; past it new connections are
 * closed unanswered. A benchmark whose thousands of flows all send their
 * first poll at once would then meet a refusal Trakt would never give, so
 * the descriptor limit is raised to its hard maximum and connections may use
 * it. 0 keeps libmicrohttpd's default. */
static unsigned int connection_limit(void)
{
    struct rlimit rl;
    rlim_t usable;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 0;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || getrlimit(RLIMIT_NOFILE, &rl) != 0)
            return 0;
    }
    usable = rl.rlim_cur == RLIM_INFINITY ? MAX_CONNECTIONS : rl.rlim_cur;
    if (usable <= FD_SETSIZE + SPARE_FDS)
        return 0;
    usable -= SPARE_FDS;
    return usable > MAX_CONNECTIONS ? MAX_CONNECTIONS : (unsigned int)usable;
}

static struct MHD_Daemon *start_daemon(struct emu_server *srv)
{
    const struct emu_config *cfg = &srv->config;
    union listen_addr addr;
    unsigned int flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME;
    /* libmicrohttpd warns about a pool of one, so the option is passed only
   * for a real pool. */
    struct MHD_OptionItem pool[] = {{MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)cfg->threads, NULL},
                                    {MHD_OPTION_END, 0, NULL}};
    unsigned int max_connections = connection_limit();
    struct MHD_OptionItem limit[] = {{MHD_OPTION_CONNECTION_LIMIT, (intptr_t)max_connections, NULL},
                                     {MHD_OPTION_END, 0, NULL}};
    /* With --tls-cert the same endpoints are served over https (GnuTLS). */
    struct MHD_OptionItem tls[] = {{MHD_OPTION_HTTPS_MEM_CERT, 0, cfg->tls_cert},
                                   {MHD_OPTION_HTTPS_MEM_KEY, 0, cfg->tls_key},
                                   {MHD_OPTION_END, 0, NULL}};

    fill_address(cfg, &addr);
    if (cfg->tls_cert != NULL)
        flags |= MHD_USE_TLS;
    if (cfg->ipv6)
        flags |= MHD_USE_IPv6;
    if (!cfg->quiet)
        flags |= MHD_USE_ERROR_LOG;
    /* The logger goes first so that complaints about later options reach it. */
    return MHD_start_daemon(flags, (uint16_t)cfg->port, NULL, NULL, emu_http_handle, srv,
                            MHD_OPTION_EXTERNAL_LOGGER, emu_mhd_log, srv, MHD_OPTION_SOCK_ADDR,
                            &addr.any, MHD_OPTION_ARRAY, cfg->threads > 1 ? pool : pool + 1,
                            MHD_OPTION_ARRAY, max_connections > 0 ? limit : limit + 1,
                            MHD_OPTION_ARRAY, cfg->tls_cert != NULL ? tls : tls + 2,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)IDLE_TIMEOUT_S,
                            MHD_OPTION_NOTIFY_COMPLETED, emu_http_completed, srv,
                            MHD_OPTION_NOTIFY_CONNECTION, emu_http_connection, srv, MHD_OPTION_END);
}

static const char *scenario_text(const struct emu_config *cfg, char *buf, size_t size)
{
    switch (cfg->scenario) {
    case EMU_SCENARIO_APPROVE_POLLS:
    case EMU_SCENARIO_DENY_POLLS:
        snprintf(buf, size, "%s each code on its poll %lu",
                 cfg->scenario == EMU_SCENARIO_APPROVE_POLLS ? "approve" : "deny",
                 cfg->scenario_polls + 1);
        return buf;
    case EMU_SCENARIO_APPROVE_AFTER:
    case EMU_SCENARIO_DENY_AFTER:
        snprintf(buf, size, "%s each code %g s after issue",
                 cfg->scenario == EMU_SCENARIO_APPROVE_AFTER ? "approve" : "deny",
                 cfg->scenario_after.seconds);
        return buf;
    case EMU_SCENARIO_MANUAL:
    default:
        return "approval only at /activate";
    }
}

static void describe(const struct emu_server *srv)
{
    const struct emu_config *cfg = &srv->config;
    char scenario[96];

    emu_say(srv,
            "interval %g s, codes live %g s, tokens live %lld s; %s; "
            "%zu fault(s) planned; %u thread(s)",
            cfg->interval.seconds, cfg->code_life.seconds, cfg->token_life,
            scenario_text(cfg, scenario, sizeof scenario), cfg->fault_count, cfg->threads);
}

static void wait_for_stop(const sigset_t *stop)
{
    int sig = 0;

    while (sigwait(stop, &sig) != 0)
        ;
}

static enum emu_exit run(struct emu_server *srv)
{
    const union MHD_DaemonInfo *info;
    struct MHD_Daemon *daemon;
    unsigned long long counts[EMU_C_COUNT];
    unsigned int port;
    sigset_t stop;

    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    daemon = start_daemon(srv);
    if (daemon == NULL) {
        fprintf(stderr, "%s: cannot listen on %s port %u\n", EMU_NAME, srv->config.url_host,
                srv->config.port);
        return EMU_EXIT_FAILURE;
    }
    info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    port = info != NULL ? info->port : srv->config.port;
    emu_server_set_port(srv, port);
    printf("listening on %s://%s:%u\n", emu_scheme(&srv->config), srv->config.url_host, port);
    fflush(stdout);
    describe(srv);

    wait_for_stop(&stop);
    emu_release_stalled(srv);
    MHD_stop_daemon(daemon);
    emu_stats_snapshot(srv, counts);
    emu_say(srv, "stopped after %llu request(s) on %llu connection(s)", counts[EMU_C_REQUESTS],
            counts[EMU_C_CONNECTIONS]);
    return EMU_EXIT_OK;
}

int main(int argc, char **argv)
{
    struct emu_config cfg;
    struct emu_server srv;
    enum emu_exit rc;
    bool done;

    rc = emu_options_parse(argc, argv, &cfg, &done);
    if (rc != EMU_EXIT_OK || done) {
        emu_config_clear(&cfg);
        return (int)rc;
    }
    if (!emu_tls_load(&cfg) || !emu_server_init(&srv, &cfg)) {
        emu_config_clear(&cfg);
        return EMU_EXIT_FAILURE;
    }
    rc = run(&srv);
    emu_server_destroy(&srv);
    return (int)rc;
}
