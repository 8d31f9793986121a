/* SPDX-License-Identifier: Apache-2.0 */
/* bench_curl_loop: the floor for client CPU per poll. One libcurl easy
 * handle, one keep-alive connection, POSTing a device-token poll to the
 * emulator in a tight loop, with the same headers and body the library sends.
 *
 * Each request polls a fresh code (taken from /oauth/device/code before the
 * timed loop, on the same connection), so each is the first poll of its code:
 * the emulator answers 400 pending, exactly as it answers a waiting flow, and
 * counts no early poll. Polling one code in a loop would get 429 answers with
 * a Retry-After header instead and pollute the early-poll counter of the run.
 *
 * What is timed is only curl_easy_perform: the bodies are built beforehand,
 * so the figure is libcurl's cost for one keep-alive request and answer,
 * which any client that polls over HTTP pays at least.
 *
 * Prints one line of key=value figures: client CPU seconds per request
 * (getrusage RUSAGE_SELF), requests per second, and with --pid the
 * emulator's CPU per request.
 */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

static size_t discard(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    (void)ptr;
    (void)userdata;
    return size * nmemb;
}

int main(int argc, char **argv)
{
    const char *base_url = bench_arg(argc, argv, "--url", NULL);
    const char *client_id = bench_arg(argc, argv, "--client-id", "bench-id");
    const char *secret = bench_arg(argc, argv, "--client-secret", "bench-secret");
    long count = bench_arg_long(argc, argv, "--requests", 20000);
    long pid = bench_arg_long(argc, argv, "--pid", 0);
    char url[1024], key[300];
    char **codes, **bodies;
    struct curl_slist *headers = NULL;
    struct bench_stats s0, s1;
    long long st400 = 0, other = 0;
    double t0, t1, cpu0, cpu1, emu0, emu1;
    long sleeps0, sleeps1;
    CURL *easy;

    if (base_url == NULL || count < 1)
        bench_die("usage: bench_curl_loop --url URL [--requests M] [--pid PID] "
                  "[--client-id ID] [--client-secret S]");
    curl_global_init(CURL_GLOBAL_DEFAULT);
    codes = bench_fetch_codes(base_url, client_id, (size_t)count);
    bodies = calloc((size_t)count, sizeof *bodies);
    if (bodies == NULL)
        bench_die("out of memory");
    for (long i = 0; i < count; i++) {
        size_t len = strlen(codes[i]) + strlen(client_id) + strlen(secret) + 64;
        bodies[i] = malloc(len);
        if (bodies[i] == NULL)
            bench_die("out of memory");
        snprintf(bodies[i], len, "{\"code\":\"%s\",\"client_id\":\"%s\",\"client_secret\":\"%s\"}",
                 codes[i], client_id, secret);
    }

    /* The headers the library sends (src/client.c). */
    snprintf(key, sizeof key, "trakt-api-key: %s", client_id);
    headers = curl_slist_append(headers, "expect:");
    headers = curl_slist_append(headers, "content-type: application/json");
    headers = curl_slist_append(headers, "accept: application/json");
    headers = curl_slist_append(headers, "user-agent: tda-bench-curl-loop/1");
    headers = curl_slist_append(headers, "trakt-api-version: 2");
    headers = curl_slist_append(headers, key);
    snprintf(url, sizeof url, "%s/oauth/device/token", base_url);
    easy = curl_easy_init();
    if (easy == NULL || headers == NULL)
        bench_die("curl set-up failed");
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 30000L);
    /* One request outside the timing opens the connection. */
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, "{}");
    curl_easy_perform(easy);

    if (!bench_get_stats(base_url, &s0))
        bench_die("no /stats from %s", base_url);
    emu0 = pid > 0 ? bench_pid_cpu((pid_t)pid) : 0;
    cpu0 = bench_self_cpu();
    sleeps0 = bench_self_sleeps();
    t0 = bench_now();
    for (long i = 0; i < count; i++) {
        long status = 0;
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, bodies[i]);
        if (curl_easy_perform(easy) != CURLE_OK)
            bench_die("request %ld failed", i + 1);
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
        if (status == 400)
            st400++;
        else
            other++;
    }
    t1 = bench_now();
    cpu1 = bench_self_cpu();
    sleeps1 = bench_self_sleeps();
    emu1 = pid > 0 ? bench_pid_cpu((pid_t)pid) : 0;
    if (!bench_get_stats(base_url, &s1))
        bench_die("no /stats from %s", base_url);

    printf("requests=%ld seconds=%.3f rps=%.0f cpu_s=%.3f cpu_us_per_req=%.2f "
           "status400=%lld other=%lld emu_us_per_req=%.1f early_polls=%lld "
           "connections=%lld sleeps_per_req=%.2f\n",
           count, t1 - t0, (double)count / (t1 - t0), cpu1 - cpu0,
           (cpu1 - cpu0) * 1e6 / (double)count, st400, other,
           pid > 0 ? (emu1 - emu0) * 1e6 / (double)count : 0,
           /* the second /stats request opened a connection of its own */
           s1.early_polls - s0.early_polls, s1.connections - s0.connections - 1,
           (double)(sleeps1 - sleeps0) / (double)count);

    curl_easy_cleanup(easy);
    curl_slist_free_all(headers);
    for (long i = 0; i < count; i++) {
        free(codes[i]);
        free(bodies[i]);
    }
    free(codes);
    free(bodies);
    curl_global_cleanup();
    return other > 0 ? 1 : 0;
}
