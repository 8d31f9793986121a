/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Memory hygiene over a whole device login, refresh, revoke and token-file
 * round trip against the emulator, with the allocation wrapper (and jansson's
 * allocator) replaced by a recording one that never really frees until the end:
 *  - every block the library freed is searched for the client secret, the
 *    device code and every token: none may hold one (secrets are wiped first);
 *  - nothing is left allocated once every object is freed.
 * libcurl's own buffers are outside the wrapper (see doc/SECURITY.md).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "alloc_hooks.h"
#include "emu.h"
#include "traktdeviceauth.h"

typedef struct block {
    size_t size;
    int freed;
    struct block *next;
    max_align_t align[]; /* the caller's bytes follow */
} block;

static block *blocks;
static long live;

static void *record_malloc(size_t n)
{
    block *b = malloc(sizeof *b + n);
    if (!b)
        return NULL;
    /* Zeroed: blocks are searched whole later, and valgrind rightly objects to reading
     * bytes nobody wrote. A secret still gets in only if the library puts it there. */
    memset(b->align, 0, n);
    b->size = n;
    b->freed = 0;
    b->next = blocks;
    blocks = b;
    live++;
    return b->align;
}

static void record_free(void *p)
{
    if (!p)
        return;
    block *b = (block *)((char *)p - offsetof(block, align));
    b->freed = 1; /* kept, so its last contents can be inspected */
    live--;
}

static void *record_realloc(void *p, size_t n)
{
    void *q = record_malloc(n);
    if (q && p) {
        block *old = (block *)((char *)p - offsetof(block, align));
        memcpy(q, p, old->size < n ? old->size : n);
        record_free(p);
    }
    return q;
}

static void install(void)
{
    static const tda__alloc_hooks hooks = {record_malloc, record_realloc, record_free, NULL};
    tda__set_alloc_hooks(&hooks);
    json_set_alloc_funcs(record_malloc, record_free);
}

static void uninstall(void)
{
    tda__set_alloc_hooks(NULL);
    json_set_alloc_funcs(malloc, free);
}

/* Freed blocks that still hold secret; fails with a description that does not show it. */
static int blocks_holding(const char *what, const char *secret)
{
    int found = 0;
    size_t len = strlen(secret);
    for (block *b = blocks; b; b = b->next) {
        if (b->freed && b->size >= len && memmem(b->align, b->size, secret, len)) {
            print_message("a freed block of %zu bytes still holds the %s\n", b->size, what);
            found++;
        }
    }
    return found;
}

/* p is a live block of the recording: the secret it holds is under watch. */
static int recorded(const void *p)
{
    for (block *b = blocks; b; b = b->next)
        if (!b->freed && (const void *)b->align == p)
            return 1;
    return 0;
}

static void release_all(void)
{
    while (blocks) {
        block *next = blocks->next;
        free(blocks);
        blocks = next;
    }
}

typedef struct renewal {
    const char *code_path;
    char *device_code; /* the new code's, a libc copy outside the recording */
} renewal;

/* A renewal's new code: saved, as a program that resumes codes does, and remembered. */
static void on_event(const tda_event *ev, void *userdata)
{
    renewal *r = userdata;
    if (ev->kind != TDA_EVENT_NEW_CODE)
        return;
    r->device_code = strdup(ev->code->device_code); /* libc: not recorded */
    assert_int_equal(tda_code_save(ev->code, r->code_path), TDA_OK);
}

static void test_no_secret_survives_in_freed_memory_and_nothing_leaks(void **state)
{
    emu e;
    emu_start(&e, "--interval", "0.05", "--approve-after-polls", "1", NULL);
    char path[] = "/tmp/tda-memory-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char code_path[64];
    snprintf(code_path, sizeof code_path, "%s.code", path);

    install();
    tda_client *c = emu_client(&e);
    assert_non_null(c);
    tda_code code;
    assert_int_equal(tda_generate_code(c, &code), TDA_OK);
    char *device_code = strdup(code.device_code); /* libc copies, outside the recording */
    tda_token first, second, loaded;
    /* The code expired before polling: renewal fetches, saves and polls a new one. */
    code.issued_at_ms -= code.expires_in_ms;
    renewal r = {code_path, NULL};
    tda_poll_options o = {0};
    o.on_event = on_event;
    o.userdata = &r;
    o.renewals = 1;
    assert_int_equal(tda_poll_for_token(c, &code, &o, &first), TDA_OK);
    assert_non_null(r.device_code);
    tda_code resumed;
    assert_int_equal(tda_code_load(code_path, EMU_CLIENT_ID, &resumed), TDA_OK);
    tda_code_clear(&resumed);
    char *access1 = strdup(first.access_token), *refresh1 = strdup(first.refresh_token);
    assert_int_equal(tda_refresh_token(c, first.refresh_token, &second), TDA_OK);
    char *access2 = strdup(second.access_token), *refresh2 = strdup(second.refresh_token);
    assert_int_equal(tda_token_save(&second, path), TDA_OK);
    assert_int_equal(tda_token_load(path, NULL, &loaded), TDA_OK);
    assert_int_equal(tda_revoke_token(c, second.access_token), TDA_OK);
    /* The secrets the caller holds live in recorded blocks, so the search below sees the
     * memory that held them (a copy made outside the wrapper would escape it unseen). */
    assert_true(recorded(code.device_code));
    assert_true(recorded(first.access_token) && recorded(first.refresh_token));
    assert_true(recorded(second.access_token) && recorded(second.refresh_token));
    assert_true(recorded(loaded.access_token) && recorded(loaded.refresh_token));
    tda_token_clear(&loaded);
    tda_token_clear(&second);
    tda_token_clear(&first);
    tda_code_clear(&code);
    tda_client_free(c);
    uninstall();

    int found = blocks_holding("client secret", EMU_CLIENT_SECRET) +
                blocks_holding("device code", device_code) +
                blocks_holding("renewed device code", r.device_code) +
                blocks_holding("first access token", access1) +
                blocks_holding("first refresh token", refresh1) +
                blocks_holding("second access token", access2) +
                blocks_holding("second refresh token", refresh2);
    long left = live, freed = 0;
    for (block *b = blocks; b; b = b->next)
        freed += b->freed;
    print_message("%ld blocks recorded and freed, each searched for every secret\n", freed);
    release_all();
    free(device_code);
    free(r.device_code);
    unlink(code_path);
    free(access1);
    free(refresh1);
    free(access2);
    free(refresh2);
    unlink(path);
    emu_stop(&e);
    assert_int_equal(found, 0);
    assert_int_equal(left, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_secret_survives_in_freed_memory_and_nothing_leaks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
