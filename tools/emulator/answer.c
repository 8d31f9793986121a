/* SPDX-License-Identifier: Apache-2.0 */
/* Constructors for struct emu_answer. Each one degrades to an empty 500 when
 * the body could not be built, so handlers never need an error path of
 * their own for out-of-memory. */
#include "answer.h"

#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "common.h"

void emu_answer_empty(struct emu_answer *ans, unsigned int status)
{
    json_decref(ans->json);
    free(ans->body);
    ans->json = NULL;
    ans->body = NULL;
    ans->body_len = 0;
    ans->status = status;
    ans->content_type = NULL;
}

void emu_answer_json(struct emu_answer *ans, unsigned int status, json_t *json)
{
    if (json == NULL) {
        emu_answer_empty(ans, MHD_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }
    json_decref(ans->json);
    ans->json = json;
    ans->status = status;
    ans->content_type = "application/json";
}

void emu_answer_error(struct emu_answer *ans, unsigned int status, const char *error)
{
    emu_answer_json(ans, status, json_pack("{s:s}", "error", error));
}

void emu_answer_owned(struct emu_answer *ans, unsigned int status, const char *content_type,
                      char *body)
{
    if (body == NULL) {
        emu_answer_empty(ans, MHD_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }
    free(ans->body);
    ans->body = body;
    ans->body_len = strlen(body);
    ans->status = status;
    ans->content_type = content_type;
}

/* Turns a JSON answer into its text, for faults that work on bytes. An
 * answer without JSON is left as it is. False only when out of memory. */
bool emu_answer_to_text(struct emu_answer *ans)
{
    char *text;

    if (ans->json == NULL)
        return true;
    text = json_dumps(ans->json, JSON_COMPACT | JSON_REAL_PRECISION(15));
    if (text == NULL)
        return false;
    json_decref(ans->json);
    ans->json = NULL;
    free(ans->body);
    ans->body = text;
    ans->body_len = strlen(text);
    return true;
}

void emu_answer_clear(struct emu_answer *ans)
{
    json_decref(ans->json);
    free(ans->body);
    memset(ans, 0, sizeof *ans);
}

/* Trakt sends integers; a sub-second setting has to be a real to be
 * truthful, and clients are expected to cope with both. */
json_t *emu_duration_json(const struct emu_duration *d)
{
    if (d->whole)
        return json_integer((json_int_t)(d->ns / EMU_NS_PER_SEC));
    return json_real(d->seconds);
}
