/* SPDX-License-Identifier: Apache-2.0 */
/* Test helper: a scratch directory of its own for each cmocka test. */
#ifndef TDA_TEST_SCRATCH_H
#define TDA_TEST_SCRATCH_H

typedef struct scratch {
    char dir[64];   /* /tmp/tda-TAG-XXXXXX, made fresh for the test */
    char path[128]; /* dir + "/" + the file name the test works on */
} scratch;

/* A cmocka setup: makes the directory and sets *state to a new scratch. */
int scratch_setup(void **state, const char *tag, const char *file);

/* A cmocka teardown: removes the directory with all in it, frees the scratch. */
int scratch_teardown(void **state);

/* Removes dir and everything below it, even where a test took its rights away. */
void scratch_remove_tree(const char *dir);

#endif
