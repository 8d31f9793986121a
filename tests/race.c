/* SPDX-License-Identifier: Apache-2.0 */
/* Races of token-get workers: their orders, their lines and the check (tests/race.h). */
#include "race.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

void race_shuffle(int *order, int n, uint64_t seed)
{
    for (int i = 0; i < n; i++)
        order[i] = i;
    seed = seed * UINT64_C(0x2545f4914f6cdd1d) + 1;
    for (int i = n - 1; i > 0; i--) { /* Fisher-Yates over xorshift64 */
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        int j = (int)(seed % (uint64_t)(i + 1));
        int tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
    }
}

void race_record(FILE *out, int key, tda_status st, const tda_get_info *info, const tda_token *t)
{
    fprintf(out, "%d %s %d %d %d %s\n", key, tda_status_name(st), info->refreshed, info->rotated,
            info->stale, st == TDA_OK ? t->access_token : "-");
}

int race_check(char (*outs)[96], int workers, int keys, char (*now)[128], const char *who)
{
    int *refreshed = calloc((size_t)keys, sizeof *refreshed);
    int *seen = calloc((size_t)keys, sizeof *seen);
    assert_non_null(refreshed);
    assert_non_null(seen);
    int rotated = 0;
    for (int w = 0; w < workers; w++) {
        FILE *fp = fopen(outs[w], "r");
        assert_non_null(fp);
        int key, r, rot, stale;
        char status[32], access[128];
        while (fscanf(fp, "%d %31s %d %d %d %127s", &key, status, &r, &rot, &stale, access) == 6) {
            assert_true(key >= 0 && key < keys);
            if (strcmp(status, "OK") != 0 || stale)
                fail_msg("%s %d, key %d: %s (stale %d)", who, w, key, status, stale);
            if (strcmp(access, now[key]) != 0)
                fail_msg("%s %d got a token for key %d that is not the stored one", who, w, key);
            refreshed[key] += r;
            rotated += rot;
            seen[key]++;
        }
        fclose(fp);
    }
    for (int i = 0; i < keys; i++) {
        assert_int_equal(seen[i], workers);
        if (refreshed[i] != 1)
            fail_msg("key %d was refreshed by %d %ss", i, refreshed[i], who);
    }
    free(refreshed);
    free(seen);
    return rotated;
}
