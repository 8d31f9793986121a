/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Ctrl-C, SIGTERM and SIGHUP end the CLI cleanly: the handler records the
 * signal and cancels the request or wait in flight (tda_client_cancel is
 * async-signal-safe), the command unwinds, nothing is left half-written, and
 * the exit status is 128 + the signal number, as a shell would report.
 * No SA_RESTART: a read at a password prompt must return, so echo comes back.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>

#include "cli.h"

static volatile sig_atomic_t received;
static tda_client *volatile watched;

static void on_signal(int signo)
{
    int saved_errno = errno; /* the interrupted code may be about to read errno */
    if (!received)
        received = signo;
    tda_client *c = watched;
    if (c)
        tda_client_cancel(c);
    errno = saved_errno;
}

/* Holds the signals back (1) or lets them in (0) on the calling thread. */
static void hold_signals(int hold)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(hold ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}

void cli_signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

void cli_signals_watch(tda_client *c)
{
    /* While the pointer changes no handler runs here, so none sees a client being freed. */
    hold_signals(1);
    watched = c;
    hold_signals(0);
    if (c && received)
        tda_client_cancel(c); /* a signal that came before the client existed still counts */
}

int cli_signal_received(void)
{
    return received;
}
