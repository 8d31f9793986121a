/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one place that decides which exit code a library status gives, so
 * scripts can tell "try later" from "log in again" from "fix your setup".
 * The same table is printed by --help and documented in trakt-device-auth(1).
 */
#include "cli.h"

int cli_exit_code(tda_status st)
{
    switch (st) {
    case TDA_OK:
        return CLI_EXIT_OK;
    case TDA_DENIED:
        return CLI_EXIT_DENIED;
    case TDA_EXPIRED:
    case TDA_ALREADY_USED:
    case TDA_INVALID_DEVICE_CODE:
    case TDA_DEADLINE:
        return CLI_EXIT_EXPIRED;
    case TDA_SLOW_DOWN: /* only reaches here from single calls: a rate limit is "later" */
    case TDA_SERVER_ERROR:
    case TDA_OVERLOADED:
    case TDA_CLOUDFLARE:
    case TDA_NETWORK:
    case TDA_TIMED_OUT:
    case TDA_UNEXPECTED_STATUS:
    case TDA_BAD_RESPONSE:
        return CLI_EXIT_NETWORK;
    case TDA_INVALID_GRANT:
    case TDA_FILE_MISSING:
    case TDA_WRONG_CLIENT:
        return CLI_EXIT_LOGIN_AGAIN;
    case TDA_FORBIDDEN:
    case TDA_TLS:
        return CLI_EXIT_FORBIDDEN;
    case TDA_FILE_INSECURE:
    case TDA_FILE_CORRUPT:
    case TDA_IO:
    case TDA_LOCKED:
    case TDA_NO_SPACE:
        return CLI_EXIT_TOKEN_FILE;
    case TDA_INVALID_ARGUMENT:
    case TDA_UNSUPPORTED: /* --store asks for what this build left out */
        return CLI_EXIT_USAGE;
    case TDA_CANCELLED: /* the signal decides (cli_signal_received); 130 when none is known */
        return CLI_EXIT_SIGNAL_BASE + 2;
    case TDA_PENDING:
    case TDA_NO_MEMORY:
        break;
    }
    return CLI_EXIT_FAILURE;
}

const char cli_exit_code_help[] =
    "Exit status:\n"
    "  0    success\n"
    "  1    any other failure (out of memory, an internal error)\n"
    "  2    usage: bad command line, no client id, no secret typed at --ask-secret,\n"
    "       or a --store this build cannot use\n"
    "  3    the user denied the request\n"
    "  4    the code expired or was already used, or --timeout passed: run login again\n"
    "  5    network, timeout or server trouble (5xx, Cloudflare, rate limit): try\n"
    "       later, when the message says; the stored token is untouched\n"
    "  6    log in again: no token file, the token was revoked, already refreshed or\n"
    "       from before Trakt's July 2026 migration, or belongs to another client id\n"
    "  7    Trakt refused the client id or secret, blocked the request, or wants the\n"
    "       secret this app did not send; or TLS failed\n"
    "  8    token file trouble: readable by others, a symlink, corrupt, not writable,\n"
    "       no room on the disk, another app's token (login), or the lock held past\n"
    "       --timeout\n"
    "  130  interrupted by Ctrl-C (128 + the signal number for other signals)\n";
