/* SPDX-License-Identifier: Apache-2.0 */
/* The json fault: Trakt's logic ran, and its JSON answer is altered on the
 * way out, to show how a client copes with answers that are malformed, of the
 * wrong types, incomplete, padded, ambiguous or not UTF-8. Edits of the
 * object (set, del) come first; then edits of the text, in the order given. */
#include "json_alter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static void edit_object(const struct emu_json_op *op, json_t *obj)
{
    json_t *value;

    if (op->kind == EMU_JSON_DEL) {
        json_object_del(obj, op->field);
    } else if (op->kind == EMU_JSON_SET) {
        /* Checked when the option was parsed; NULL only when out of memory. */
        value = json_loads(op->value, JSON_DECODE_ANY, NULL);
        if (value != NULL)
            json_object_set_new(obj, op->field, value);
    }
}

/* Replaces the bytes [at, at + removed) of the body with insert. */
static bool splice(struct emu_answer *ans, size_t at, size_t removed, const char *insert,
                   size_t inserted)
{
    size_t len = ans->body_len - removed + inserted;
    char *text = malloc(len + 1);

    if (text == NULL)
        return false;
    memcpy(text, ans->body, at);
    memcpy(text + at, insert, inserted);
    memcpy(text + at + inserted, ans->body + at + removed, ans->body_len - at - removed);
    text[len] = '\0';
    free(ans->body);
    ans->body = text;
    ans->body_len = len;
    return true;
}

/* "field":VALUE, right after the opening brace, so the key appears twice:
 * a lenient parser takes one copy silently, which is the danger. */
static void duplicate_key(struct emu_answer *ans, const json_t *original, const char *field)
{
    json_t *value = json_object_get(original, field);
    char *dumped, *pair;

    if (value == NULL || ans->body_len == 0 || ans->body[0] != '{')
        return;
    dumped = json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT);
    if (dumped != NULL && asprintf(&pair, "\"%s\":%s,", field, dumped) >= 0) {
        splice(ans, 1, 0, pair, strlen(pair));
        free(pair);
    }
    free(dumped);
}

static void edit_text(const struct emu_json_op *op, struct emu_answer *ans, const json_t *original)
{
    char *value_start;

    switch (op->kind) {
    case EMU_JSON_GARBAGE:
        ans->body_len /= 2;
        ans->body[ans->body_len] = '\0';
        break;
    case EMU_JSON_ARRAY:
        if (splice(ans, 0, 0, "[", 1))
            splice(ans, ans->body_len, 0, "]", 1);
        break;
    case EMU_JSON_NON_UTF8:
        /* A compact dump puts a string value right after "key":" */
        value_start = strstr(ans->body, "\":\"");
        if (value_start != NULL)
            splice(ans, (size_t)(value_start - ans->body) + 3, 0, "\xff", 1);
        break;
    case EMU_JSON_DUP:
        duplicate_key(ans, original, op->field);
        break;
    default:
        break;
    }
}

void emu_json_alter(const struct emu_fault *fault, struct emu_answer *ans)
{
    json_t *original;

    for (size_t i = 0; i < fault->op_count; i++)
        edit_object(&fault->ops[i], ans->json);
    original = json_incref(ans->json);
    if (emu_answer_to_text(ans)) {
        for (size_t i = 0; i < fault->op_count; i++)
            edit_text(&fault->ops[i], ans, original);
    }
    json_decref(original);
}
