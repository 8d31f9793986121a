/* SPDX-License-Identifier: Apache-2.0 */
/*
 * When a token is due, from the time elapsed since it arrived by the local
 * clocks (the rules are in the header, at tda_token_age_of). The reason for
 * all this: boxes without a real-time clock boot in 1970, clocks are set by
 * NTP minutes after boot, and a wrong clock must not spend a single-use
 * refresh token on every call, nor keep an expired token in use.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "internal.h"

#define MIN_MARGIN_MS 60000

/* Reads the first line of a small file into out (NUL-terminated); "" when it cannot. */
static void read_line(const char *path, char *out, size_t size)
{
    out[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return;
    ssize_t n = read(fd, out, size - 1);
    close(fd);
    out[n > 0 ? n : 0] = '\0';
    out[strcspn(out, "\r\n")] = '\0';
}

static char boot_id[TDA__BOOT_ID_SIZE];
_Static_assert(sizeof boot_id == sizeof((tda_received *)0)->boot_id, "a boot id fits the stamp");
static char host[sizeof((tda_received *)0)->host];
static pthread_once_t ids_once = PTHREAD_ONCE_INIT;

/*
 * Read once per process: neither changes while a process lives. The machine
 * id is hashed (FNV-1a, 64 bits) because systemd asks that it be kept
 * confidential; only equality matters here.
 */
static void read_ids(void)
{
    tda__boot_id(boot_id); /* the saved code's check uses the same id (clock.c) */
    char machine[128];
    read_line("/etc/machine-id", machine, sizeof machine);
    if (!machine[0])
        read_line("/var/lib/dbus/machine-id", machine, sizeof machine);
    if (machine[0]) {
        uint64_t h = 0xcbf29ce484222325ULL;
        for (const char *p = "traktdeviceauth:"; *p; p++)
            h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
        for (const char *p = machine; *p; p++)
            h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
        snprintf(host, sizeof host, "%016llx", (unsigned long long)h);
    }
}

void tda__received_now(tda_received *out)
{
    pthread_once(&ids_once, read_ids);
    memset(out, 0, sizeof *out);
    out->wall_s = tda__unix_ms() / 1000;
    out->uptime_ms = tda_boottime_ms();
    memcpy(out->boot_id, boot_id, sizeof out->boot_id);
    memcpy(out->host, host, sizeof out->host);
}

/* The elapsed time in ms by rules 1 to 4, or -1 when it cannot be told. */
static int64_t elapsed_ms(const tda_token *t, const tda_received *now)
{
    const tda_received *r = &t->received;
    if (r->boot_id[0] && strcmp(r->boot_id, now->boot_id) == 0) /* rule 1 */
        return now->uptime_ms >= r->uptime_ms ? now->uptime_ms - r->uptime_ms : -1;
    int stamped = r->wall_s != 0 || r->boot_id[0];
    int64_t at = stamped ? r->wall_s : t->created_at; /* rule 4 */
    if (now->wall_s < at)
        return -1;
    int64_t wall_ms = (now->wall_s - at) * 1000;
    if (stamped && r->host[0] && strcmp(r->host, now->host) == 0 && wall_ms < now->uptime_ms)
        return -1;  /* rule 2: it arrived before this boot began, so the wall clock is wrong */
    return wall_ms; /* rules 2 and 3 */
}

void tda__token_age_at(const tda_token *t, const tda_received *now, tda_token_age *out)
{
    memset(out, 0, sizeof *out);
    out->due = out->expired = 1;
    if (!t || t->expires_in <= 0)
        return;
    int64_t elapsed = elapsed_ms(t, now);
    if (elapsed < 0)
        return;
    int64_t life_ms = t->expires_in * 1000;
    int64_t margin_ms = life_ms / 10 > MIN_MARGIN_MS ? life_ms / 10 : MIN_MARGIN_MS;
    out->known = 1;
    out->elapsed_ms = elapsed;
    out->remaining_ms = life_ms - elapsed;
    out->due = out->remaining_ms < margin_ms;
    out->expired = out->remaining_ms <= 0;
}

void tda_token_age_of(const tda_token *token, tda_token_age *out)
{
    if (!out)
        return;
    tda_received now;
    tda__received_now(&now);
    tda__token_age_at(token, &now, out);
}
