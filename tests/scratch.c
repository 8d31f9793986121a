/* SPDX-License-Identifier: Apache-2.0 */
/* Scratch directories for the unit tests that work on real files (tests/scratch.h). */
#include "scratch.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int scratch_setup(void **state, const char *tag, const char *file)
{
    scratch *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    snprintf(s->dir, sizeof s->dir, "/tmp/tda-%s-XXXXXX", tag);
    if (!mkdtemp(s->dir)) {
        free(s);
        return -1;
    }
    snprintf(s->path, sizeof s->path, "%s/%s", s->dir, file);
    *state = s;
    return 0;
}

void scratch_remove_tree(const char *dir)
{
    chmod(dir, 0700); /* a test may have made it read-only or unreadable */
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        if (strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0)
            continue;
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", dir, ent->d_name);
        struct stat sb;
        if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
            scratch_remove_tree(p);
        else
            unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

int scratch_teardown(void **state)
{
    scratch *s = *state;
    scratch_remove_tree(s->dir);
    free(s);
    return 0;
}
