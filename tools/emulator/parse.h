/* SPDX-License-Identifier: Apache-2.0 */
/* The leaf parsers of the command line: whole numbers and durations, strict
 * (no sign, no spaces, no overflow). They depend on nothing of the emulator,
 * so options.c and fault_spec.c can both use them without a cycle. */
#ifndef EMU_PARSE_H
#define EMU_PARSE_H

#include <stdbool.h>
#include <stdint.h>

/* A time setting: exact nanoseconds for enforcement, and how the user wrote
 * it so the JSON answer can echo an integer for "5" and a real for "0.2". */
struct emu_duration {
    int64_t ns;
    double seconds;
    bool whole;
};

/* Decimal digits only, at most max. */
bool emu_parse_count(const char *text, unsigned long max, unsigned long *out);
/* Seconds with up to nine decimals ("5", "0.2"), at most 10^9 seconds. */
bool emu_parse_duration(const char *text, struct emu_duration *out);

#endif
