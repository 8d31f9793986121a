/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The saved code (src/code_file.c): round trips, the token file's security
 * rules, and every way a file can be unusable: damaged, another client's,
 * dated in the future, or with a life no real code has. Also how its age is
 * told: by the boot clock within one boot, by the wall clock across a reboot.
 * Every test works in its own mkdtemp directory under /tmp.
 */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "clock.h"
#include "poll_policy.h"
#include "scratch.h"

typedef scratch fixture; /* dir, and path: dir + "/token.json.code" */

static int setup(void **state)
{
    return scratch_setup(state, "code-file", "token.json.code");
}

/* A code as tda_generate_code returns it, issued ago_ms ago; strings are literals. */
static tda_code sample_code(int64_t ago_ms)
{
    tda_code c;
    memset(&c, 0, sizeof c);
    c.device_code = (char *)(uintptr_t) "device-0123456789abcdef";
    c.user_code = (char *)(uintptr_t) "5055CC52";
    c.verification_url = (char *)(uintptr_t) "https://trakt.tv/activate";
    c.expires_in_ms = 600 * 1000;
    c.interval_ms = 5000;
    c.issued_at_ms = tda_boottime_ms() - ago_ms;
    c.issued_at_unix_ms = tda__unix_ms() - ago_ms;
    c.client_id = (char *)(uintptr_t) "cid";
    return c;
}

static void write_text(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    size_t len = strlen(text);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    assert_int_equal(fchmod(fd, mode), 0);
    assert_int_equal(close(fd), 0);
}

/* A code file as tda_code_save writes it, with the times and boot id given. */
static void write_code_file(const char *path, long long issued_unix_ms, const char *boot_id,
                            long long issued_boot_ms, long long life_ms, long long interval_ms)
{
    char text[1024];
    snprintf(text, sizeof text,
             "{\"kind\":\"trakt-device-code\",\"client_id\":\"cid\",\"device_code\":\"dev\","
             "\"user_code\":\"ABCD1234\",\"verification_url\":\"https://trakt.tv/activate\","
             "\"expires_in_ms\":%lld,\"interval_ms\":%lld,\"issued_at_unix_ms\":%lld,"
             "\"boot_id\":\"%s\",\"issued_at_boot_ms\":%lld}\n",
             life_ms, interval_ms, issued_unix_ms, boot_id, issued_boot_ms);
    write_text(path, text, 0600);
}

static const char *this_boot(void)
{
    static char id[TDA__BOOT_ID_SIZE];
    if (!tda__boot_id(id))
        fail_msg("this system has no boot id (/proc/sys/kernel/random/boot_id)");
    return id;
}

static void assert_code_zeroed(const tda_code *c)
{
    assert_null(c->device_code);
    assert_null(c->user_code);
    assert_null(c->verification_url);
    assert_null(c->client_id);
    assert_int_equal(c->expires_in_ms, 0);
    assert_int_equal(c->issued_at_ms, 0);
    assert_int_equal(c->issued_at_unix_ms, 0);
}

static tda_status load(const fixture *f, tda_code *out)
{
    memset(out, 0xab, sizeof *out);
    return tda_code_load(f->path, "cid", out);
}

/* ---------------------------------------------------------------- round trips */

static void test_round_trip_keeps_every_field_and_the_exact_issue_time(void **state)
{
    fixture *f = *state;
    tda_code c = sample_code(12000);
    assert_int_equal(tda_code_save(&c, f->path), TDA_OK);
    struct stat sb;
    assert_int_equal(lstat(f->path, &sb), 0);
    assert_int_equal(sb.st_mode & 07777, 0600);
    tda_code back;
    assert_int_equal(load(f, &back), TDA_OK);
    assert_string_equal(back.device_code, c.device_code);
    assert_string_equal(back.user_code, c.user_code);
    assert_string_equal(back.verification_url, c.verification_url);
    assert_string_equal(back.client_id, "cid");
    assert_int_equal(back.expires_in_ms, c.expires_in_ms);
    assert_int_equal(back.interval_ms, c.interval_ms);
    assert_int_equal(back.issued_at_unix_ms, c.issued_at_unix_ms);
    /* Same boot: the boot-clock reading comes back as it was. */
    assert_int_equal(back.issued_at_ms, c.issued_at_ms);
    int64_t left = tda_code_remaining_ms(&back);
    assert_true(left <= 588000 && left > 580000);
    tda_code_clear(&back);
    /* Loading neither changes nor removes the file. */
    assert_int_equal(lstat(f->path, &sb), 0);
}

