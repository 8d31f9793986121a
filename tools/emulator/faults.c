/* The fault plan: answers that a proxy in front of Trakt (Cloudflare) would
 * give instead of Trakt's own. A faulted request never reaches the device
 * logic, so it neither counts as a poll nor moves a code's last-poll time;
 * it only uses up a request number of its endpoint. */
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

static bool parse_action(const char *text, struct emu_fault *f) {
  unsigned long status;

  if (strcmp(text, "drop") == 0) {
    f->drop = true;
    return true;
  }
  if (!emu_parse_count(text, 599, &status) || status < 200)
    return false;
  f->status = (unsigned int) status;
  return true;
}

static bool parse_extra(const char *text, struct emu_fault *f) {
  static const char retry_prefix[] = "retry-after=";

  if (strcmp(text, "html") == 0) {
    f->html = true;
    return true;
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
    *why = "action must be an HTTP status from 200 to 599, or drop";
    return false;
  }
  while ((field = strsep(&rest, ":")) != NULL) {
    if (f->drop) {
      *why = "drop takes no options";
      return false;
    }
    if (!parse_extra(field, f)) {
      *why = "option must be html or retry-after=SECONDS";
      return false;
    }
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

void emu_fault_answer(const struct emu_fault *fault, struct emu_answer *ans) {
  const char *phrase = reason_phrase(fault->status);

  ans->note = "fault";
  if (fault->drop) {
    ans->drop = true;
    return;
  }
  if (fault->html) {
    emu_answer_owned(ans, fault->status, "text/html; charset=UTF-8",
                     html_page(fault->status, phrase));
    ans->cloudflare = true;
  } else {
    emu_answer_owned(ans, fault->status, "text/plain; charset=utf-8",
                     text_body(fault->status, phrase));
  }
  ans->has_retry_after = fault->has_retry_after;
  ans->retry_after = fault->retry_after;
}
