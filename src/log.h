/* SPDX-License-Identifier: Apache-2.0 */
/* The verbose log (log.c): called by tda__client_call around each request. */
#ifndef TDA__LOG_H
#define TDA__LOG_H
#include "client.h"

void tda__log_request(tda_client *c, const char *url, const tda__body *body);
/* detail: why no answer came, when transport is not TDA_OK (secret-free). */
void tda__log_answer(tda_client *c, tda_status transport, const tda__response *r, int64_t took_ms,
                     const char *detail);
#endif
