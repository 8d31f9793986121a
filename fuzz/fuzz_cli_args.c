/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: the CLI's command line. The input is split at NUL bytes into at
 * most 16 arguments and parsed as trakt-device-auth's argv would be. Parsing
 * must never crash, leak or read out of bounds. Its messages are silenced with
 * libFuzzer's -close_fd_mask=3 (scripts/fuzz.sh), which keeps libFuzzer's own.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    unsetenv("TRAKT_CLIENT_ID");
    unsetenv("TRAKT_CLIENT_SECRET");
    unsetenv("TRAKT_TOKEN_FILE");
    unsetenv("TRAKT_OAUTH_URL");
    unsetenv("TRAKT_USER_AGENT");
    unsetenv("TRAKT_REDIRECT_URI");
    setenv("HOME", "/nonexistent-home", 1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    enum { MAX_ARGS = 16 };
    char *copy = malloc(size + 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    char *argv[MAX_ARGS + 2];
    int argc = 0;
    argv[argc++] = "trakt-device-auth";
    for (size_t start = 0; start <= size && argc <= MAX_ARGS; start += strlen(copy + start) + 1)
        argv[argc++] = copy + start;
    argv[argc] = NULL;

    optind = 0; /* GNU getopt: start afresh for every input */
    cli_options o;
    bool done = false;
    int rc = cli_parse_options(argc, argv, &o, &done);
    if (rc == CLI_EXIT_OK && !done && (o.command < CLI_LOGIN || o.command > CLI_TOKEN))
        abort();
    cli_options_clear(&o);
    free(copy);
    return 0;
}
