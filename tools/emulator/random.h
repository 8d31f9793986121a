/* SPDX-License-Identifier: Apache-2.0 */
/* Codes and tokens from the kernel's random source. */
#ifndef EMU_RANDOM_H
#define EMU_RANDOM_H

#include <stdbool.h>
#include <stddef.h>

#include "common.h"

bool emu_random_hex(char *out, size_t bytes); /* 2 * bytes digits and a NUL */
bool emu_random_user_code(char out[EMU_USER_CODE_LEN + 1]);

#endif
