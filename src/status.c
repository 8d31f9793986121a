/* SPDX-License-Identifier: Apache-2.0 */
/* Names, messages and kinds of tda_status, all from TDA_STATUS_MAP in the public header. */
#include "internal.h"

/* One row per status, at its own value (designated initializers): a lookup is an index. */
typedef struct status_row {
    const char *name; /* NULL for a value the table skips (none today) */
    const char *message;
    tda__status_kind kind;
} status_row;

#define TDA__STATUS_ROW(name, value, kind, message) [value] = {#name, message, TDA__KIND_##kind},
static const status_row rows[] = {TDA_STATUS_MAP(TDA__STATUS_ROW)};
#undef TDA__STATUS_ROW

static const status_row *row_of(tda_status s)
{
    size_t i = (size_t)s; /* a negative value wraps to a huge one: not in the table */
    return i < sizeof rows / sizeof rows[0] && rows[i].name ? &rows[i] : NULL;
}

tda__status_kind tda__status_kind_of(tda_status s)
{
    const status_row *r = row_of(s);
    /* An unknown value ends a flow: nothing can be learnt by retrying it. */
    return r ? r->kind : TDA__KIND_FINAL;
}

const char *tda_strerror(tda_status s)
{
    const status_row *r = row_of(s);
    return r ? r->message : "unknown status";
}

const char *tda_status_name(tda_status s)
{
    const status_row *r = row_of(s);
    return r ? r->name : "UNKNOWN";
}

int tda_status_is_transient(tda_status s)
{
    return tda__status_kind_of(s) == TDA__KIND_TRANSIENT;
}

int tda__status_is_final(tda_status s)
{
    return tda__status_kind_of(s) == TDA__KIND_FINAL;
}

int tda__status_ends_flow(tda_status s)
{
    tda__status_kind k = tda__status_kind_of(s);
    return k == TDA__KIND_SUCCESS || k == TDA__KIND_FINAL;
}

const char *tda_version(void)
{
    return TDA_VERSION_STRING;
}

unsigned int tda_version_num(void)
{
    return TDA_VERSION_NUM;
}
