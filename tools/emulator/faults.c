/* SPDX-License-Identifier: Apache-2.0 */
/* The fault plan. Some faults are answers a proxy in front of Trakt
 * (Cloudflare) gives instead of Trakt's own: such a request never reaches the
 * device logic, so it neither counts as a poll nor moves a code's last-poll
 * time; it only uses up a request number of its endpoint. The others (lose,
 * cut-headers, cut-body, json) let the logic run and spoil its answer on the
 * way back, as a network failure would after Trakt acted. */
#include "emulator.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define FAULT_SPEC_MAX 256

static const char *const endpoint_names[EMU_EP_FAULTABLE] = {
    [EMU_EP_CODE] = "code",
    [EMU_EP_TOKEN] = "token",
    [EMU_EP_REFRESH] = "refresh",
    [EMU_EP_REVOKE] = "revoke",
};

static bool parse_endpoint(const char *text, enum emu_endpoint *out) {
  for (int i = 0; i < EMU_EP_FAULTABLE; i++) {
    if (strcmp(text, endpoint_names[i]) == 0) {
      *out = (enum emu_endpoint) i;
      return true;
    }
  }
  return false;
}

static bool parse_range(char *text, struct emu_fault *f) {
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

static bool parse_action(const char *text, struct emu_fault *f) {
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
  f->status = (unsigned int) status;
  return true;
}

static bool copy_word(const char *text, size_t len, char *out, size_t size) {
  if (len == 0 || len >= size)
    return false;
  memcpy(out, text, len);
  out[len] = '\0';
  return true;
}

/* set=FIELD=JSON, del=FIELD, dup=FIELD, garbage, array, non-utf8 */
static bool parse_json_op(const char *text, struct emu_fault *f) {
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
  } else if (strncmp(text, "set=", 4) == 0 &&
             (eq = strchr(text + 4, '=')) != NULL) {
    json_t *check;
    op->kind = EMU_JSON_SET;
    if (!copy_word(text + 4, (size_t) (eq - text - 4), op->field,
                   sizeof op->field) ||
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

static bool parse_extra(const char *text, struct emu_fault *f) {
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
    return emu_parse_count(text + sizeof retry_prefix - 1, 1000000000UL,
                           &f->retry_after);
  }
  return false;
}

static bool parse_fields(char *rest, struct emu_fault *f, const char **why) {
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
      *why = f->kind == EMU_FAULT_JSON
                 ? "json takes up to 6 of set=FIELD=JSON, del=FIELD, "
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
  if ((int) f->html + (int) f->empty + (f->error[0] != '\0') > 1) {
    *why = "give at most one body: html, empty or error=CODE";
    return false;
  }
  return true;
}

bool emu_fault_parse(const char *spec, struct emu_fault *out,
                     const char **why) {
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

/* The first matching fault in command-line order wins, so a narrow fault
 * written before a broad one carves an exception out of it. */
const struct emu_fault *emu_fault_find(const struct emu_config *cfg,
                                       enum emu_endpoint endpoint,
                                       unsigned long number) {
  for (size_t i = 0; i < cfg->fault_count; i++) {
    const struct emu_fault *f = &cfg->faults[i];
    if (f->endpoint == endpoint && number >= f->first && number <= f->last)
      return f;
  }
  return NULL;
}

/* MHD knows the IANA phrases; Cloudflare's own 52x codes it does not. */
static const char *reason_phrase(unsigned int status) {
  switch (status) {
  case 520:
    return "Web server is returning an unknown error";
  case 521:
    return "Web server is down";
  case 522:
    return "Connection timed out";
  case 523:
    return "Origin is unreachable";
  case 524:
    return "A timeout occurred";
  default:
    return MHD_get_reason_phrase_for(status);
  }
}

static char *html_page(unsigned int status, const char *phrase) {
  char *page = NULL;
  int n = asprintf(
      &page,
      "<!DOCTYPE html>\n"
      "<html lang=\"en-US\">\n"
      "<head><meta charset=\"UTF-8\">"
      "<title>trakt.tv | %u: %s</title></head>\n"
      "<body>\n"
      "<div id=\"cf-wrapper\">\n"
      "<h1><span class=\"cf-error-type\">Error</span> "
      "<span class=\"cf-error-code\">%u</span></h1>\n"
      "<h2>%s</h2>\n"
      "<p>Cloudflare Ray ID: <strong>0000000000000000</strong> &bull; "
      "Performance &amp; security by cloudflare</p>\n"
      "</div>\n"
      "</body>\n"
      "</html>\n",
      status, phrase, status, phrase);
  return n < 0 ? NULL : page;
}

static char *text_body(unsigned int status, const char *phrase) {
  char *text = NULL;
  int n = asprintf(&text, "%u %s\n", status, phrase);
  return n < 0 ? NULL : text;
}

bool emu_fault_skips_logic(const struct emu_fault *fault) {
  return fault->kind == EMU_FAULT_STATUS || fault->kind == EMU_FAULT_DROP ||
         fault->kind == EMU_FAULT_STALL || fault->kind == EMU_FAULT_HUGE;
}

/* The answer of a fault that stands for a proxy: Trakt never saw it. */
void emu_fault_answer(const struct emu_fault *fault, struct emu_answer *ans) {
  const char *phrase = reason_phrase(fault->status);

  ans->note = "fault";
  switch (fault->kind) {
  case EMU_FAULT_DROP:
    ans->drop = true;
    return;
  case EMU_FAULT_STALL:
    ans->stall = true;
    return;
  case EMU_FAULT_HUGE:
    /* An opening that looks like JSON, then filler up to 10 MB. */
    emu_answer_owned(ans, 200, "application/json", strdup("{\"padding\":\""));
    ans->stream = true;
    ans->stream_len = ans->cut_at = EMU_HUGE_BODY;
    return;
  default:
    break;
  }
  if (fault->html) {
    emu_answer_owned(ans, fault->status, "text/html; charset=UTF-8",
                     html_page(fault->status, phrase));
    ans->cloudflare = true;
  } else if (fault->empty) {
    emu_answer_empty(ans, fault->status);
  } else if (fault->error[0] != '\0') {
    emu_answer_json(ans, fault->status,
                    fault->description[0] != '\0'
                        ? json_pack("{s:s, s:s}", "error", fault->error,
                                    "error_description", fault->description)
                        : json_pack("{s:s}", "error", fault->error));
  } else if (fault->cloudflare) {
    /* 16 bytes, as Cloudflare's rate-limiting rule answers (error 1015). */
    emu_answer_owned(ans, fault->status, "text/plain; charset=UTF-8",
                     strdup("error code: 1015"));
  } else {
    emu_answer_owned(ans, fault->status, "text/plain; charset=utf-8",
                     text_body(fault->status, phrase));
  }
  if (fault->cloudflare)
    ans->cloudflare = true;
  ans->has_retry_after = fault->has_retry_after;
  ans->retry_after = fault->retry_after;
  ans->ratelimit = fault->ratelimit;
  ans->ratelimit_reset = fault->ratelimit_reset;
}

/* Spoils the answer Trakt's logic gave, after that logic has run. */
void emu_fault_spoil(const struct emu_fault *fault, struct emu_answer *ans) {
  ans->note = "fault";
  switch (fault->kind) {
  case EMU_FAULT_LOSE:
    ans->drop = true;
    break;
  case EMU_FAULT_CUT_HEADERS:
  case EMU_FAULT_CUT_BODY:
    if (!emu_answer_to_text(ans))
      break;
    ans->stream = true;
    ans->stream_len = ans->body_len;
    ans->cut_at = fault->kind == EMU_FAULT_CUT_BODY ? ans->body_len / 2 : 0;
    break;
  case EMU_FAULT_JSON:
    if (ans->json == NULL)
      ans->note = "fault (no JSON to alter)";
    else
      emu_json_alter(fault, ans);
    break;
  default:
    break;
  }
}
