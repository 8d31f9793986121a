/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Base URL policy: https everywhere, plain http only to this machine, so a
 * token or secret never crosses a network in clear text. Parsing is libcurl's
 * URL API, the same parser that will later send the request.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

static int host_is_loopback(const char *host)
{
    if (strcasecmp(host, "localhost") == 0)
        return 1;
    struct in_addr v4;
    if (inet_pton(AF_INET, host, &v4) == 1)
        return (ntohl(v4.s_addr) >> 24) == 127;
    /* libcurl hands IPv6 hosts back in brackets. */
    char v6text[64];
    size_t len = strlen(host);
    if (len >= 2 && len < sizeof v6text && host[0] == '[' && host[len - 1] == ']') {
        memcpy(v6text, host + 1, len - 2);
        v6text[len - 2] = '\0';
        struct in6_addr v6;
        return inet_pton(AF_INET6, v6text, &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
    }
    return 0;
}

static void set_why(char *why, size_t size, const char *text)
{
    if (why && size)
        snprintf(why, size, "%s", text);
}

/* Returns 1 when part is present (and non-empty) in the parsed URL. */
static int url_has(CURLU *u, CURLUPart part)
{
    char *value = NULL;
    int has = curl_url_get(u, part, &value, 0) == CURLUE_OK && value && *value;
    curl_free(value);
    return has;
}

tda_status tda__url_check(const char *url, char **normalized, char *why, size_t why_size)
{
    *normalized = NULL;
    if (!url || !*url) {
        set_why(why, why_size, "base URL is empty");
        return TDA_INVALID_ARGUMENT;
    }
    CURLU *u = curl_url();
    if (!u)
        return TDA_NO_MEMORY;
    tda_status st = TDA_INVALID_ARGUMENT;
    char *scheme = NULL, *host = NULL, *full = NULL;
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        set_why(why, why_size, "base URL is not a valid absolute URL");
        goto out;
    }
    /* The password too: "https://:pw@host" has an empty user but is user info. */
    if (url_has(u, CURLUPART_USER) || url_has(u, CURLUPART_PASSWORD) ||
        url_has(u, CURLUPART_QUERY) || url_has(u, CURLUPART_FRAGMENT)) {
        set_why(why, why_size, "base URL must not carry user info, a query or a fragment");
        goto out;
    }
    if (strcmp(scheme, "https") != 0) {
        if (strcmp(scheme, "http") != 0) {
            set_why(why, why_size, "base URL must use https");
            goto out;
        }
        if (!host_is_loopback(host)) {
            set_why(why, why_size,
                    "plain http is allowed only to loopback hosts (127.0.0.1, ::1, localhost); use "
                    "https");
            goto out;
        }
    }
    if (curl_url_get(u, CURLUPART_URL, &full, 0) != CURLUE_OK) {
        set_why(why, why_size, "base URL is not a valid absolute URL");
        goto out;
    }
    size_t len = strlen(full);
    while (len > 0 && full[len - 1] == '/')
        len--;
    *normalized = tda__strndup(full, len);
    st = *normalized ? TDA_OK : TDA_NO_MEMORY;
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(full);
    curl_url_cleanup(u);
    return st;
}
