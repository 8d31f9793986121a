/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The PostgreSQL store's rules that need no server: which keys, client ids
 * and table names it takes, what an SQLSTATE means to a caller, and how a
 * message from libpq or the server is cleaned before it reaches a detail
 * (no password, no token, one line). Pure, and built with or without libpq,
 * so unit tests and fuzzers reach it everywhere.
 */
#include <stdio.h>
#include <string.h>

#include "store_pg.h"

/* Length of the UTF-8 sequence at s (at most n bytes), or 0 when it is not one. */
static size_t utf8_length(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned int min;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    unsigned int cp = c & (0x3fu >> (len - 1));
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

tda_status tda__pg_check_key(const char *key, char *detail, size_t size)
{
    if (!key) {
        snprintf(detail, size, "a PostgreSQL store needs a key (a user id or account name)");
        return TDA_INVALID_ARGUMENT;
    }
    const unsigned char *k = (const unsigned char *)key;
    size_t len = strlen(key);
    const char *why = NULL;
    if (len == 0)
        why = "it is empty";
    else if (len > TDA__PG_KEY_MAX)
        why = "it is longer than 256 bytes";
    for (size_t i = 0; !why && i < len;) {
        size_t n = utf8_length(k + i, len - i);
        if (n == 0)
            why = "it is not valid UTF-8";
        else if (k[i] < 0x20 || k[i] == 0x7f || (n == 2 && k[i] == 0xc2 && k[i + 1] < 0xa0))
            why = "it holds a control character";
        i += n ? n : 1;
    }
    if (!why)
        return TDA_OK;
    /* The key is not quoted: it may be anything, even a secret pasted by mistake. */
    snprintf(detail, size,
             "unusable key (%zu bytes): %s. A key is 1 to %d bytes of UTF-8 "
             "without control characters",
             len, why, TDA__PG_KEY_MAX);
    return TDA_INVALID_ARGUMENT;
}

int tda__pg_client_id_ok(const char *client_id)
{
    size_t len = client_id ? strlen(client_id) : 0;
    if (len == 0 || len > TDA__PG_CLIENT_ID_MAX)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (client_id[i] <= ' ' || client_id[i] >= 0x7f)
            return 0;
    return 1;
}

static int identifier_ok(const char *s, size_t len)
{
    if (len == 0 || len > 63)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        int letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        if (!letter && !(i > 0 && c >= '0' && c <= '9'))
            return 0;
    }
    return 1;
}

int tda__pg_table_sql(const char *table, char *out, size_t out_size)
{
    if (out_size)
        out[0] = '\0';
    if (!table)
        return 0;
    const char *dot = strchr(table, '.');
    size_t first = dot ? (size_t)(dot - table) : strlen(table);
    if (!identifier_ok(table, first))
        return 0;
    if (dot && !identifier_ok(dot + 1, strlen(dot + 1)))
        return 0;
    /* The parts hold no quote, so quoting them needs no escaping. */
    int n = dot ? snprintf(out, out_size, "\"%.*s\".\"%s\"", (int)first, table, dot + 1)
                : snprintf(out, out_size, "\"%s\"", table);
    return n > 0 && (size_t)n < out_size;
}

tda_status tda__pg_status_of_sqlstate(const char *code)
{
    if (!code || strlen(code) != 5)
        return TDA_IO;
    if (strncmp(code, "08", 2) == 0) /* connection exception */
        return TDA_NETWORK;
    static const struct {
        const char *code;
        tda_status status;
    } known[] = {
        {"57P01", TDA_NETWORK},   /* admin_shutdown: the server is stopping or restarting */
        {"57P02", TDA_NETWORK},   /* crash_shutdown */
        {"57P03", TDA_NETWORK},   /* cannot_connect_now: starting up or shutting down */
        {"25P03", TDA_NETWORK},   /* idle_in_transaction_session_timeout: session ended */
        {"53300", TDA_NETWORK},   /* too_many_connections: wait for one to end */
        {"57014", TDA_TIMED_OUT}, /* query_canceled: statement_timeout, or an operator */
        {"55P03", TDA_LOCKED},    /* lock_not_available: lock_timeout passed */
        {"40001", TDA_LOCKED},    /* serialization_failure */
        {"40P01", TDA_LOCKED},    /* deadlock_detected */
        {"53100", TDA_NO_SPACE},  /* disk_full */
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(code, known[i].code) == 0)
            return known[i].status;
    return TDA_IO; /* permission, a wrong table, data the server refused: someone must look */
}

void tda__pg_append_clean(char *out, size_t size, const char *message, const char *const *secrets,
                          size_t n)
{
    if (!size)
        return;
    size_t at = strlen(out);
    if (!message)
        message = "";
    for (size_t i = 0; i < n; i++) {
        if (secrets[i] && secrets[i][0] && strlen(secrets[i]) < 4) {
            snprintf(out + at, size - at,
                     "libpq's message withheld: the password is too short "
                     "to be told apart from its words");
            return;
        }
    }
    int space = 1; /* drops leading blanks */
    for (const char *p = message; *p && at + 1 < size;) {
        size_t hit = 0;
        for (size_t i = 0; i < n && !hit; i++)
            if (secrets[i] && secrets[i][0] && strncmp(p, secrets[i], strlen(secrets[i])) == 0)
                hit = strlen(secrets[i]);
        if (hit) {
            static const char mark[] = "[redacted]";
            for (size_t j = 0; mark[j] && at + 1 < size; j++)
                out[at++] = mark[j];
            p += hit;
            space = 0;
            continue;
        }
        unsigned char c = (unsigned char)*p++;
        if (c == '\n' || c == '\t' || c == '\r' || c == ' ') {
            if (!space)
                out[at++] = ' ';
            space = 1;
        } else {
            out[at++] = (char)(c < 0x20 || c == 0x7f ? '?' : c);
            space = 0;
        }
    }
    while (at > 0 && out[at - 1] == ' ')
        at--;
    out[at] = '\0';
}

void tda__pg_uri_raw_password(const char *conninfo, char *out, size_t size)
{
    if (size)
        out[0] = '\0';
    const char *scheme = conninfo ? strstr(conninfo, "://") : NULL;
    if (!scheme || !size)
        return;
    const char *user = scheme + 3;
    size_t authority = strcspn(user, "/?");
    const char *at = NULL; /* the last '@' of the authority ends the user info */
    for (const char *p = user; p < user + authority; p++)
        if (*p == '@')
            at = p;
    const char *colon = at ? memchr(user, ':', (size_t)(at - user)) : NULL;
    if (!colon)
        return;
    size_t len = (size_t)(at - colon - 1);
    snprintf(out, size, "%.*s", (int)(len < size ? len : size - 1), colon + 1);
}
