/* SPDX-License-Identifier: Apache-2.0 */
/* bench_tda_flows: our engine (tda_multi) driving N device flows in one
 * thread against the emulator, with the figures bench/run.sh compares to the
 * references.
 *
 *   bench_tda_flows --url URL --flows N [--max-connections C] [--loop wait|poll]
 *                   [--pid EMULATOR_PID] [--client-id ID] [--client-secret S]
 *
 * Run the emulator with --approve-after-polls K so each flow has K pending
 * polls before its token. Figures (one line of key=value):
 *   cpu_us_per_poll  CPU seconds of this process (getrusage RUSAGE_SELF, user
 *                    + system) from just before the flows are added until the
 *                    last one ends, divided by the answers received
 *   rss_per_flow     RSS (/proc/self/statm) right after adding the N flows
 *                    minus right before, divided by N: every flow is waiting
 *                    for its first poll then. The codes were generated
 *                    earlier and stay alive in both snapshots, and the engine
 *                    itself exists in both, so only the per-flow state counts
 *   late_p50/p99_ms  tda_event.late_ms of every answer: how long after its
 *                    due time the request was sent
 *   polls_per_s      answers / (last flow ended - first flow added)
 *   tokens, failed   how the flows ended
 *   early_polls, connections, emu_polls: deltas of the emulator's /stats
 *   sleeps_per_poll  voluntary context switches (the thread went to sleep and
 *                    was woken) per answer
 *   emu_cpu_pct      with --pid: the emulator's CPU over the same window, in
 *                    % of one core (/proc/PID/stat), to show it was not the limit
 */
#include "common.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <traktdeviceauth.h>

struct run {
    double *late_ms;
    size_t late_count, late_cap;
    long long events, pending, slow_downs, retries;
    long long tokens, failed;
    tda_status first_failure;
    char first_detail[256];
};

static void on_event(const tda_event *ev, void *userdata)
{
    struct run *r = userdata;

    r->events++;
    if (ev->kind == TDA_EVENT_PENDING)
        r->pending++;
    else if (ev->kind == TDA_EVENT_SLOW_DOWN)
        r->slow_downs++;
    else if (ev->kind == TDA_EVENT_RETRY)
        r->retries++;
    if (r->late_count == r->late_cap) {
        size_t cap = r->late_cap ? r->late_cap * 2 : 4096;
        double *grown = realloc(r->late_ms, cap * sizeof *grown);
        if (grown == NULL)
            bench_die("out of memory");
        r->late_ms = grown;
        r->late_cap = cap;
    }
    r->late_ms[r->late_count++] = (double)ev->late_ms;
}

static void on_done(tda_flow *flow, tda_status status, tda_token *token, void *userdata)
{
    struct run *r = userdata;

    if (status == TDA_OK) {
        r->tokens++;
        tda_token_clear(token);
        return;
    }
    if (r->failed++ == 0) {
        r->first_failure = status;
        snprintf(r->first_detail, sizeof r->first_detail, "%s", tda_flow_error_detail(flow));
    }
}

/* What an application with its own event loop does: poll() on the engine's
 * descriptors until its timeout, then perform. */
static void run_poll_loop(tda_multi *m)
{
    struct pollfd fds[256];

    while (tda_multi_flow_count(m) > 0) {
        int n = tda_multi_fds(m, fds, (int)(sizeof fds / sizeof fds[0]));
        if (n > (int)(sizeof fds / sizeof fds[0]))
            bench_die("more descriptors than the array holds");
        long timeout = tda_multi_timeout_ms(m);
        if (poll(fds, (nfds_t)n, timeout > 60000 ? 60000 : (int)timeout) < 0)
            bench_die("poll failed");
        if (tda_multi_perform(m) != TDA_OK)
            bench_die("tda_multi_perform failed");
    }
}

