/* SPDX-License-Identifier: Apache-2.0 */
/* The words of --fault: ENDPOINT:N[-M]:ACTION[:OPT]..., checked strictly so
 * that a typo in a test's fault plan fails at start-up instead of injecting
 * nothing. */
#include "fault_spec.h"

#include <limits.h>
#include <string.h>

#include <jansson.h>

#include "parse.h"

#define FAULT_SPEC_MAX 256

static const char *const endpoint_names[EMU_EP_FAULTABLE] = {
    [EMU_EP_CODE] = "code",
    [EMU_EP_TOKEN] = "token",
    [EMU_EP_REFRESH] = "refresh",
    [EMU_EP_REVOKE] = "revoke",
};

static bool parse_endpoint(const char *text, enum emu_endpoint *out)
{
    for (int i = 0; i < EMU_EP_FAULTABLE; i++) {
        if (strcmp(text, endpoint_names[i]) == 0) {
            *out = (enum emu_endpoint)i;
            return true;
        }
    }
    return false;
}

static bool parse_range(char *text, struct emu_fault *f)
{
    char *dash = strchr(text, '-');

    if (dash != NULL)
        *dash = '\0';
    if (!emu_parse_count(text, ULONG_MAX, &f->first) || f->first == 0)
        return false;
    if (dash == NULL) {
        f->last = f->first;
        return true;
    }
    return emu_parse_count(dash + 1, ULONG_MAX, &f->last) && f->last >= f->first;
}

static const struct {
    const char *name;
    enum emu_fault_kind kind;
} action_names[] = {
    {"drop", EMU_FAULT_DROP},
    {"stall", EMU_FAULT_STALL},
    {"huge", EMU_FAULT_HUGE},
    {"lose", EMU_FAULT_LOSE},
    {"cut-headers", EMU_FAULT_CUT_HEADERS},
    {"cut-body", EMU_FAULT_CUT_BODY},
    {"json", EMU_FAULT_JSON},
};

static bool parse_action(const char *text, struct emu_fault *f)
{
    unsigned long status;

    for (size_t i = 0; i < sizeof action_names / sizeof action_names[0]; i++) {
        if (strcmp(text, action_names[i].name) == 0) {
            f->kind = action_names[i].kind;
            return true;
        }
    }
    if (!emu_parse_count(text, 599, &status) || status < 200)
        return false;
    f->kind = EMU_FAULT_STATUS;
    f->status = (unsigned int)status;
    return true;
}

static bool copy_word(const char *text, size_t len, char *out, size_t size)
{
    if (len == 0 || len >= size)
        return false;
    memcpy(out, text, len);
    out[len] = '\0';
    return true;
}

/* set=FIELD=JSON, del=FIELD, dup=FIELD, garbage, array, non-utf8 */
static bool parse_json_op(const char *text, struct emu_fault *f)
{
    struct emu_json_op *op;
    const char *eq;

    if (f->op_count == EMU_JSON_OPS_MAX)
        return false;
    op = &f->ops[f->op_count];
    memset(op, 0, sizeof *op);
    if (strcmp(text, "garbage") == 0) {
        op->kind = EMU_JSON_GARBAGE;
    } else if (strcmp(text, "array") == 0) {
        op->kind = EMU_JSON_ARRAY;
    } else if (strcmp(text, "non-utf8") == 0) {
        op->kind = EMU_JSON_NON_UTF8;
    } else if (strncmp(text, "del=", 4) == 0) {
        op->kind = EMU_JSON_DEL;
        if (!copy_word(text + 4, strlen(text + 4), op->field, sizeof op->field))
            return false;
    } else if (strncmp(text, "dup=", 4) == 0) {
        op->kind = EMU_JSON_DUP;
        if (!copy_word(text + 4, strlen(text + 4), op->field, sizeof op->field))
            return false;
    } else if (strncmp(text, "set=", 4) == 0 && (eq = strchr(text + 4, '=')) != NULL) {
        json_t *check;
        op->kind = EMU_JSON_SET;
        if (!copy_word(text + 4, (size_t)(eq - text - 4), op->field, sizeof op->field) ||
            !copy_word(eq + 1, strlen(eq + 1), op->value, sizeof op->value))
            return false;
        check = json_loads(op->value, JSON_DECODE_ANY, NULL);
        if (check == NULL)
            return false;
        json_decref(check);
    } else {
        return false;
    }
    f->op_count++;
    return true;
}