static void test_saved_file_is_json_with_the_whole_answer_and_no_temp_file(void **state)
{
    fixture *f = *state;
    tda_code c = sample_code(0);
    assert_int_equal(tda_code_save(&c, f->path), TDA_OK);
    json_error_t err;
    json_t *root = json_load_file(f->path, JSON_REJECT_DUPLICATES, &err);
    assert_non_null(root);
    assert_string_equal(json_string_value(json_object_get(root, "kind")), "trakt-device-code");
    assert_string_equal(json_string_value(json_object_get(root, "user_code")), "5055CC52");
    assert_string_equal(json_string_value(json_object_get(root, "boot_id")), this_boot());
    assert_int_equal(json_integer_value(json_object_get(root, "expires_in_ms")), 600000);
    json_decref(root);
    DIR *d = opendir(f->dir);
    struct dirent *ent;
    int entries = 0;
    while ((ent = readdir(d)) != NULL)
        entries += ent->d_name[0] != '.';
    closedir(d);
    assert_int_equal(entries, 1);
}

static void test_missing_file(void **state)
{
    fixture *f = *state;
    tda_code back;
    assert_int_equal(load(f, &back), TDA_FILE_MISSING);
    assert_code_zeroed(&back);
}

/* ---------------------------------------------------------------- the age of a code */

static void test_within_one_boot_the_boot_clock_wins_over_a_wrong_wall_clock(void **state)
{
    fixture *f = *state;
    /* The wall clock says 2001 (a box without a real-time clock), the boot clock 10 s ago. */
    write_code_file(f->path, 1000000000000LL, this_boot(), tda_boottime_ms() - 10000, 600000, 5000);
    tda_code back;
    assert_int_equal(load(f, &back), TDA_OK);
    int64_t left = tda_code_remaining_ms(&back);
    assert_true(left <= 590000 && left > 580000);
    tda_code_clear(&back);
}

static void test_after_a_reboot_the_wall_clock_tells_the_age(void **state)
{
    fixture *f = *state;
    write_code_file(f->path, (long long)tda__unix_ms() - 100000, "another-boot-0000", 123, 600000,
                    5000);
    tda_code back;
    assert_int_equal(load(f, &back), TDA_OK);
    int64_t left = tda_code_remaining_ms(&back);
    assert_true(left <= 500000 && left > 490000);
    tda_code_clear(&back);
    /* A code saved with no boot-clock reading at all is placed the same way. */
    write_code_file(f->path, (long long)tda__unix_ms() - 100000, "", 0, 600000, 5000);
    assert_int_equal(load(f, &back), TDA_OK);
    left = tda_code_remaining_ms(&back);
    assert_true(left <= 500000 && left > 490000);
    tda_code_clear(&back);
}

static void test_a_code_issued_before_this_boot_may_have_a_negative_issue_time(void **state)
{
    fixture *f = *state;
    /* Issued longer ago than the machine has been up, still inside its life. */
    int64_t up = tda_boottime_ms();
    write_code_file(f->path, (long long)(tda__unix_ms() - up - 5000), "another-boot-0000", 1,
                    (long long)(up + 600000), 5000);
    tda_code back;
    assert_int_equal(load(f, &back), TDA_OK);
    assert_true(back.issued_at_ms < 0);
    int64_t left = tda_code_remaining_ms(&back);
    assert_true(left <= 595000 && left > 585000);
    tda_code_clear(&back);
}

static void test_an_expired_code_loads_and_polling_it_ends_at_once(void **state)
{
    fixture *f = *state;
    tda_code c = sample_code(700000);
    assert_int_equal(tda_code_save(&c, f->path), TDA_OK);
    tda_code back;
    assert_int_equal(load(f, &back), TDA_OK);
    assert_int_equal(tda_code_remaining_ms(&back), 0);
    /* The policy's first word about it: done, expired; no poll was ever due. */
    tda__policy p;
    tda__policy_init(&p, &back, NULL, tda__now(), 1);
    tda__action a = tda__policy_next(&p, tda__now());
    assert_int_equal(a.kind, TDA__ACTION_DONE);
    assert_int_equal(a.result, TDA_EXPIRED);
    tda_code_clear(&back);
    /* The same after a reboot, by the wall clock. */
    write_code_file(f->path, (long long)tda__unix_ms() - 700000, "another-boot-0000", 5, 600000,
                    5000);
    assert_int_equal(load(f, &back), TDA_OK);
    assert_int_equal(tda_code_remaining_ms(&back), 0);
    tda_code_clear(&back);
}

