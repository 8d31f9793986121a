/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The clocks (see clock.h). CLOCK_BOOTTIME counts the time a laptop or a
 * set-top box spent suspended, CLOCK_MONOTONIC does not: a code's life and a
 * deadline are measured on the first, so a machine that slept through them
 * notices at once on waking; the interval between requests on the second (via
 * the engine), which can only make a request later, never earlier.
 */
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "internal.h"

static int64_t read_ms(clockid_t id)
{
    struct timespec ts;
    if (clock_gettime(id, &ts) != 0)
        return -1;
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t tda_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t tda_boottime_ms(void)
{
#ifdef CLOCK_BOOTTIME
    int64_t ms = read_ms(CLOCK_BOOTTIME);
    if (ms >= 0)
        return ms;
#endif
    return tda_monotonic_ms(); /* a system without it has no suspend to count, or hides it */
}

tda__instant tda__now(void)
{
    /* Boot time second: it is never behind the monotonic reading taken first. */
    tda__instant now;
    now.mono_ms = tda_monotonic_ms();
    now.boot_ms = tda_boottime_ms();
    return now;
}

int64_t tda__unix_ms(void)
{
    int64_t ms = read_ms(CLOCK_REALTIME);
    return ms > 0 ? ms : 0;
}

int tda__boot_id(char out[TDA__BOOT_ID_SIZE])
{
    out[0] = '\0';
    int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, out, TDA__BOOT_ID_SIZE - 1);
    close(fd);
    if (n <= 0) {
        out[0] = '\0';
        return 0;
    }
    out[n] = '\0';
    out[strcspn(out, "\n")] = '\0';
    /* Only the plain shape of a UUID: the id goes into a file and is compared as text. */
    if (strlen(out) < 8 || strspn(out, "0123456789abcdef-") != strlen(out)) {
        out[0] = '\0';
        return 0;
    }
    return 1;
}
