/* Test helper: run trakt-oauth-emulator as a child process on a free port. */
#ifndef TDA_TEST_EMU_H
#define TDA_TEST_EMU_H

#include <sys/types.h>

typedef struct emu {
    pid_t pid;
    char base_url[256]; /* http://127.0.0.1:PORT, or https:// with --tls-cert */
    char ca_file[256];  /* for emu_get_stats over https; "" for http */
} emu;

typedef struct emu_stats {
    long requests, connections, polls, early_polls, codes_issued, tokens_issued, refreshes,
        revokes, faults_injected;
} emu_stats;

/*
 * Starts the emulator (path from $TDA_EMULATOR) with the given options, NULL
 * terminated, and waits for its "listening on" line. Fails the test on error.
 */
void emu_start(emu *e, ...);
/* The same with the options in a NULL-terminated array. */
void emu_start_argv(emu *e, const char *const *options);
void emu_stop(emu *e);
emu_stats emu_get_stats(const emu *e);

/* A person at /activate approving (1) or denying (0) a user code; returns the HTTP status. */
int emu_decide(const emu *e, const char *user_code, int approve);

/* A client for the emulator with test credentials. */
struct tda_client;
struct tda_client *emu_client(const emu *e);

#define EMU_CLIENT_ID "test-client-id"
#define EMU_CLIENT_SECRET "test-client-secret"

/* Milliseconds that a cancel or deadline may take to end a call (more under valgrind). */
long emu_prompt_ms(void);

#endif
