/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Transport security against a real TLS server: the emulator serving https
 * with certificates made for the test by the openssl command.
 * - A self-signed certificate is refused, with a detail that says how to
 *   trust a private CA (never "turn verification off").
 * - The same server is accepted once its certificate is given as the CA file,
 *   for a whole login and refresh.
 * - A certificate from a trusted CA but for another host name is refused.
 * - A CA file that is missing or not a file is refused up front.
 * (Plain http to a non-loopback host and redirects: unit_url and it_wire.)
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

#include "emu.h"
#include "traktdeviceauth.h"

static char dir[] = "/tmp/tda-tls-XXXXXX";
static char cert[64], key[64], other_cert[64], other_key[64];

/* A self-signed certificate (it is its own CA) for the given subjectAltName. */
static void make_certificate(const char *san, const char *cert_path, const char *key_path)
{
    char command[512];
    snprintf(command, sizeof command,
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-days 2 -subj /CN=traktdeviceauth-test -addext subjectAltName=%s "
             "-keyout %s -out %s 2>/dev/null",
             san, key_path, cert_path);
    if (system(command) != 0)
        fail_msg("openssl could not make a test certificate (apt-get install openssl)");
}

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(dir))
        return -1;
    snprintf(cert, sizeof cert, "%s/cert.pem", dir);
    snprintf(key, sizeof key, "%s/key.pem", dir);
    snprintf(other_cert, sizeof other_cert, "%s/other.pem", dir);
    snprintf(other_key, sizeof other_key, "%s/other-key.pem", dir);
    make_certificate("IP:127.0.0.1", cert, key);
    make_certificate("DNS:other.example", other_cert, other_key);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(cert);
    unlink(key);
    unlink(other_cert);
    unlink(other_key);
    rmdir(dir);
    return 0;
}

static void start_tls(emu *e, const char *cert_path, const char *key_path)
{
    emu_start(e, "--tls-cert", cert_path, "--tls-key", key_path, "--interval", "0.05",
              "--approve-after-polls", "0", NULL);
    assert_true(strncmp(e->base_url, "https://127.0.0.1:", 18) == 0);
    snprintf(e->ca_file, sizeof e->ca_file, "%s", cert_path);
}

static void test_self_signed_server_is_refused_with_a_clear_detail(void **state)
{
    emu e;
    start_tls(&e, cert, key);
    tda_client *c = emu_client(&e);
    tda_code code;
    assert_int_equal(tda_generate_code(c, &code), TDA_TLS);
    const char *detail = tda_client_error_detail(c);
    assert_non_null(strstr(detail, "certificate"));
    assert_non_null(strstr(detail, "tda_client_set_ca_file"));
    assert_null(code.device_code);
    /* Refused in the handshake: the request itself never reached the server. */
    assert_int_equal(emu_get_stats(&e).codes_issued, 0);
    tda_client_free(c);
    emu_stop(&e);
}

static void test_server_is_accepted_with_its_ca(void **state)
{
    emu e;
    start_tls(&e, cert, key);
    tda_client *c = emu_client(&e);
    assert_int_equal(tda_client_set_ca_file(c, cert), TDA_OK);
    tda_code code;
    tda_token token, fresh;
    assert_int_equal(tda_generate_code(c, &code), TDA_OK);
    assert_true(strncmp(code.verification_url, "https://", 8) == 0);
    assert_int_equal(tda_poll_for_token(c, &code, NULL, &token), TDA_OK);
    assert_int_equal(tda_refresh_token(c, token.refresh_token, &fresh), TDA_OK);
    emu_stats s = emu_get_stats(&e);
    assert_int_equal(s.tokens_issued, 1);
    assert_int_equal(s.refreshes, 1);
    tda_token_clear(&fresh);
    tda_token_clear(&token);
    tda_code_clear(&code);
    tda_client_free(c);
    emu_stop(&e);
}

static void test_trusted_certificate_for_another_host_is_refused(void **state)
{
    emu e;
    start_tls(&e, other_cert, other_key);
    tda_client *c = emu_client(&e);
    assert_int_equal(tda_client_set_ca_file(c, other_cert), TDA_OK);
    tda_code code;
    assert_int_equal(tda_generate_code(c, &code), TDA_TLS);
    assert_non_null(strstr(tda_client_error_detail(c), "127.0.0.1"));
    tda_client_free(c);
    emu_stop(&e);
}

static void test_unusable_ca_file_is_refused_up_front(void **state)
{
    tda_client *c = tda_client_new(EMU_CLIENT_ID, EMU_CLIENT_SECRET);
    assert_non_null(c);
    assert_int_equal(tda_client_set_ca_file(c, "/nonexistent/ca.pem"), TDA_INVALID_ARGUMENT);
    assert_int_equal(tda_client_set_ca_file(c, dir), TDA_INVALID_ARGUMENT); /* a directory */
    assert_int_equal(tda_client_set_ca_file(c, ""), TDA_INVALID_ARGUMENT);
    assert_int_equal(tda_client_set_ca_file(c, NULL), TDA_INVALID_ARGUMENT);
    assert_int_equal(tda_client_set_ca_file(NULL, cert), TDA_INVALID_ARGUMENT);
    assert_int_equal(tda_client_set_ca_file(c, cert), TDA_OK);
    tda_client_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_self_signed_server_is_refused_with_a_clear_detail),
        cmocka_unit_test(test_server_is_accepted_with_its_ca),
        cmocka_unit_test(test_trusted_certificate_for_another_host_is_refused),
        cmocka_unit_test(test_unusable_ca_file_is_refused_up_front),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
