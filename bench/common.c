/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the benchmark programs (see common.h). */
#include "common.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

double bench_self_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

long bench_self_sleeps(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_nvcsw;
}

/* Fields 14 and 15 of /proc/PID/stat, after the command name in parentheses
 * (which may itself hold spaces and parentheses: search from the last ')'). */
double bench_pid_cpu(pid_t pid)
{
    char path[64], buf[2048];
    FILE *f;
    size_t n;
    char *p;
    unsigned long long utime = 0, stime = 0;

    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')');
    if (p == NULL)
        return -1;
    /* After ") ": state(3) ppid pgrp session tty tpgid flags minflt cminflt
   * majflt cmajflt utime(14) stime(15). */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
        return -1;
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

long bench_self_rss(void)
{
    long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");

    if (f == NULL)
        return -1;
    if (fscanf(f, "%ld %ld", &size, &resident) != 2)
        resident = -1;
    fclose(f);
    return resident < 0 ? -1 : resident * sysconf(_SC_PAGESIZE);
}

struct buffer {
    char *data;
    size_t len;
};

static size_t collect(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct buffer *b = userdata;
    size_t n = size * nmemb;
    char *grown = realloc(b->data, b->len + n + 1);

    if (grown == NULL)
        return 0;
    b->data = grown;
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

static long long counter(const json_t *obj, const char *name)
{
    const json_t *v = json_object_get(obj, name);
    return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

int bench_get_stats(const char *base_url, struct bench_stats *out)
{
    char url[1024];
    struct buffer b = {NULL, 0};
    CURL *easy = curl_easy_init();
    json_t *obj = NULL;
    int ok = 0;

    memset(out, 0, sizeof *out);
    if (easy == NULL)
        return 0;
    snprintf(url, sizeof url, "%s/stats", base_url);
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 10000L);
    if (curl_easy_perform(easy) == CURLE_OK && b.data != NULL)
        obj = json_loadb(b.data, b.len, 0, NULL);
    if (json_is_object(obj)) {
        out->requests = counter(obj, "requests");
        out->connections = counter(obj, "connections");
        out->polls = counter(obj, "polls");
        out->early_polls = counter(obj, "early_polls");
        out->codes_issued = counter(obj, "codes_issued");
        out->tokens_issued = counter(obj, "tokens_issued");
        ok = 1;
    }
    json_decref(obj);
    free(b.data);
    curl_easy_cleanup(easy);
    return ok;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest rank: the smallest value with at least p% of values at or below it. */
double bench_percentile(double *values, size_t n, double p)
{
    size_t rank;

    if (n == 0)
        return 0;
    qsort(values, n, sizeof *values, compare_doubles);
    rank = (size_t)ceil(p / 100.0 * (double)n);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return values[rank - 1];
}

void bench_die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

const char *bench_arg(int argc, char **argv, const char *name, const char *def)
{
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], name) == 0)
            return argv[i + 1];
    }
    return def;
}

long bench_arg_long(int argc, char **argv, const char *name, long def)
{
    const char *v = bench_arg(argc, argv, name, NULL);
    char *end;
    long n;

    if (v == NULL)
        return def;
    n = strtol(v, &end, 10);
    if (*v == '\0' || *end != '\0')
        bench_die("%s wants a whole number, not '%s'", name, v);
    return n;
}

double bench_arg_double(int argc, char **argv, const char *name, double def)
{
    const char *v = bench_arg(argc, argv, name, NULL);
    char *end;
    double d;

    if (v == NULL)
        return def;
    d = strtod(v, &end);
    if (*v == '\0' || *end != '\0')
        bench_die("%s wants a number, not '%s'", name, v);
    return d;
}

char **bench_fetch_codes(const char *base_url, const char *client_id, size_t n)
{
    char url[1024], body[512];
    char **codes = calloc(n, sizeof *codes);
    struct curl_slist *headers = NULL;
    CURL *easy = curl_easy_init();

    if (codes == NULL || easy == NULL)
        bench_die("out of memory");
    snprintf(url, sizeof url, "%s/oauth/device/code", base_url);
    snprintf(body, sizeof body, "{\"client_id\":\"%s\"}", client_id);
    headers = curl_slist_append(headers, "content-type: application/json");
    headers = curl_slist_append(headers, "expect:");
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 30000L);
    for (size_t i = 0; i < n; i++) {
        struct buffer b = {NULL, 0};
        long status = 0;
        json_t *obj = NULL;
        const char *code;
        CURLcode rc;

        curl_easy_setopt(easy, CURLOPT_WRITEDATA, &b);
        rc = curl_easy_perform(easy);
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
        if (rc == CURLE_OK && status == 200 && b.data != NULL)
            obj = json_loadb(b.data, b.len, 0, NULL);
        code = json_string_value(json_object_get(obj, "device_code"));
        if (code == NULL)
            bench_die("code %zu of %zu: %s, HTTP %ld", i + 1, n, curl_easy_strerror(rc), status);
        codes[i] = strdup(code);
        if (codes[i] == NULL)
            bench_die("out of memory");
        json_decref(obj);
        free(b.data);
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(easy);
    return codes;
}