static void test_a_code_from_the_future_is_refused(void **state)
{
    fixture *f = *state;
    tda_code back;
    /* By the boot clock of this very boot: impossible, so the file lies. */
    write_code_file(f->path, (long long)tda__unix_ms(), this_boot(), tda_boottime_ms() + 60000,
                    600000, 5000);
    assert_int_equal(load(f, &back), TDA_FILE_CORRUPT);
    assert_code_zeroed(&back);
    /* By the wall clock after a reboot: an hour ahead means the clock was set back. */
    write_code_file(f->path, (long long)tda__unix_ms() + 3600000, "another-boot-0000", 5, 600000,
                    5000);
    assert_int_equal(load(f, &back), TDA_FILE_CORRUPT);
    assert_code_zeroed(&back);
    /* Half a minute ahead is an NTP step, not a lie: the code counts as just issued. */
    write_code_file(f->path, (long long)tda__unix_ms() + 30000, "another-boot-0000", 5, 600000,
                    5000);
    assert_int_equal(load(f, &back), TDA_OK);
    assert_true(tda_code_remaining_ms(&back) > 590000);
    tda_code_clear(&back);
    /* The file is left for the caller to remove. */
    struct stat sb;
    assert_int_equal(lstat(f->path, &sb), 0);
}

static void test_a_life_or_interval_no_code_has_is_refused(void **state)
{
    fixture *f = *state;
    const long long lives[] = {0, -1, 7LL * 24 * 3600 * 1000 + 1, 1LL << 62};
    for (size_t i = 0; i < sizeof lives / sizeof lives[0]; i++) {
        write_code_file(f->path, (long long)tda__unix_ms(), "x-boot", 1, lives[i], 5000);
        tda_code back;
        if (load(f, &back) != TDA_FILE_CORRUPT)
            fail_msg("life %lld ms accepted", lives[i]);
        assert_code_zeroed(&back);
    }
    const long long intervals[] = {0, -5000, 3600LL * 1000 + 1};
    for (size_t i = 0; i < sizeof intervals / sizeof intervals[0]; i++) {
        write_code_file(f->path, (long long)tda__unix_ms(), "x-boot", 1, 600000, intervals[i]);
        tda_code back;
        if (load(f, &back) != TDA_FILE_CORRUPT)
            fail_msg("interval %lld ms accepted", intervals[i]);
        assert_code_zeroed(&back);
    }
}

/* ---------------------------------------------------------------- bad files */

