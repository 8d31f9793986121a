/* SPDX-License-Identifier: Apache-2.0 */
/* Output other than the listening line: the request log (--log) and short
 * notes on stderr. Neither may ever contain a code, a token or a secret,
 * because logs get pasted into bug reports. */
#include "log.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "common.h"

#define LOG_PATH_MAX 128
#define LOG_METHOD_MAX 16

/* A request line is attacker-chosen text; one log line must stay one line
 * with a fixed number of fields. */
static void printable(const char *in, char *out, size_t size)
{
    size_t n = 0;

    for (; *in != '\0' && n + 1 < size; in++, n++)
        out[n] = (char)((*in > ' ' && *in < 0x7f) ? *in : '?');
    out[n] = '\0';
}

/* The path of /activate/<user code> carries a code; keep only its shape. */
static void loggable_path(const char *url, char *out, size_t size)
{
    static const char activate_prefix[] = "/activate/";

    if (strncmp(url, activate_prefix, sizeof activate_prefix - 1) == 0)
        url = "/activate/...";
    printable(url, out, size);
}

/* Whether a request carried a client secret is logged (never the secret), so
 * tests can show that a public client sent none. */
static const char *secret_word(enum emu_secret_seen secret)
{
    switch (secret) {
    case EMU_SECRET_ABSENT:
        return " secret=no";
    case EMU_SECRET_SENT:
        return " secret=yes";
    case EMU_SECRET_NOT_ASKED:
    default:
        return "";
    }
}

void emu_log_request(struct emu_server *srv, int64_t arrival, const char *method, const char *url,
                     enum emu_secret_seen secret, const struct emu_answer *ans)
{
    char path[LOG_PATH_MAX], verb[LOG_METHOD_MAX], status[16];
    int64_t since = arrival - srv->start_ns;

    if (srv->log == NULL)
        return;
    loggable_path(url, path, sizeof path);
    printable(method, verb, sizeof verb);
    if (ans->drop)
        strcpy(status, "drop");
    else
        snprintf(status, sizeof status, "%u", ans->status);
    pthread_mutex_lock(&srv->lock);
    fprintf(srv->log, "%lld.%03lld %s %s %s%s%s%s%s%s\n", (long long)(since / EMU_NS_PER_SEC),
            (long long)(since % EMU_NS_PER_SEC / 1000000), verb, path, status, secret_word(secret),
            ans->code_note[0] != '\0' ? " " : "", ans->code_note, ans->note != NULL ? " " : "",
            ans->note != NULL ? ans->note : "");
    fflush(srv->log);
    pthread_mutex_unlock(&srv->lock);
}

void emu_say(const struct emu_server *srv, const char *fmt, ...)
{
    va_list ap;

    if (srv->config.quiet)
        return;
    va_start(ap, fmt);
    flockfile(stderr);
    fputs(EMU_NAME ": ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    funlockfile(stderr);
    va_end(ap);
}

/* libmicrohttpd's own complaints (a port in use, a broken connection). Its
 * messages already end in a newline. */
void emu_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    flockfile(stderr);
    fputs(EMU_NAME ": ", stderr);
    vfprintf(stderr, fmt, ap);
    funlockfile(stderr);
}
