/* Names, messages and classes of tda_status, all from src/status_table.h. */
#include "internal.h"
#include "status_table.h"

enum status_kind { FLOW, TRANSIENT, FINAL };

typedef struct status_info {
    tda_status status;
    const char *name;
    enum status_kind kind;
    const char *message;
} status_info;

#define TDA_STATUS_ROW(name, kind, message) {TDA_##name, #name, kind, message},
static const status_info status_rows[] = {TDA_STATUS_TABLE(TDA_STATUS_ROW)};
#undef TDA_STATUS_ROW

static const status_info *status_find(tda_status s)
{
    for (size_t i = 0; i < sizeof status_rows / sizeof status_rows[0]; i++)
        if (status_rows[i].status == s)
            return &status_rows[i];
    return NULL;
}

const char *tda_strerror(tda_status s)
{
    const status_info *info = status_find(s);
    return info ? info->message : "unknown status";
}

const char *tda_status_name(tda_status s)
{
    const status_info *info = status_find(s);
    return info ? info->name : "UNKNOWN";
}

int tda_status_is_transient(tda_status s)
{
    const status_info *info = status_find(s);
    return info && info->kind == TRANSIENT;
}

int tda_status_is_final(tda_status s)
{
    const status_info *info = status_find(s);
    return !info || info->kind == FINAL;
}

const char *tda_version(void)
{
    return TDA_VERSION_STRING;
}

unsigned int tda_version_num(void)
{
    return TDA_VERSION_NUM;
}