static void test_corrupt_files(void **state)
{
    fixture *f = *state;
    static const char *const bodies[] = {
        "",
        "{",
        "[]",
        "null",
        "{}",
        /* a token file at the code's path */
        "{\"access_token\":\"a\",\"token_type\":\"bearer\",\"refresh_token\":\"r\","
        "\"scope\":\"public\",\"created_at\":1700000000,\"expires_in\":3600}",
        /* no kind */
        "{\"device_code\":\"d\",\"user_code\":\"U\",\"verification_url\":\"https://x\","
        "\"expires_in_ms\":600000,\"interval_ms\":5000,\"issued_at_unix_ms\":1700000000000,"
        "\"boot_id\":\"\",\"issued_at_boot_ms\":0}",
        /* no device code */
        "{\"kind\":\"trakt-device-code\",\"user_code\":\"U\",\"verification_url\":\"https://x\","
        "\"expires_in_ms\":600000,\"interval_ms\":5000,\"issued_at_unix_ms\":1700000000000,"
        "\"boot_id\":\"\",\"issued_at_boot_ms\":0}",
        /* an empty device code */
        "{\"kind\":\"trakt-device-code\",\"device_code\":\"\",\"user_code\":\"U\","
        "\"verification_url\":\"https://x\",\"expires_in_ms\":600000,\"interval_ms\":5000,"
        "\"issued_at_unix_ms\":1700000000000,\"boot_id\":\"\",\"issued_at_boot_ms\":0}",
        /* a NUL inside the device code */
        "{\"kind\":\"trakt-device-code\",\"device_code\":\"d\\u0000x\",\"user_code\":\"U\","
        "\"verification_url\":\"https://x\",\"expires_in_ms\":600000,\"interval_ms\":5000,"
        "\"issued_at_unix_ms\":1700000000000,\"boot_id\":\"\",\"issued_at_boot_ms\":0}",
        /* the life in seconds as a float */
        "{\"kind\":\"trakt-device-code\",\"device_code\":\"d\",\"user_code\":\"U\","
        "\"verification_url\":\"https://x\",\"expires_in_ms\":600.5,\"interval_ms\":5000,"
        "\"issued_at_unix_ms\":1700000000000,\"boot_id\":\"\",\"issued_at_boot_ms\":0}",
        /* no issue time */
        "{\"kind\":\"trakt-device-code\",\"device_code\":\"d\",\"user_code\":\"U\","
        "\"verification_url\":\"https://x\",\"expires_in_ms\":600000,\"interval_ms\":5000,"
        "\"boot_id\":\"\",\"issued_at_boot_ms\":0}",
        /* an issue time of 0 (unknown) */
        "{\"kind\":\"trakt-device-code\",\"device_code\":\"d\",\"user_code\":\"U\","
        "\"verification_url\":\"https://x\",\"expires_in_ms\":600000,\"interval_ms\":5000,"
        "\"issued_at_unix_ms\":0,\"boot_id\":\"\",\"issued_at_boot_ms\":0}",
        /* no boot id */
        "{\"kind\":\"trakt-device-code\",\"device_code\":\"d\",\"user_code\":\"U\","
        "\"verification_url\":\"https://x\",\"expires_in_ms\":600000,\"interval_ms\":5000,"
        "\"issued_at_unix_ms\":1700000000000,\"issued_at_boot_ms\":0}",
        /* the boot reading a string */
        "{\"kind\":\"trakt-device-code\",\"device_code\":\"d\",\"user_code\":\"U\","
        "\"verification_url\":\"https://x\",\"expires_in_ms\":600000,\"interval_ms\":5000,"
        "\"issued_at_unix_ms\":1700000000000,\"boot_id\":\"\",\"issued_at_boot_ms\":\"0\"}",
        /* a client id of the wrong type */
        "{\"kind\":\"trakt-device-code\",\"client_id\":7,\"device_code\":\"d\",\"user_code\":\"U\","
        "\"verification_url\":\"https://x\",\"expires_in_ms\":600000,\"interval_ms\":5000,"
        "\"issued_at_unix_ms\":1700000000000,\"boot_id\":\"\",\"issued_at_boot_ms\":0}",
        /* two device codes: which one was shown? */
        "{\"kind\":\"trakt-device-code\",\"device_code\":\"d\",\"device_code\":\"e\","
        "\"user_code\":\"U\",\"verification_url\":\"https://x\",\"expires_in_ms\":600000,"
        "\"interval_ms\":5000,\"issued_at_unix_ms\":1700000000000,\"boot_id\":\"\","
        "\"issued_at_boot_ms\":0}",
        /* cut short, as a torn write would leave it */
        "{\"kind\":\"trakt-device-code\",\"device_code\":\"d\",\"user_code\":\"U\","
        "\"verification_url\":\"https://x\",\"expires_in_ms\":600000,\"interval_ms\":50",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        write_text(f->path, bodies[i], 0600);
        tda_code back;
        tda_status st = load(f, &back);
        if (st != TDA_FILE_CORRUPT)
            fail_msg("body %zu (%.60s): got %s, want FILE_CORRUPT", i, bodies[i],
                     tda_status_name(st));
        assert_code_zeroed(&back);
    }
}

static void test_a_code_of_another_client(void **state)
{
    fixture *f = *state;
    tda_code c = sample_code(0);
    c.client_id = (char *)(uintptr_t) "other-app";
    assert_int_equal(tda_code_save(&c, f->path), TDA_OK);
    tda_code back;
    assert_int_equal(load(f, &back), TDA_WRONG_CLIENT);
    assert_string_equal(back.client_id, "other-app"); /* filled, for the message */
    tda_code_clear(&back);
    assert_int_equal(tda_code_load(f->path, NULL, &back), TDA_OK);
    tda_code_clear(&back);
}

