/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The clocks a flow is timed by, read together. A device flow has two kinds
 * of time in it: the spacing between requests, which must never be shorter
 * than the interval however the machine slept, and the code's life and the
 * caller's deadline, which run on at Trakt's end while the machine sleeps.
 */
#ifndef TDA__CLOCK_H
#define TDA__CLOCK_H

#include <stddef.h>
#include <stdint.h>

typedef struct tda__instant {
    int64_t mono_ms; /* CLOCK_MONOTONIC (tda_monotonic_ms): stops while suspended */
    int64_t boot_ms; /* tda_boottime_ms: CLOCK_BOOTTIME where the system has it */
} tda__instant;

/* Both clocks now. */
tda__instant tda__now(void);

/* CLOCK_REALTIME in ms: only for what must outlive a reboot (a saved code). */
int64_t tda__unix_ms(void);

/*
 * This boot's id (Linux: /proc/sys/kernel/random/boot_id, 36 characters), so
 * a saved boot-clock reading is trusted only within the boot that made it.
 * Returns 0 and an empty string when the system has none.
 */
#define TDA__BOOT_ID_SIZE 40
int tda__boot_id(char out[TDA__BOOT_ID_SIZE]);

#endif
