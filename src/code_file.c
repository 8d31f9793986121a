/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The saved code (tda_code_save, tda_code_load): the device-code answer kept
 * on disk while the user may be typing it, so a restarted program resumes the
 * code on screen instead of showing a new one. The device code is a secret,
 * so the file keeps to the token file's rules (file_ops.c).
 *
 * Its age is the delicate part. Within one boot the boot clock tells it
 * exactly, whatever happened to the wall clock meanwhile (NTP steps, a user
 * setting the time), so the file keeps that reading with the boot's id.
 * After a reboot only the wall clock is left. A time in the future by either
 * means the age cannot be known, and such a code is refused rather than
 * polled for a life it may not have.
 */
#include <jansson.h>
#include <string.h>

#include "clock.h"
#include "file_ops.h"
#include "protocol.h"

/* Wall-clock steps this small (NTP corrections) are not taken for a file from the future. */
#define WALL_CLOCK_SLACK_MS 60000
#define MAX_UNIX_MS 253402300799999LL /* the end of year 9999 */

tda_status tda_code_save(const tda_code *code, const char *path)
{
    if (!code || !code->device_code || !*code->device_code || !code->user_code ||
        !*code->user_code || !code->verification_url || !*code->verification_url ||
        code->expires_in_ms <= 0 || code->expires_in_ms > TDA__MAX_CODE_LIFE_MS ||
        code->interval_ms <= 0 || code->interval_ms > TDA__MAX_INTERVAL_MS ||
        code->issued_at_unix_ms <= 0 || code->issued_at_unix_ms > MAX_UNIX_MS || !path || !*path)
        return TDA_INVALID_ARGUMENT;
    /* A boot-clock reading is worth keeping only with the id of the boot it belongs to. */
    char boot_id[TDA__BOOT_ID_SIZE];
    if (code->issued_at_ms == 0 || !tda__boot_id(boot_id))
        boot_id[0] = '\0';
    tda__json_oom_reset();
    json_t *root = json_pack(
        "{s:s, s:s?, s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:I}", "kind", "trakt-device-code",
        "client_id", code->client_id, "device_code", code->device_code, "user_code",
        code->user_code, "verification_url", code->verification_url, "expires_in_ms",
        (json_int_t)code->expires_in_ms, "interval_ms", (json_int_t)code->interval_ms,
        "issued_at_unix_ms", (json_int_t)code->issued_at_unix_ms, "boot_id", boot_id,
        "issued_at_boot_ms", (json_int_t)(boot_id[0] ? code->issued_at_ms : 0));
    if (!root) /* a string not UTF-8, unless memory ran out */
        return tda__json_oom_happened() ? TDA_NO_MEMORY : TDA_INVALID_ARGUMENT;
    char *text = NULL;
    size_t len = 0;
    tda_status st = tda__json_dump_secret(root, &text, &len);
    tda__json_wipe_strings(root);
    json_decref(root);
    if (st == TDA_OK) {
        char detail[512]; /* the status says enough to this call's callers */
        /* A save killed midway left its temporary file, with a device code in it. */
        tda__file_remove_stale_temps(path);
        st = tda__file_save(path, text, len, detail, sizeof detail);
        tda__file_free_secret(text, len);
    }
    return st;
}

/* An optional string: absent or null is NULL, any other type is damage. */
static tda_status take_optional_string(json_t *root, const char *name, char **out)
{
    json_t *v = json_object_get(root, name);
    if (!v || json_is_null(v))
        return TDA_OK;
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
        return TDA_BAD_RESPONSE;
    *out = tda__strdup(json_string_value(v));
    return *out ? TDA_OK : TDA_NO_MEMORY;
}

/*
 * When the code was issued, on this boot's clock: from the boot clock when
 * the file was written in this boot, else from the wall clock. TDA_BAD_RESPONSE
 * for a time in the future.
 */
