/* SPDX-License-Identifier: Apache-2.0 */
/* The page at /activate where a person approves or denies a device. */
#ifndef EMU_ACTIVATE_PAGE_H
#define EMU_ACTIVATE_PAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "answer.h"
#include "state.h"

/* path_code: the code in /activate/CODE, or NULL. */
void emu_activate_form(const char *path_code, struct emu_answer *ans);
void emu_activate_submit(struct emu_server *srv, const char *body, size_t len, int64_t arrival,
                         struct emu_answer *ans);
/* Letters and digits upper-cased, spaces and dashes dropped. */
bool emu_normalize_user_code(const char *in, size_t len, char *out, size_t out_size);

#endif
