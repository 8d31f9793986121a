/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test helper for it_crash_save (not a test itself): saves two tokens, A and B,
 * in turn to the path given, in a tight loop, for ever, until killed. Writes
 * one byte "r" to stdout once the first save (of A) is complete, so the test
 * times its SIGKILL from inside the loop rather than from process start-up
 * (which under valgrind takes longer than any kill delay). Exits 3 if a save
 * ever fails.
 *
 * The tokens are built by crash_token(), which it_crash_save.c repeats
 * byte for byte: A and B have equal lengths everywhere, so a file torn
 * between them would still be valid JSON, and only an exact compare tells.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "traktdeviceauth.h"

#define CRASH_TOKEN_LEN 3000

/* Token which (0: A, 1: B); access and refresh need CRASH_TOKEN_LEN + 1 bytes. */
static tda_token crash_token(int which, char *access, char *refresh)
{
    char letter = which ? 'B' : 'A';
    memset(access, letter, CRASH_TOKEN_LEN);
    memcpy(access, which ? "access-B-" : "access-A-", 9);
    access[CRASH_TOKEN_LEN] = '\0';
    memset(refresh, (char)(letter + 32), CRASH_TOKEN_LEN);
    memcpy(refresh, which ? "refresh-B-" : "refresh-A-", 10);
    refresh[CRASH_TOKEN_LEN] = '\0';
    tda_token t;
    memset(&t, 0, sizeof t);
    t.access_token = access;
    t.refresh_token = refresh;
    t.token_type = (char *)"bearer";
    t.scope = (char *)(which ? "public-B" : "public-A");
    t.client_id = (char *)"crash-client";
    t.created_at = 1700000000 + which;
    t.expires_in = 604800 - which;
    t.expires_at = t.created_at + t.expires_in;
    return t;
}

int main(int argc, char **argv)
{
    if (argc != 2 || !*argv[1]) {
        fprintf(stderr, "usage: crash_saver PATH\n");
        return 2;
    }
    static char access[2][CRASH_TOKEN_LEN + 1], refresh[2][CRASH_TOKEN_LEN + 1];
    tda_token tokens[2] = {crash_token(0, access[0], refresh[0]),
                           crash_token(1, access[1], refresh[1])};
    for (unsigned long i = 0;; i++) {
        tda_status st = tda_token_save(&tokens[i & 1], argv[1]);
        if (st != TDA_OK) {
            fprintf(stderr, "crash_saver: save %lu: %s\n", i, tda_status_name(st));
            return 3;
        }
        if (i == 0 && write(STDOUT_FILENO, "r", 1) != 1)
            return 2;
    }
}
