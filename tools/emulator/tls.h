/* SPDX-License-Identifier: Apache-2.0 */
/* https: the PEM certificate and key, read at start-up. */
#ifndef EMU_TLS_H
#define EMU_TLS_H

#include <stdbool.h>

#include "options.h"

bool emu_tls_load(struct emu_config *cfg);
const char *emu_scheme(const struct emu_config *cfg); /* "https" or "http" */

#endif
