/* The verbose log (log.c): called by tda_client_call around each request. */
#ifndef TDA_LOG_H
#define TDA_LOG_H
#include "client.h"

void tda_log_request(tda_client *c, const char *url, const tda_body *body);
/* detail: why no answer came, when transport is not TDA_OK (secret-free). */
void tda_log_answer(tda_client *c, tda_status transport, const tda_response *r, int64_t took_ms,
                    const char *detail);
#endif