int main(int argc, char **argv)
{
    const char *url = bench_arg(argc, argv, "--url", NULL);
    const char *client_id = bench_arg(argc, argv, "--client-id", "bench-id");
    const char *secret = bench_arg(argc, argv, "--client-secret", "bench-secret");
    const char *loop = bench_arg(argc, argv, "--loop", "wait");
    long flows = bench_arg_long(argc, argv, "--flows", 100);
    long max_conns = bench_arg_long(argc, argv, "--max-connections", 0);
    long pid = bench_arg_long(argc, argv, "--pid", 0);
    struct run r;
    tda_poll_options opts;
    tda_code *codes;
    tda_client *c;
    tda_multi *m;
    struct bench_stats s0, s1;
    long rss0, rss1;
    double cpu0, cpu1, t0, t1, emu0, emu1;
    long sleeps0, sleeps1;

    if (url == NULL || flows < 1)
        bench_die("usage: bench_tda_flows --url URL --flows N [--max-connections C] "
                  "[--loop wait|poll] [--pid EMULATOR_PID] [--client-id ID] [--client-secret S]");
    memset(&r, 0, sizeof r);
    tda_global_init(); /* libcurl and jansson set-up, as before the flows */
    c = tda_client_new(client_id, secret);
    if (c == NULL || tda_client_set_base_url(c, url) != TDA_OK ||
        tda_client_set_user_agent(c, "tda-bench-flows/1") != TDA_OK)
        bench_die("client set-up failed");

    /* The codes first, on the client's own (blocking) connection. */
    codes = calloc((size_t)flows, sizeof *codes);
    if (codes == NULL)
        bench_die("out of memory");
    for (long i = 0; i < flows; i++) {
        tda_status st = tda_generate_code(c, &codes[i]);
        if (st != TDA_OK)
            bench_die("code %ld: %s: %s", i + 1, tda_strerror(st), tda_client_error_detail(c));
    }

    m = tda_multi_new(c);
    if (m == NULL)
        bench_die("tda_multi_new failed");
    if (max_conns > 0 && tda_multi_set_max_connections(m, (int)max_conns) != TDA_OK)
        bench_die("tda_multi_set_max_connections(%ld) refused", max_conns);
    memset(&opts, 0, sizeof opts);
    opts.on_event = on_event;
    opts.userdata = &r;
    /* Room for every answer, allocated before the snapshots. */
    r.late_cap = (size_t)flows * 8;
    r.late_ms = malloc(r.late_cap * sizeof *r.late_ms);
    if (r.late_ms == NULL)
        bench_die("out of memory");
    if (!bench_get_stats(url, &s0))
        bench_die("no /stats from %s", url);

    emu0 = pid > 0 ? bench_pid_cpu((pid_t)pid) : 0;
    rss0 = bench_self_rss();
    cpu0 = bench_self_cpu();
    sleeps0 = bench_self_sleeps();
    t0 = bench_now();
    for (long i = 0; i < flows; i++) {
        if (tda_multi_add(m, &codes[i], &opts, on_done, &r) == NULL)
            bench_die("tda_multi_add failed at flow %ld", i + 1);
    }
    rss1 = bench_self_rss();
    if (strcmp(loop, "poll") == 0) {
        run_poll_loop(m);
    } else {
        while (tda_multi_flow_count(m) > 0) {
            tda_status st = tda_multi_wait(m, -1);
            if (st != TDA_OK)
                bench_die("tda_multi_wait: %s", tda_strerror(st));
        }
    }
    t1 = bench_now();
    cpu1 = bench_self_cpu();
    sleeps1 = bench_self_sleeps();
    emu1 = pid > 0 ? bench_pid_cpu((pid_t)pid) : 0;
    if (!bench_get_stats(url, &s1))
        bench_die("no /stats from %s", url);

    {
        size_t n = r.late_count;
        double p50 = bench_percentile(r.late_ms, n, 50);
        double p99 = bench_percentile(r.late_ms, n, 99);
        double max = n > 0 ? r.late_ms[n - 1] : 0; /* sorted by bench_percentile */
        double cpu = cpu1 - cpu0;
        printf("flows=%ld polls=%lld seconds=%.3f polls_per_s=%.1f cpu_s=%.3f "
               "cpu_us_per_poll=%.1f rss_per_flow=%.0f late_p50_ms=%.1f late_p99_ms=%.1f "
               "late_max_ms=%.1f tokens=%lld failed=%lld slow_downs=%lld retries=%lld "
               "early_polls=%lld emu_polls=%lld connections=%lld emu_cpu_pct=%.1f "
               "sleeps_per_poll=%.2f\n",
               flows, r.events, t1 - t0, (double)r.events / (t1 - t0), cpu,
               r.events > 0 ? cpu * 1e6 / (double)r.events : 0,
               (double)(rss1 - rss0) / (double)flows, p50, p99, max, r.tokens, r.failed,
               r.slow_downs, r.retries, s1.early_polls - s0.early_polls, s1.polls - s0.polls,
               /* the second /stats request opened a connection of its own */
               s1.connections - s0.connections - 1, 100.0 * (emu1 - emu0) / (t1 - t0),
               r.events > 0 ? (double)(sleeps1 - sleeps0) / (double)r.events : 0);
    }
    if (r.failed > 0)
        fprintf(stderr, "bench_tda_flows: %lld flow(s) failed; the first: %s: %s\n", r.failed,
                tda_strerror(r.first_failure), r.first_detail);

    tda_multi_free(m);
    for (long i = 0; i < flows; i++)
        tda_code_clear(&codes[i]);
    free(codes);
    free(r.late_ms);
    tda_client_free(c);
    tda_global_cleanup();
    return r.failed > 0 ? 1 : 0;
}
