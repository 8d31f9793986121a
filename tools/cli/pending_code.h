/* SPDX-License-Identifier: Apache-2.0 */
/* login's pending code (pending_code.c): saved beside the token while it is shown. */
#ifndef TDA_CLI_PENDING_CODE_H
#define TDA_CLI_PENDING_CODE_H

#include "cli.h"

typedef struct cli_pending {
    char *path;   /* TOKEN_FILE.code; NULL with --store: nothing is saved */
    int lock_fd;  /* TOKEN_FILE.code.lock, held for the whole login */
    bool resumed; /* the code came from the file */
    bool saved;   /* the file holds the code being polled */
    bool warned;  /* a failed save was reported */
} cli_pending;

/* Takes the lock; fails (with a message) when another login holds it. */
int cli_pending_open(const cli_options *o, cli_pending *p);
/*
 * The saved code into *code (p->resumed), unless --new-code; a damaged or
 * another client's file is removed with a note, an insecure one refused.
 * *code stays zeroed when there is nothing to resume.
 */
int cli_pending_take(const cli_options *o, cli_pending *p, tda_code *code);
/* Saves the code now shown (a failure is a warning: only resuming is lost). */
void cli_pending_save(const cli_options *o, cli_pending *p, const tda_code *code);
/* Keeps a raised interval (429) in the saved code. */
void cli_pending_set_interval(const cli_options *o, cli_pending *p, int64_t interval_ms);
void cli_pending_remove(cli_pending *p);
/* Releases the lock; the file stays unless removed. */
void cli_pending_close(cli_pending *p);

#endif