static bool parse_extra(const char *text, struct emu_fault *f)
{
    static const char retry_prefix[] = "retry-after=";
    static const char ratelimit_prefix[] = "ratelimit=";
    static const char error_prefix[] = "error=";
    static const char description_prefix[] = "description=";

    if (f->kind == EMU_FAULT_JSON)
        return parse_json_op(text, f);
    if (f->kind != EMU_FAULT_STATUS)
        return false;
    if (strcmp(text, "html") == 0) {
        f->html = true;
        return true;
    }
    if (strcmp(text, "cloudflare") == 0) {
        f->cloudflare = true;
        return true;
    }
    if (strcmp(text, "empty") == 0) {
        f->empty = true;
        return true;
    }
    if (strncmp(text, error_prefix, sizeof error_prefix - 1) == 0) {
        text += sizeof error_prefix - 1;
        return strspn(text, "abcdefghijklmnopqrstuvwxyz_") == strlen(text) &&
               copy_word(text, strlen(text), f->error, sizeof f->error);
    }
    if (strncmp(text, description_prefix, sizeof description_prefix - 1) == 0) {
        text += sizeof description_prefix - 1;
        return copy_word(text, strlen(text), f->description, sizeof f->description);
    }
    if (strcmp(text, "ratelimit") == 0) {
        f->ratelimit = true;
        f->ratelimit_reset = 1;
        return true;
    }
    if (strncmp(text, ratelimit_prefix, sizeof ratelimit_prefix - 1) == 0) {
        f->ratelimit = true;
        return emu_parse_count(text + sizeof ratelimit_prefix - 1, 1000000000UL,
                               &f->ratelimit_reset);
    }
    if (strncmp(text, retry_prefix, sizeof retry_prefix - 1) == 0) {
        f->has_retry_after = true;
        return emu_parse_count(text + sizeof retry_prefix - 1, 1000000000UL, &f->retry_after);
    }
    return false;
}

static bool parse_fields(char *rest, struct emu_fault *f, const char **why)
{
    char *field;

    field = strsep(&rest, ":");
    if (!parse_endpoint(field, &f->endpoint)) {
        *why = "endpoint must be code, token, refresh or revoke";
        return false;
    }
    field = strsep(&rest, ":");
    if (field == NULL || !parse_range(field, f)) {
        *why = "range must be N or N-M with 1 <= N <= M";
        return false;
    }
    field = strsep(&rest, ":");
    if (field == NULL || !parse_action(field, f)) {
        *why = "action must be an HTTP status from 200 to 599, drop, stall, "
               "huge, lose, cut-headers, cut-body or json";
        return false;
    }
    while ((field = strsep(&rest, ":")) != NULL) {
        if (!parse_extra(field, f)) {
            *why = f->kind == EMU_FAULT_JSON ? "json takes up to 6 of set=FIELD=JSON, del=FIELD, "
                                               "dup=FIELD, garbage, array, non-utf8"
                   : f->kind == EMU_FAULT_STATUS
                       ? "option must be html, cloudflare, empty, error=CODE, "
                         "description=TEXT, ratelimit[=SECONDS] or retry-after=SECONDS"
                       : "this action takes no options";
            return false;
        }
    }
    if (f->kind == EMU_FAULT_JSON && f->op_count == 0) {
        *why = "json needs at least one alteration";
        return false;
    }
    if (f->description[0] != '\0' && f->error[0] == '\0') {
        *why = "description=TEXT goes with error=CODE";
        return false;
    }
    if ((int)f->html + (int)f->empty + (f->error[0] != '\0') > 1) {
        *why = "give at most one body: html, empty or error=CODE";
        return false;
    }
    return true;
}

bool emu_fault_parse(const char *spec, struct emu_fault *out, const char **why)
{
    char copy[FAULT_SPEC_MAX];
    size_t len = strlen(spec);

    memset(out, 0, sizeof *out);
    if (len >= sizeof copy) {
        *why = "fault specification too long";
        return false;
    }
    memcpy(copy, spec, len + 1);
    return parse_fields(copy, out, why);
}
