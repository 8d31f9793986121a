/* SPDX-License-Identifier: Apache-2.0 */
/* What a handler decided, before http.c turns it into bytes on the wire, and
 * its constructors. Each constructor degrades to an empty 500 when the body
 * could not be built. */
#ifndef EMU_ANSWER_H
#define EMU_ANSWER_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "parse.h"

struct emu_answer {
    unsigned int status;
    json_t *json; /* owned; wins over body */
    char *body;   /* owned, malloc'd */
    size_t body_len;
    const char *content_type;
    const char *allow; /* Allow header of a 405 */
    bool has_retry_after;
    unsigned long retry_after;
    bool cloudflare; /* add the server header Cloudflare sends */
    bool ratelimit;  /* add an X-Ratelimit header like Trakt's */
    unsigned long ratelimit_reset;
    bool drop;  /* close the connection without an answer */
    bool stall; /* never answer; the connection is held until exit */
    /* Streamed delivery: the headers declare stream_len bytes (the body, then
   * filler), and the connection closes after cut_at of them. */
    bool stream;
    size_t stream_len;
    size_t cut_at;
    const char *note; /* extra word for the request log */
    /* Which code a request was about, by its serial ("code=3"): tests follow
   * one code's polls across a client's restart without logging the code. */
    char code_note[32];
};

void emu_answer_json(struct emu_answer *ans, unsigned int status, json_t *json);
void emu_answer_error(struct emu_answer *ans, unsigned int status, const char *error);
void emu_answer_empty(struct emu_answer *ans, unsigned int status);
void emu_answer_owned(struct emu_answer *ans, unsigned int status, const char *content_type,
                      char *body);
void emu_answer_clear(struct emu_answer *ans);
bool emu_answer_to_text(struct emu_answer *ans);
/* A setting in seconds as an answer gives it: an integer when whole. */
json_t *emu_duration_json(const struct emu_duration *d);

#endif