static tda_status place_issue(json_t *root, int64_t issued_unix, tda_code *out)
{
    json_t *id = json_object_get(root, "boot_id");
    json_t *boot = json_object_get(root, "issued_at_boot_ms");
    if (!json_is_string(id) || !json_is_integer(boot))
        return TDA_BAD_RESPONSE;
    char this_boot[TDA__BOOT_ID_SIZE];
    int64_t now_boot = tda_boottime_ms();
    const char *saved_id = json_string_value(id);
    if (saved_id[0] && tda__boot_id(this_boot) && strcmp(saved_id, this_boot) == 0) {
        int64_t issued_boot = (int64_t)json_integer_value(boot);
        if (issued_boot > now_boot)
            return TDA_BAD_RESPONSE; /* later than now by a clock that cannot go back */
        out->issued_at_ms = issued_boot != 0 ? issued_boot : -1; /* 0 would mean "unknown" */
        return TDA_OK;
    }
    int64_t age = tda__unix_ms() - issued_unix;
    if (age < -WALL_CLOCK_SLACK_MS)
        return TDA_BAD_RESPONSE;
    if (age < 0)
        age = 0;
    /* Issued before this boot began, maybe: then it is negative, which is fine. */
    out->issued_at_ms = now_boot - age;
    if (out->issued_at_ms == 0)
        out->issued_at_ms = -1;
    return TDA_OK;
}

static tda_status parse_code_file(const char *data, size_t size, tda_code *out)
{
    char ignored[256];
    tda_status st;
    json_t *root = tda__json_load_object(data, size, &st, ignored, sizeof ignored);
    if (!root)
        return st;
    json_t *kind = json_object_get(root, "kind");
    st = json_is_string(kind) && strcmp(json_string_value(kind), "trakt-device-code") == 0
             ? TDA_OK
             : TDA_BAD_RESPONSE;
    int64_t issued_unix = 0;
    if (st == TDA_OK)
        st = tda__json_take_string(root, "device_code", &out->device_code, ignored, sizeof ignored);
    if (st == TDA_OK)
        st = tda__json_take_string(root, "user_code", &out->user_code, ignored, sizeof ignored);
    if (st == TDA_OK)
        st = tda__json_take_string(root, "verification_url", &out->verification_url, ignored,
                                   sizeof ignored);
    if (st == TDA_OK)
        st = tda__json_take_integer(root, "expires_in_ms", 1, TDA__MAX_CODE_LIFE_MS,
                                    &out->expires_in_ms, ignored, sizeof ignored);
    if (st == TDA_OK)
        st = tda__json_take_integer(root, "interval_ms", 1, TDA__MAX_INTERVAL_MS, &out->interval_ms,
                                    ignored, sizeof ignored);
    if (st == TDA_OK)
        st = tda__json_take_integer(root, "issued_at_unix_ms", 1, MAX_UNIX_MS, &issued_unix,
                                    ignored, sizeof ignored);
    if (st == TDA_OK)
        st = take_optional_string(root, "client_id", &out->client_id);
    if (st == TDA_OK)
        st = place_issue(root, issued_unix, out);
    out->issued_at_unix_ms = issued_unix;
    tda__json_wipe_strings(root);
    json_decref(root);
    return st;
}

tda_status tda_code_load(const char *path, const char *expected_client_id, tda_code *out)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!path || !*path || !out)
        return TDA_INVALID_ARGUMENT;
    char *data = NULL;
    size_t size = 0;
    char detail[512];
    tda_status st = tda__file_read_secret(path, TDA__TOKEN_FILE_MAX, &data, &size, detail,
                                          sizeof detail);
    if (st == TDA_OK) {
        st = parse_code_file(data, size, out);
        if (st != TDA_OK && st != TDA_NO_MEMORY)
            st = TDA_FILE_CORRUPT;
    }
    tda__file_free_secret(data, size);
    if (st != TDA_OK) {
        tda_code_clear(out);
        return st;
    }
    if (expected_client_id && out->client_id && strcmp(expected_client_id, out->client_id) != 0)
        return TDA_WRONG_CLIENT;
    return TDA_OK;
}

int64_t tda_code_remaining_ms(const tda_code *code)
{
    if (!code || code->expires_in_ms <= 0)
        return 0;
    if (code->issued_at_ms == 0)
        return code->expires_in_ms;
    int64_t left = code->issued_at_ms + code->expires_in_ms - tda_boottime_ms();
    if (left < 0)
        return 0;
    return left < code->expires_in_ms ? left : code->expires_in_ms;
}
