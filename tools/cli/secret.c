/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The client secret, when the user has one: Trakt made it optional in 2026
 * and says a secret shipped inside an app on the user's device is not
 * secret, so without one the CLI sends none. When given, it comes from the
 * environment or --client-secret (options.c), from the first line of
 * --client-secret-file, or, with --ask-secret, typed at a prompt on the
 * terminal with echo off. Never echoed; every copy is wiped when freed.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"

#define MAX_SECRET 1024

/* Cuts the buffer at the first line end; returns a malloc'ed copy or NULL. */
static char *first_line(char *buf)
{
    buf[strcspn(buf, "\r\n")] = '\0';
    return *buf ? strdup(buf) : NULL;
}

static int read_secret_file(cli_options *o)
{
    const char *path = o->client_secret_file;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        cli_error(o, CLI_EXIT_USAGE, TDA_OK, "cannot read the client secret file %s: %s", path,
                  strerror(errno));
        return CLI_EXIT_USAGE;
    }
    struct stat sb;
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && (sb.st_mode & 077))
        fprintf(stderr, CLI_NAME ": warning: %s is readable by other users; chmod 600 %s\n", path,
                path);
    char buf[MAX_SECRET + 1];
    size_t got = 0;
    ssize_t n;
    while (got < MAX_SECRET && (n = read(fd, buf + got, MAX_SECRET - got)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    o->client_secret = first_line(buf);
    explicit_bzero(buf, sizeof buf);
    if (!o->client_secret) {
        cli_error(o, CLI_EXIT_USAGE, TDA_OK, "the client secret file %s is empty", path);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

/* Asks on the controlling terminal with echo off; the terminal is restored on every path. */
static int prompt_secret(cli_options *o)
{
    int tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    struct termios saved;
    if (tty < 0 || !isatty(STDIN_FILENO) || tcgetattr(tty, &saved) != 0) {
        if (tty >= 0)
            close(tty);
        cli_error(o, CLI_EXIT_USAGE, TDA_OK,
                  "--ask-secret needs a terminal to ask on; without one, give the secret with "
                  "TRAKT_CLIENT_SECRET or --client-secret-file (or leave it out, as Trakt now "
                  "advises for apps on users' devices)");
        return CLI_EXIT_USAGE;
    }
    char prompt[256];
    int plen = snprintf(prompt, sizeof prompt, "Client secret for %.64s (not shown): ",
                        o->client_id ? o->client_id : "this app");
    if (write(tty, prompt, (size_t)plen) < 0) {
        /* nothing to do: the read below still works */
    }
    /*
     * Ctrl-\ and Ctrl-Z would kill or stop us with echo off: held back until echo is
     * back on. Ctrl-C, SIGTERM and SIGHUP interrupt the read (no SA_RESTART).
     */
    sigset_t held, old_mask;
    sigemptyset(&held);
    sigaddset(&held, SIGQUIT);
    sigaddset(&held, SIGTSTP);
    sigprocmask(SIG_BLOCK, &held, &old_mask);
    struct termios quiet = saved;
    quiet.c_lflag &= (tcflag_t) ~(ECHO | ECHONL);
    quiet.c_lflag |= ICANON;
    while (tcsetattr(tty, TCSAFLUSH, &quiet) != 0 && errno == EINTR) {
    }
    char buf[MAX_SECRET + 1];
    ssize_t n = -1;
    int read_errno = EINTR;
    if (!cli_signal_received()) { /* a signal before the read would otherwise be missed */
        n = read(tty, buf, MAX_SECRET);
        read_errno = errno;
    }
    /* TCSANOW: nothing to drain, so no wait another signal could interrupt. */
    while (tcsetattr(tty, TCSANOW, &saved) != 0 && errno == EINTR) {
    }
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    if (write(tty, "\n", 1) < 0) {
        /* the newline is cosmetic */
    }
    close(tty);
    buf[n > 0 ? n : 0] = '\0';
    o->client_secret = first_line(buf);
    explicit_bzero(buf, sizeof buf);
    if (n < 0 && read_errno == EINTR && cli_signal_received())
        return CLI_EXIT_SIGNAL_BASE + cli_signal_received();
    if (!o->client_secret) {
        cli_error(o, CLI_EXIT_USAGE, TDA_OK, "no client secret was typed");
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

int cli_gather_secret(cli_options *o)
{
    if (o->client_secret)
        return CLI_EXIT_OK;
    if (o->client_secret_file)
        return read_secret_file(o);
    return o->ask_secret ? prompt_secret(o) : CLI_EXIT_OK;
}
