/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the benchmark programs: clocks, CPU and memory readings,
 * the emulator's /stats counters, and percentiles. */
#ifndef TDA_BENCH_COMMON_H
#define TDA_BENCH_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* CLOCK_MONOTONIC in seconds and in nanoseconds. */
double bench_now(void);
int64_t bench_now_ns(void);

/* CPU seconds (user + system) of this process so far. */
double bench_self_cpu(void);

/* Voluntary context switches of this process so far: how often it slept. */
long bench_self_sleeps(void);

/* CPU seconds (user + system) of another process from /proc/PID/stat, or -1. */
double bench_pid_cpu(pid_t pid);

/* Resident set size of this process in bytes, from /proc/self/statm. */
long bench_self_rss(void);

/* The emulator's counters (GET BASE/stats); false when it did not answer. */
struct bench_stats {
    long long requests, connections, polls, early_polls, codes_issued, tokens_issued;
};
int bench_get_stats(const char *base_url, struct bench_stats *out);

/* The pth percentile (0..100) of n values; sorts them in place. 0 when n is 0. */
double bench_percentile(double *values, size_t n, double p);

/* Dies with a message on stderr. */
void bench_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Parses "--name value" pairs: returns the value of name, or def. */
const char *bench_arg(int argc, char **argv, const char *name, const char *def);
long bench_arg_long(int argc, char **argv, const char *name, long def);
double bench_arg_double(int argc, char **argv, const char *name, double def);

/* POST BASE/oauth/device/code n times on one keep-alive easy handle and keep
 * each device code; returns a malloc'd array of n malloc'd strings. */
char **bench_fetch_codes(const char *base_url, const char *client_id, size_t n);

#endif
