/* SPDX-License-Identifier: Apache-2.0 */
/* bench_load: how many device-token polls per second the emulator sustains,
 * and what each costs it in CPU.
 *
 * It first takes --codes codes from /oauth/device/code, then keeps
 * --connections keep-alive connections busy POSTing /oauth/device/token for
 * them. Each code is polled again no sooner than --gap-ms after its previous
 * answer arrived, so with --gap-ms at or above the emulator's --interval every
 * poll is an ordinary pending poll (400), never an early one (429): the work
 * the emulator does is the work a waiting flow causes. Run the emulator
 * without an approve/deny option so codes stay pending.
 *
 * --rate 0 (default) runs closed loop: each connection sends again as soon as
 * it is answered, which finds the ceiling. --rate R paces the sends at R per
 * second in all, which shows what a given load costs the emulator.
 *
 * Prints one line of key=value figures. With --pid, the emulator's CPU
 * seconds over the measured window come from /proc/PID/stat (utime+stime).
 */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

struct conn {
    CURL *easy;
    size_t code; /* index of the code in flight */
    int busy;
};

struct load {
    const char *base_url;
    char **bodies;
    size_t ncodes;
    /* Codes waiting for their next poll, oldest answer first. */
    size_t *ring;
    size_t head, count;
    double *answered_at;
    double gap;
    struct curl_slist *headers;
    char token_url[1024];
    CURLM *multi;
    struct conn *conns;
    int nconns;
    /* Counted over the measured window only. */
    int measuring;
    long long done, status_400, status_429, status_other, failed;
};

static size_t discard(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    (void)ptr;
    (void)userdata;
    return size * nmemb;
}

static void ring_push(struct load *ld, size_t code, double now)
{
    ld->answered_at[code] = now;
    ld->ring[(ld->head + ld->count) % ld->ncodes] = code;
    ld->count++;
}

static int head_due(const struct load *ld, double now)
{
    return ld->count > 0 && ld->answered_at[ld->ring[ld->head]] + ld->gap <= now;
}

static void start(struct load *ld, struct conn *c)
{
    size_t code = ld->ring[ld->head];

    ld->head = (ld->head + 1) % ld->ncodes;
    ld->count--;
    c->code = code;
    c->busy = 1;
    curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, ld->bodies[code]);
    if (curl_multi_add_handle(ld->multi, c->easy) != CURLM_OK)
        bench_die("curl_multi_add_handle failed");
}

static void finish(struct load *ld, CURLMsg *msg, double now)
{
    long status = 0;

    for (int i = 0; i < ld->nconns; i++) {
        struct conn *c = &ld->conns[i];
        if (c->easy != msg->easy_handle)
            continue;
        curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
        curl_multi_remove_handle(ld->multi, c->easy);
        c->busy = 0;
        if (ld->measuring) {
            ld->done++;
            if (msg->data.result != CURLE_OK)
                ld->failed++;
            else if (status == 400)
                ld->status_400++;
            else if (status == 429)
                ld->status_429++;
            else
                ld->status_other++;
        }
        ring_push(ld, c->code, now);
        return;
    }
}

/* Runs until `until`; with rate > 0 sends are paced from *next_send on;
 * with rate < 0 nothing new is sent and it returns once nothing is in flight. */
static void run(struct load *ld, double until, double rate, double *next_send)
{
    for (;;) {
        double now = bench_now();
        int running = 0, pending = 0;
        long wait_ms = 100;
        CURLMsg *msg;

        if (now >= until)
            return;
        for (int i = 0; i < ld->nconns && rate >= 0; i++) {
            if (ld->conns[i].busy || !head_due(ld, now))
                continue;
            if (rate > 0) {
                if (*next_send > now)
                    break;
                *next_send += 1.0 / rate;
                if (*next_send < now - 0.1) /* never bank more than 0.1 s of sends */
                    *next_send = now - 0.1;
            }
            start(ld, &ld->conns[i]);
        }
        curl_multi_perform(ld->multi, &running);
        now = bench_now();
        while ((msg = curl_multi_info_read(ld->multi, &pending)) != NULL) {
            if (msg->msg == CURLMSG_DONE)
                finish(ld, msg, now);
        }
        if (rate < 0) {
            if (running == 0)
                return; /* draining, and nothing is left in flight */
        } else if (ld->count > 0) {
            int idle = 0;
            for (int i = 0; i < ld->nconns; i++)
                idle |= !ld->conns[i].busy;
            /* With every connection busy only an answer can change anything. */
            if (idle) {
                double due = ld->answered_at[ld->ring[ld->head]] + ld->gap;
                if (rate > 0 && *next_send > due)
                    due = *next_send;
                if (due <= now)
                    continue;
                wait_ms = (long)((due - now) * 1000.0) + 1;
                if (wait_ms > 100)
                    wait_ms = 100;
            }
        }
        curl_multi_poll(ld->multi, NULL, 0, (int)wait_ms, NULL);
    }
}

