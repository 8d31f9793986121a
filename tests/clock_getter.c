/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A test helper, not a test: a program that calls tda_token_get on a token
 * file again and again, for tests/cli/clock.sh to run under libfaketime.
 *
 *   clock_getter TOKEN_FILE STEP...
 *     calls:N     N calls of tda_token_get, back to back
 *     until-due   sleeps until the stored token is due by its age (+100 ms)
 *     jump:SPEC   writes SPEC to $FAKETIME_TIMESTAMP_FILE: the fake clock jumps now
 *
 * Prints one line per calls step: "calls=N refreshed=R rotated=T stale=S".
 * The client comes from TRAKT_CLIENT_ID, TRAKT_CLIENT_SECRET, TRAKT_OAUTH_URL.
 * Exit status: 0, or 1 when a call failed (its status is printed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "traktdeviceauth.h"

static int calls(tda_client *c, tda_store *s, long n)
{
    int refreshed = 0, rotated = 0, stale = 0;
    for (long i = 0; i < n; i++) {
        tda_token t;
        tda_get_info info;
        tda_status st = tda_token_get(c, s, NULL, &t, &info);
        tda_token_clear(&t);
        if (st != TDA_OK) {
            printf("call %ld: %s (%s)\n", i + 1, tda_status_name(st), tda_client_error_detail(c));
            return 1;
        }
        refreshed += info.refreshed;
        rotated += info.rotated;
        stale += info.stale;
    }
    printf("calls=%ld refreshed=%d rotated=%d stale=%d\n", n, refreshed, rotated, stale);
    fflush(stdout);
    return 0;
}

static int until_due(tda_store *s)
{
    tda_token t;
    if (tda_store_load(s, NULL, NULL, &t) != TDA_OK)
        return 1;
    tda_token_age age;
    tda_token_age_of(&t, &age);
    int64_t margin_ms = t.expires_in * 100 > 60000 ? t.expires_in * 100 : 60000;
    tda_token_clear(&t);
    if (!age.due)
        usleep((useconds_t)((age.remaining_ms - margin_ms + 100) * 1000));
    return 0;
}

static int jump(const char *spec)
{
    const char *path = getenv("FAKETIME_TIMESTAMP_FILE");
    FILE *fp = path ? fopen(path, "w") : NULL;
    if (!fp || fprintf(fp, "%s\n", spec) < 0 || fclose(fp) != 0)
        return 1;
    return 0;
}

int main(int argc, char **argv)
{
    const char *id = getenv("TRAKT_CLIENT_ID");
    const char *url = getenv("TRAKT_OAUTH_URL");
    if (argc < 3 || !id || !url) {
        fprintf(stderr, "usage: clock_getter TOKEN_FILE calls:N|until-due|jump:SPEC...\n");
        return 2;
    }
    tda_client *c = tda_client_new(id, getenv("TRAKT_CLIENT_SECRET"));
    tda_store *s = tda_store_file_new(argv[1]);
    int rc = c && s && tda_client_set_base_url(c, url) == TDA_OK ? 0 : 1;
    for (int i = 2; rc == 0 && i < argc; i++) {
        if (strncmp(argv[i], "calls:", 6) == 0)
            rc = calls(c, s, strtol(argv[i] + 6, NULL, 10));
        else if (strcmp(argv[i], "until-due") == 0)
            rc = until_due(s);
        else if (strncmp(argv[i], "jump:", 5) == 0)
            rc = jump(argv[i] + 5);
        else
            rc = 2;
    }
    tda_store_free(s);
    tda_client_free(c);
    return rc;
}
