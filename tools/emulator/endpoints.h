/* SPDX-License-Identifier: Apache-2.0 */
/* The JSON endpoints of Trakt's OAuth API. */
#ifndef EMU_ENDPOINTS_H
#define EMU_ENDPOINTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "answer.h"
#include "state.h"

void emu_handle_device_code(struct emu_server *srv, const char *body, size_t len, int64_t arrival,
                            struct emu_answer *ans);
void emu_handle_device_token(struct emu_server *srv, const char *body, size_t len, int64_t arrival,
                             struct emu_answer *ans);
void emu_handle_refresh(struct emu_server *srv, const char *body, size_t len,
                        struct emu_answer *ans);
void emu_handle_revoke(struct emu_server *srv, const char *body, size_t len,
                       struct emu_answer *ans);
void emu_handle_stats(struct emu_server *srv, struct emu_answer *ans);
/* Whether a JSON body carries client_secret, for the log and the counters. */
bool emu_body_has_secret(const char *body, size_t len);

#endif
