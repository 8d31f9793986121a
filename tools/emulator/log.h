/* SPDX-License-Identifier: Apache-2.0 */
/* Output other than the listening line: the request log and notes on
 * stderr. */
#ifndef EMU_LOG_H
#define EMU_LOG_H

#include <stdarg.h>
#include <stdint.h>

#include "answer.h"
#include "state.h"

enum emu_secret_seen { EMU_SECRET_NOT_ASKED, EMU_SECRET_ABSENT, EMU_SECRET_SENT };

void emu_log_request(struct emu_server *srv, int64_t arrival, const char *method, const char *url,
                     enum emu_secret_seen secret, const struct emu_answer *ans);
void emu_say(const struct emu_server *srv, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void emu_mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

#endif
