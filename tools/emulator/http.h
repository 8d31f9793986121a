/* SPDX-License-Identifier: Apache-2.0 */
/* libmicrohttpd's callbacks: every request goes in and out here. */
#ifndef EMU_HTTP_H
#define EMU_HTTP_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <microhttpd.h>

enum MHD_Result emu_http_handle(void *cls, struct MHD_Connection *conn, const char *url,
                                const char *method, const char *version, const char *upload_data,
                                size_t *upload_data_size, void **req_cls);
void emu_http_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                        enum MHD_RequestTerminationCode toe);
void emu_http_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                         enum MHD_ConnectionNotificationCode toe);

#endif
