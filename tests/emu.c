/* SPDX-License-Identifier: Apache-2.0 */
/* Test helper: run trakt-oauth-emulator as a child process (see emu.h). */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "emu.h"
#include "traktdeviceauth.h"

#define MAX_ARGS 64

void emu_start(emu *e, ...)
{
    const char *extra[MAX_ARGS];
    int n = 0;
    va_list ap;
    va_start(ap, e);
    const char *arg;
    while ((arg = va_arg(ap, const char *)) != NULL && n < MAX_ARGS - 1)
        extra[n++] = arg;
    va_end(ap);
    extra[n] = NULL;
    emu_start_argv(e, extra);
}

static void start(emu *e, const char *const *extra, int with_secret);

void emu_start_quick(emu *e, const char *log_path, va_list extra)
{
    const char *args[MAX_ARGS] = {"--interval", "0.01",  "--approve-after-polls",
                                  "0",          "--log", log_path};
    int n = 6;
    const char *arg;
    while ((arg = va_arg(extra, const char *)) != NULL && n < MAX_ARGS - 1)
        args[n++] = arg;
    args[n] = NULL;
    emu_start_argv(e, args);
}

void emu_start_argv(emu *e, const char *const *extra)
{
    start(e, extra, 1);
}

void emu_start_public_argv(emu *e, const char *const *extra)
{
    start(e, extra, 0);
}

