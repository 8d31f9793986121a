/* SPDX-License-Identifier: Apache-2.0 */
/* The page a person uses to approve or deny a device, as at trakt.tv/activate.
 * It is plain HTML with one form and no scripts or external resources, so it
 * works offline, in any browser and with a screen reader, and a headless
 * browser test can drive it by the ids code, approve, deny and result. */
#include "activate_page.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "common.h"
#include "log.h"

/* Generous, so that a pasted code with spaces and dashes still fits. */
#define FORM_VALUE_MAX 64
#define CODE_MAX 16

/* Formats are macros so the compiler can check them against arguments. */
#define PAGE_HEAD                                                                                  \
    "<!DOCTYPE html>\n"                                                                            \
    "<html lang=\"en\">\n"                                                                         \
    "<head>\n"                                                                                     \
    "<meta charset=\"utf-8\">\n"                                                                   \
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"                   \
    "<title>%s - " EMU_NAME "</title>\n"                                                           \
    "<style>\n"                                                                                    \
    "body{font-family:system-ui,sans-serif;max-width:30rem;margin:3rem auto;"                      \
    "padding:0 1rem;line-height:1.5}\n"                                                            \
    "input{font:inherit;font-size:1.6rem;letter-spacing:.15em;"                                    \
    "text-transform:uppercase;width:100%%;box-sizing:border-box;padding:.4rem}\n"                  \
    "button{font:inherit;padding:.5rem 1.4rem;margin:1rem .6rem 0 0}\n"                            \
    "#result{font-size:1.4rem;font-weight:bold}\n"                                                 \
    "</style>\n"                                                                                   \
    "</head>\n"                                                                                    \
    "<body>\n"                                                                                     \
    "<main>\n"                                                                                     \
    "<h1>Activate your device</h1>\n"

#define PAGE_TAIL "</main>\n</body>\n</html>\n"

#define FORM_BODY                                                                                  \
    "<p>Type the code your device shows, then approve or deny access. "                            \
    "This is a local emulator of Trakt, not trakt.tv.</p>\n"                                       \
    "<form method=\"post\" action=\"/activate\">\n"                                                \
    "<p><label for=\"code\">Code</label><br>\n"                                                    \
    "<input id=\"code\" name=\"user_code\" type=\"text\" value=\"%s\" "                            \
    "autocomplete=\"off\" autocapitalize=\"characters\" spellcheck=\"false\" "                     \
    "required autofocus></p>\n"                                                                    \
    "<button id=\"approve\" type=\"submit\" name=\"action\" "                                      \
    "value=\"approve\">Approve</button>\n"                                                         \
    "<button id=\"deny\" type=\"submit\" name=\"action\" "                                         \
    "value=\"deny\">Deny</button>\n"                                                               \
    "</form>\n"

#define RESULT_BODY                                                                                \
    "<p id=\"result\" role=\"status\">%s</p>\n"                                                    \
    "<p>%s</p>\n"                                                                                  \
    "<p><a href=\"/activate\">Enter another code</a></p>\n"

/* Every value substituted into these pages is either a constant of this
 * file or a normalized code of letters and digits, so nothing needs HTML
 * escaping. */
static char *page(const char *title, const char *middle)
{
    char *whole = NULL;

    if (middle == NULL || asprintf(&whole, PAGE_HEAD "%s" PAGE_TAIL, title, middle) < 0)
        return NULL;
    return whole;
}

static bool is_alnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char upper(char c)
{
    if (c >= 'a' && c <= 'z')
        return (char)(c - 'a' + 'A');
    return c;
}

bool emu_normalize_user_code(const char *in, size_t len, char *out, size_t out_size)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        if (in[i] == ' ' || in[i] == '-')
            continue;
        if (!is_alnum(in[i]) || n + 1 >= out_size)
            return false;
        out[n++] = upper(in[i]);
    }
    out[n] = '\0';
    return true;
}

void emu_activate_form(const char *path_code, struct emu_answer *ans)
{
    char code[CODE_MAX + 1] = "";
    char *middle = NULL;

    if (path_code == NULL ||
        !emu_normalize_user_code(path_code, strlen(path_code), code, sizeof code))
        code[0] = '\0';
    if (asprintf(&middle, FORM_BODY, code) < 0)
        middle = NULL;
    emu_answer_owned(ans, MHD_HTTP_OK, "text/html; charset=utf-8",
                     page("Activate your device", middle));
    free(middle);
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes one application/x-www-form-urlencoded value into out. */
static bool url_decode(const char *in, size_t len, char *out, size_t out_size)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi = i + 2 < len ? hex_value(in[i + 1]) : -1;
            int lo = i + 2 < len ? hex_value(in[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return false;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0' || n + 1 >= out_size)
            return false;
        out[n++] = c;
    }
    out[n] = '\0';
    return true;
}

/* Finds the first field named key; keys of this form never need decoding. */
static bool form_value(const char *body, size_t len, const char *key, char *out, size_t out_size)
{
    size_t key_len = strlen(key);
    const char *end = body + len;

    for (const char *p = body; p < end;) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *field_end = amp != NULL ? amp : end;
        size_t field_len = (size_t)(field_end - p);
        if (field_len > key_len && memcmp(p, key, key_len) == 0 && p[key_len] == '=')
            return url_decode(p + key_len + 1, field_len - key_len - 1, out, out_size);
        p = field_end + 1;
    }
    return false;
}

static void answer_result(struct emu_answer *ans, unsigned int status, const char *result,
                          const char *detail)
{
    char *middle = NULL;

    if (asprintf(&middle, RESULT_BODY, result, detail) < 0)
        middle = NULL;
    emu_answer_owned(ans, status, "text/html; charset=utf-8", page(result, middle));
    free(middle);
}

void emu_activate_submit(struct emu_server *srv, const char *body, size_t len, int64_t arrival,
                         struct emu_answer *ans)
{
    char raw[FORM_VALUE_MAX], action[FORM_VALUE_MAX], code[CODE_MAX + 1];
    bool approve;

    if (!form_value(body, len, "action", action, sizeof action) ||
        (strcmp(action, "approve") != 0 && strcmp(action, "deny") != 0)) {
        answer_result(ans, MHD_HTTP_BAD_REQUEST, "Choose Approve or Deny",
                      "The form was sent without a choice.");
        return;
    }
    approve = strcmp(action, "approve") == 0;
    if (!form_value(body, len, "user_code", raw, sizeof raw) ||
        !emu_normalize_user_code(raw, strlen(raw), code, sizeof code)) {
        code[0] = '\0';
    }
    switch (emu_state_decide(srv, code, approve, arrival)) {
    case EMU_DECIDE_APPROVED:
        emu_say(srv, "a code was approved at /activate");
        answer_result(ans, MHD_HTTP_OK, "Approved", "Your device can now finish signing in.");
        break;
    case EMU_DECIDE_DENIED:
        emu_say(srv, "a code was denied at /activate");
        answer_result(ans, MHD_HTTP_OK, "Denied", "Your device will not get access.");
        break;
    case EMU_DECIDE_UNKNOWN:
    default:
        answer_result(ans, MHD_HTTP_NOT_FOUND, "Unknown or expired code",
                      "Check the code on your device; if it has expired, start "
                      "again there to get a new one.");
        break;
    }
}
