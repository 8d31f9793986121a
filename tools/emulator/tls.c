/* SPDX-License-Identifier: Apache-2.0 */
/* https: the certificate and key named by --tls-cert and --tls-key are read
 * into memory at start-up, where libmicrohttpd (GnuTLS) wants them. */
#include "tls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define TLS_FILE_MAX ((size_t)1024 * 1024)

static char *read_pem(const char *path)
{
    FILE *f = fopen(path, "r");
    char *text;
    size_t len;

    if (f == NULL) {
        fprintf(stderr, "%s: cannot read %s: %s\n", EMU_NAME, path, strerror(errno));
        return NULL;
    }
    text = malloc(TLS_FILE_MAX + 1);
    len = text != NULL ? fread(text, 1, TLS_FILE_MAX, f) : 0;
    fclose(f);
    if (text == NULL || len == 0 || len == TLS_FILE_MAX) {
        fprintf(stderr, "%s: %s is empty or too large for a PEM file\n", EMU_NAME, path);
        free(text);
        return NULL;
    }
    text[len] = '\0';
    return text;
}

bool emu_tls_load(struct emu_config *cfg)
{
    if (cfg->tls_cert_path == NULL)
        return true;
    cfg->tls_cert = read_pem(cfg->tls_cert_path);
    cfg->tls_key = cfg->tls_cert != NULL ? read_pem(cfg->tls_key_path) : NULL;
    return cfg->tls_cert != NULL && cfg->tls_key != NULL;
}

const char *emu_scheme(const struct emu_config *cfg)
{
    return cfg->tls_cert_path != NULL ? "https" : "http";
}