static void start(emu *e, const char *const *extra, int with_secret)
{
    const char *path = getenv("TDA_EMULATOR");
    if (!path)
        fail_msg("TDA_EMULATOR is not set (ctest sets it)");
    const char *argv[MAX_ARGS];
    int argc = 0;
    argv[argc++] = path;
    argv[argc++] = "--port";
    argv[argc++] = "0";
    argv[argc++] = "--client-id";
    argv[argc++] = EMU_CLIENT_ID;
    if (with_secret) {
        argv[argc++] = "--client-secret";
        argv[argc++] = EMU_CLIENT_SECRET;
    }
    argv[argc++] = "--quiet";
    for (int i = 0; extra[i] && argc < MAX_ARGS - 1; i++)
        argv[argc++] = extra[i];
    argv[argc] = NULL;

    int out[2];
    assert_int_equal(pipe(out), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* If a failed assertion skips emu_stop, the emulator still dies with the test. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(out[1], STDOUT_FILENO);
        close(out[0]);
        close(out[1]);
        execv(path, (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    close(out[1]);
    FILE *f = fdopen(out[0], "r");
    char line[256] = "";
    if (!f || !fgets(line, sizeof line, f)) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        fail_msg("the emulator did not start");
    }
    fclose(f);
    line[strcspn(line, "\n")] = '\0';
    const char *prefix = "listening on ";
    assert_true(strncmp(line, prefix, strlen(prefix)) == 0);
    snprintf(e->base_url, sizeof e->base_url, "%s", line + strlen(prefix));
    e->ca_file[0] = '\0';
    e->pid = pid;
}

void emu_stop(emu *e)
{
    if (e->pid <= 0)
        return;
    kill(e->pid, SIGTERM);
    int status = 0;
    waitpid(e->pid, &status, 0);
    e->pid = 0;
    /* A clean exit matters: under valgrind the emulator's own leaks fail the run. */
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static size_t collect(char *data, size_t size, size_t nmemb, void *userdata)
{
    json_t **root = userdata;
    json_error_t err;
    *root = json_loadb(data, size * nmemb, 0, &err);
    return size * nmemb;
}

static long stat_field(json_t *root, const char *name)
{
    json_t *v = json_object_get(root, name);
    assert_non_null(v);
    return (long)json_integer_value(v);
}

emu_stats emu_get_stats(const emu *e)
{
    char url[sizeof e->base_url + 8];
    snprintf(url, sizeof url, "%s/stats", e->base_url);
    CURL *curl = curl_easy_init();
    json_t *root = NULL;
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &root);
    if (e->ca_file[0])
        curl_easy_setopt(curl, CURLOPT_CAINFO, e->ca_file);
    assert_int_equal(curl_easy_perform(curl), CURLE_OK);
    curl_easy_cleanup(curl);
    assert_non_null(root);
    emu_stats s = {
        stat_field(root, "requests"),        stat_field(root, "connections"),
        stat_field(root, "polls"),           stat_field(root, "early_polls"),
        stat_field(root, "codes_issued"),    stat_field(root, "tokens_issued"),
        stat_field(root, "refreshes"),       stat_field(root, "revokes"),
        stat_field(root, "faults_injected"), stat_field(root, "secrets_sent"),
    };
    json_decref(root);
    return s;
}

static size_t discard(char *data, size_t size, size_t nmemb, void *userdata)
{
    (void)data;
    (void)userdata;
    return size * nmemb;
}

int emu_decide(const emu *e, const char *user_code, int approve)
{
    char url[sizeof e->base_url + 16], form[128];
    snprintf(url, sizeof url, "%s/activate", e->base_url);
    snprintf(form, sizeof form, "user_code=%s&action=%s", user_code, approve ? "approve" : "deny");
    CURL *curl = curl_easy_init();
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, form);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
    if (e->ca_file[0])
        curl_easy_setopt(curl, CURLOPT_CAINFO, e->ca_file);
    long status = 0;
    if (curl_easy_perform(curl) == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    return (int)status;
}

static tda_client *client_for(const emu *e, const char *secret)
{
    tda_client *c = tda_client_new(EMU_CLIENT_ID, secret);
    assert_non_null(c);
    assert_int_equal(tda_client_set_base_url(c, e->base_url), TDA_OK);
    assert_int_equal(tda_client_set_user_agent(c, "traktdeviceauth-tests/1.0"), TDA_OK);
    assert_int_equal(tda_client_set_timeout_ms(c, 5000), TDA_OK);
    return c;
}

struct tda_client *emu_client(const emu *e)
{
    return client_for(e, EMU_CLIENT_SECRET);
}

struct tda_client *emu_public_client(const emu *e)
{
    return client_for(e, NULL);
}

long emu_prompt_ms(void)
{
    return test_bound_ms(100);
}

int emu_read_log(const char *log_path, const char *path, emu_logged *out, int max)
{
    FILE *f = fopen(log_path, "r");
    if (!f)
        fail_msg("cannot read the emulator's log %s", log_path);
    char line[512];
    int n = 0;
    while (fgets(line, sizeof line, f) && n < max) {
        long sec = 0, ms = 0;
        int end = 0;
        char verb[16], p[64], status[8];
        if (sscanf(line, "%ld.%ld %15s %63s %7s%n", &sec, &ms, verb, p, status, &end) != 5 ||
            (path && strcmp(p, path) != 0))
            continue;
        out[n].at_ms = sec * 1000 + ms;
        snprintf(out[n].path, sizeof out[n].path, "%s", p);
        snprintf(out[n].status, sizeof out[n].status, "%s", status);
        /* After the status, in this order and each only when it applies:
         * secret=yes|no, code=N, a note ("early", "fault", ...). */
        const char *rest = line + end;
        out[n].secret = strstr(rest, " secret=yes") ? 1 : strstr(rest, " secret=no") ? 0 : -1;
        const char *code = strstr(rest, " code=");
        out[n].code = code ? atol(code + 6) : 0;
        out[n].fault = strstr(rest, " fault") != NULL;
        n++;
    }
    fclose(f);
    return n;
}

int emu_check_poll_gaps(const char *log_path, const char *path, long interval_ms, long raised_ms,
                        long after_fault_ms, const char *what)
{
    emu_logged r[512];
    int n = emu_read_log(log_path, path, r, 512);
    long interval = interval_ms;
    for (int i = 1; i < n; i++) {
        const emu_logged *prev = &r[i - 1];
        if (strcmp(prev->status, "429") == 0 && raised_ms > interval)
            interval = raised_ms; /* and kept for the rest of the flow */
        long want = interval;
        const char *why = "the interval";
        if (strcmp(prev->status, "429") == 0) {
            why = "the raised interval after a 429";
        } else if (prev->fault && after_fault_ms > want) {
            want = after_fault_ms;
            why = "the wait after a fault";
        }
        long gap = r[i].at_ms - prev->at_ms;
        if (gap < want - 1)
            fail_msg("%s: request %d to %s came %ld ms after request %d (%s%s), want at least "
                     "%ld ms (%s)",
                     what, i + 1, path, gap, i, prev->status, prev->fault ? ", a fault" : "", want,
                     why);
    }
    return n;
}

void emu_login(const emu *e, tda_token *out)
{
    tda_client *c = emu_client(e);
    tda_code code;
    assert_int_equal(tda_generate_code(c, &code), TDA_OK);
    assert_int_equal(tda_poll_for_token(c, &code, NULL, out), TDA_OK);
    tda_code_clear(&code);
    tda_client_free(c);
}

void emu_age_token(tda_token *t, long long left_s)
{
    int64_t by = t->expires_in - left_s;
    t->received.uptime_ms -= by * 1000;
    t->received.wall_s -= by;
}

void emu_count_refreshes(const char *log_path, int *ok, int *other)
{
    *ok = *other = 0;
    FILE *fp = fopen(log_path, "r");
    assert_non_null(fp);
    char line[512];
    while (fgets(line, sizeof line, fp)) {
        if (!strstr(line, " POST /oauth/token "))
            continue;
        if (strstr(line, " POST /oauth/token 200"))
            (*ok)++;
        else
            (*other)++;
    }
    fclose(fp);
}
