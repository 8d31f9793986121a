/* SPDX-License-Identifier: Apache-2.0 */
/* The non-blocking engine's private entry for tda_poll_for_token (poll_flow.c). */
#ifndef TDA__MULTI_H
#define TDA__MULTI_H

#include "client.h"

/*
 * An engine that borrows the client's own curl multi handle and easy handle
 * instead of making its own, so a blocking login keeps using the connection
 * that fetched its code, and that records each answer's HTTP status and
 * Retry-After on the client, as the blocking calls do. One connection.
 */
tda_multi *tda__multi_borrow(tda_client *c);

#endif
