/* SPDX-License-Identifier: Apache-2.0 */
/* Connections held by a stall fault, until shutdown resumes them. */
#ifndef EMU_STALL_H
#define EMU_STALL_H

#include <stdbool.h>

#include "state.h"

struct MHD_Connection;

/* False when out of memory: the caller closes the connection instead. */
bool emu_hold_stalled(struct emu_server *srv, struct MHD_Connection *conn);
void emu_release_stalled(struct emu_server *srv);

#endif
