/* SPDX-License-Identifier: Apache-2.0 */
/* The fault plan. Some faults are answers a proxy in front of Trakt
 * (Cloudflare) gives instead of Trakt's own: such a request never reaches the
 * device logic, so it neither counts as a poll nor moves a code's last-poll
 * time; it only uses up a request number of its endpoint. The others (lose,
 * cut-headers, cut-body, json) let the logic run and spoil its answer on the
 * way back, as a network failure would after Trakt acted. */
#include "faults.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <microhttpd.h>

#include "json_alter.h"

#define EMU_HUGE_BODY ((size_t)10 * 1024 * 1024)

/* The first matching fault in command-line order wins, so a narrow fault
 * written before a broad one carves an exception out of it. */
const struct emu_fault *emu_fault_find(const struct emu_config *cfg, enum emu_endpoint endpoint,
                                       unsigned long number)
{
    for (size_t i = 0; i < cfg->fault_count; i++) {
        const struct emu_fault *f = &cfg->faults[i];
        if (f->endpoint == endpoint && number >= f->first && number <= f->last)
            return f;
    }
    return NULL;
}

/* MHD knows the IANA phrases; Cloudflare's own 52x codes it does not. */
static const char *reason_phrase(unsigned int status)
{
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

static char *html_page(unsigned int status, const char *phrase)
{
    char *page = NULL;
    int n = asprintf(&page,
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

static char *text_body(unsigned int status, const char *phrase)
{
    char *text = NULL;
    int n = asprintf(&text, "%u %s\n", status, phrase);
    return n < 0 ? NULL : text;
}

bool emu_fault_skips_logic(const struct emu_fault *fault)
{
    return fault->kind == EMU_FAULT_STATUS || fault->kind == EMU_FAULT_DROP ||
           fault->kind == EMU_FAULT_STALL || fault->kind == EMU_FAULT_HUGE;
}

/* The answer of a fault that stands for a proxy: Trakt never saw it. */
void emu_fault_answer(const struct emu_fault *fault, struct emu_answer *ans)
{
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
                            ? json_pack("{s:s, s:s}", "error", fault->error, "error_description",
                                        fault->description)
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
void emu_fault_spoil(const struct emu_fault *fault, struct emu_answer *ans)
{
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