int main(int argc, char **argv)
{
    struct load ld;
    const char *client_id = bench_arg(argc, argv, "--client-id", "bench-id");
    const char *secret = bench_arg(argc, argv, "--client-secret", "bench-secret");
    long pid = bench_arg_long(argc, argv, "--pid", 0);
    double seconds = bench_arg_double(argc, argv, "--seconds", 5);
    double warmup = bench_arg_double(argc, argv, "--warmup", 1);
    double rate = bench_arg_double(argc, argv, "--rate", 0);
    char **codes;
    char ua[64];
    struct bench_stats s0, s1;
    double t0, t1, cpu0, cpu1, self0, self1, next_send;

    memset(&ld, 0, sizeof ld);
    ld.base_url = bench_arg(argc, argv, "--url", NULL);
    ld.ncodes = (size_t)bench_arg_long(argc, argv, "--codes", 4000);
    ld.nconns = (int)bench_arg_long(argc, argv, "--connections", 8);
    ld.gap = bench_arg_double(argc, argv, "--gap-ms", 60) / 1000.0;
    if (ld.base_url == NULL || ld.ncodes < 1 || ld.nconns < 1)
        bench_die("usage: bench_load --url URL [--codes K] [--connections C] "
                  "[--gap-ms G] [--seconds S] [--warmup S] [--rate R] [--pid PID] "
                  "[--client-id ID] [--client-secret S]");
    curl_global_init(CURL_GLOBAL_DEFAULT);

    codes = bench_fetch_codes(ld.base_url, client_id, ld.ncodes);
    ld.bodies = calloc(ld.ncodes, sizeof *ld.bodies);
    ld.ring = calloc(ld.ncodes, sizeof *ld.ring);
    ld.answered_at = calloc(ld.ncodes, sizeof *ld.answered_at);
    ld.conns = calloc((size_t)ld.nconns, sizeof *ld.conns);
    if (ld.bodies == NULL || ld.ring == NULL || ld.answered_at == NULL || ld.conns == NULL)
        bench_die("out of memory");
    for (size_t i = 0; i < ld.ncodes; i++) {
        size_t len = strlen(codes[i]) + strlen(client_id) + strlen(secret) + 64;
        ld.bodies[i] = malloc(len);
        if (ld.bodies[i] == NULL)
            bench_die("out of memory");
        snprintf(ld.bodies[i], len,
                 "{\"code\":\"%s\",\"client_id\":\"%s\",\"client_secret\":\"%s\"}", codes[i],
                 client_id, secret);
        ring_push(&ld, i, 0);
    }

    /* The headers the library sends (src/client.c). */
    snprintf(ua, sizeof ua, "user-agent: tda-bench-load/1");
    ld.headers = curl_slist_append(NULL, "expect:");
    ld.headers = curl_slist_append(ld.headers, "content-type: application/json");
    ld.headers = curl_slist_append(ld.headers, "accept: application/json");
    ld.headers = curl_slist_append(ld.headers, ua);
    ld.headers = curl_slist_append(ld.headers, "trakt-api-version: 2");
    {
        char key[300];
        snprintf(key, sizeof key, "trakt-api-key: %s", client_id);
        ld.headers = curl_slist_append(ld.headers, key);
    }
    snprintf(ld.token_url, sizeof ld.token_url, "%s/oauth/device/token", ld.base_url);
    ld.multi = curl_multi_init();
    curl_multi_setopt(ld.multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)ld.nconns);
    curl_multi_setopt(ld.multi, CURLMOPT_MAXCONNECTS, (long)ld.nconns);
    for (int i = 0; i < ld.nconns; i++) {
        CURL *e = curl_easy_init();
        if (e == NULL)
            bench_die("curl_easy_init failed");
        curl_easy_setopt(e, CURLOPT_URL, ld.token_url);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, ld.headers);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 30000L);
        ld.conns[i].easy = e;
    }

    next_send = bench_now();
    run(&ld, bench_now() + warmup, rate, &next_send);

    if (!bench_get_stats(ld.base_url, &s0))
        bench_die("no /stats from %s", ld.base_url);
    cpu0 = pid > 0 ? bench_pid_cpu((pid_t)pid) : 0;
    self0 = bench_self_cpu();
    t0 = bench_now();
    ld.measuring = 1;
    run(&ld, t0 + seconds, rate, &next_send);
    ld.measuring = 0;
    t1 = bench_now();
    cpu1 = pid > 0 ? bench_pid_cpu((pid_t)pid) : 0;
    self1 = bench_self_cpu();
    /* Let what is in flight land so the emulator's counters settle. */
    run(&ld, bench_now() + 0.2, -1, &next_send);
    if (!bench_get_stats(ld.base_url, &s1))
        bench_die("no /stats from %s", ld.base_url);

    {
        double wall = t1 - t0, emu_cpu = cpu1 - cpu0;
        double rps = (double)ld.done / wall;
        printf("requests=%lld seconds=%.3f rps=%.0f status400=%lld status429=%lld other=%lld "
               "failed=%lld emu_cpu_s=%.2f emu_cpu_pct=%.1f emu_us_per_req=%.1f "
               "emu_capacity_rps=%.0f client_cpu_s=%.2f client_us_per_req=%.1f "
               "polls=%lld early_polls=%lld connections=%lld\n",
               ld.done, wall, rps, ld.status_400, ld.status_429, ld.status_other, ld.failed,
               emu_cpu, 100.0 * emu_cpu / wall, ld.done > 0 ? emu_cpu * 1e6 / (double)ld.done : 0,
               emu_cpu > 0 ? (double)ld.done / emu_cpu : 0, self1 - self0,
               ld.done > 0 ? (self1 - self0) * 1e6 / (double)ld.done : 0, s1.polls - s0.polls,
               s1.early_polls - s0.early_polls, s1.connections - s0.connections);
    }
    return ld.status_429 > 0 || ld.failed > 0 ? 1 : 0;
}
