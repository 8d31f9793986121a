/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test helper for races of worker processes that each call tda_token_get for
 * every key of a store (it_store_race, it_pg_fleet): each worker's order of
 * keys, the line it writes per key, and the parent's check of all the lines.
 */
#ifndef TDA_TEST_RACE_H
#define TDA_TEST_RACE_H

#include <stdint.h>
#include <stdio.h>

#include "traktdeviceauth.h"

/* order[0..n) becomes a permutation of 0..n-1 of its own for each seed. */
void race_shuffle(int *order, int n, uint64_t seed);

/* One line for key: the status, what tda_token_get said it did, and the token. */
void race_record(FILE *out, int key, tda_status st, const tda_get_info *info, const tda_token *t);

/*
 * Reads the lines of `workers` workers (files outs[0..workers)) and fails the
 * test unless every worker got every key of 0..keys-1 with TDA_OK, nothing
 * stale, the token the store holds now (now[key]), and exactly one worker
 * refreshed each key. who names a worker in messages ("worker", "process").
 * Returns how many gets took a pair another worker had rotated.
 */
int race_check(char (*outs)[96], int workers, int keys, char (*now)[128], const char *who);

#endif