static void test_the_token_files_security_rules(void **state)
{
    fixture *f = *state;
    tda_code c = sample_code(0);
    const mode_t modes[] = {0640, 0604, 0660, 0644, 0666};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        assert_int_equal(tda_code_save(&c, f->path), TDA_OK);
        assert_int_equal(chmod(f->path, modes[i]), 0);
        tda_code back;
        assert_int_equal(load(f, &back), TDA_FILE_INSECURE);
        assert_code_zeroed(&back);
    }
    assert_int_equal(unlink(f->path), 0);
    /* A symlink: refused for both, and nothing written through it. */
    char target[256];
    snprintf(target, sizeof target, "%s/elsewhere", f->dir);
    write_text(target, "keep", 0600);
    assert_int_equal(symlink(target, f->path), 0);
    tda_code back;
    assert_int_equal(load(f, &back), TDA_FILE_INSECURE);
    assert_code_zeroed(&back);
    assert_int_equal(tda_code_save(&c, f->path), TDA_FILE_INSECURE);
    char buf[16] = {0};
    FILE *fp = fopen(target, "r");
    assert_non_null(fp);
    assert_non_null(fgets(buf, sizeof buf, fp));
    fclose(fp);
    assert_string_equal(buf, "keep");
    assert_int_equal(unlink(f->path), 0);
    /* Another user's file (only root can make one). */
    if (geteuid() == 0) {
        assert_int_equal(tda_code_save(&c, f->path), TDA_OK);
        assert_int_equal(chown(f->path, 65534, 65534), 0);
        assert_int_equal(load(f, &back), TDA_FILE_INSECURE);
        assert_code_zeroed(&back);
    }
}

static void test_save_refuses_what_load_would_refuse(void **state)
{
    fixture *f = *state;
    tda_code c = sample_code(0);
    tda_code bad = c;
    bad.device_code = NULL;
    assert_int_equal(tda_code_save(&bad, f->path), TDA_INVALID_ARGUMENT);
    bad = c;
    bad.user_code = (char *)(uintptr_t) "";
    assert_int_equal(tda_code_save(&bad, f->path), TDA_INVALID_ARGUMENT);
    bad = c;
    bad.issued_at_unix_ms = 0; /* its age could never be told */
    assert_int_equal(tda_code_save(&bad, f->path), TDA_INVALID_ARGUMENT);
    bad = c;
    bad.expires_in_ms = 0;
    assert_int_equal(tda_code_save(&bad, f->path), TDA_INVALID_ARGUMENT);
    bad = c;
    bad.interval_ms = 3600 * 1000 + 1;
    assert_int_equal(tda_code_save(&bad, f->path), TDA_INVALID_ARGUMENT);
    assert_int_equal(tda_code_save(NULL, f->path), TDA_INVALID_ARGUMENT);
    assert_int_equal(tda_code_save(&c, NULL), TDA_INVALID_ARGUMENT);
    assert_int_equal(tda_code_save(&c, ""), TDA_INVALID_ARGUMENT);
    struct stat sb;
    assert_int_equal(lstat(f->path, &sb), -1); /* nothing was written */
    tda_code back;
    assert_int_equal(tda_code_load(NULL, NULL, &back), TDA_INVALID_ARGUMENT);
    assert_int_equal(tda_code_load(f->path, NULL, NULL), TDA_INVALID_ARGUMENT);
    /* A code with no boot-clock reading still saves, dated by the wall clock. */
    c.issued_at_ms = 0;
    assert_int_equal(tda_code_save(&c, f->path), TDA_OK);
    assert_int_equal(load(f, &back), TDA_OK);
    assert_true(tda_code_remaining_ms(&back) > 590000);
    tda_code_clear(&back);
}

static void test_remaining_life(void **state)
{
    tda_code c = sample_code(100000);
    int64_t left = tda_code_remaining_ms(&c);
    assert_true(left <= 500000 && left > 490000);
    c.issued_at_ms = 0;
    assert_int_equal(tda_code_remaining_ms(&c), 600000); /* unknown: all of it */
    c.issued_at_ms = tda_boottime_ms() + 3600000; /* later than now: never more than its life */
    assert_int_equal(tda_code_remaining_ms(&c), 600000);
    assert_int_equal(tda_code_remaining_ms(NULL), 0);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, scratch_teardown)
    const struct CMUnitTest tests[] = {
        T(test_round_trip_keeps_every_field_and_the_exact_issue_time),
        T(test_saved_file_is_json_with_the_whole_answer_and_no_temp_file),
        T(test_missing_file),
        T(test_within_one_boot_the_boot_clock_wins_over_a_wrong_wall_clock),
        T(test_after_a_reboot_the_wall_clock_tells_the_age),
        T(test_a_code_issued_before_this_boot_may_have_a_negative_issue_time),
        T(test_an_expired_code_loads_and_polling_it_ends_at_once),
        T(test_a_code_from_the_future_is_refused),
        T(test_a_life_or_interval_no_code_has_is_refused),
        T(test_corrupt_files),
        T(test_a_code_of_another_client),
        T(test_the_token_files_security_rules),
        T(test_save_refuses_what_load_would_refuse),
        T(test_remaining_life),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
