/* Names, messages and kinds of tda_status, all from TDA_STATUS_MAP in the public header. */
#include "internal.h"

tda_status_kind tda_status_kind_of(tda_status s)
{
    switch (s) {
#define TDA_KIND_ROW(name, value, kind, message)                                                 \
    case TDA_##name:                                                                               \
        return TDA_KIND_##kind;
        TDA_STATUS_MAP(TDA_KIND_ROW)
#undef TDA_KIND_ROW
    }
    return TDA_KIND_FINAL; /* an unknown value ends a flow: nothing can be learnt by retrying */
}

const char *tda_strerror(tda_status s)
{
    switch (s) {
#define TDA_MESSAGE_ROW(name, value, kind, message)                                              \
    case TDA_##name:                                                                               \
        return message;
        TDA_STATUS_MAP(TDA_MESSAGE_ROW)
#undef TDA_MESSAGE_ROW
    }
    return "unknown status";
}

const char *tda_status_name(tda_status s)
{
    switch (s) {
#define TDA_NAME_ROW(name, value, kind, message)                                                 \
    case TDA_##name:                                                                               \
        return #name;
        TDA_STATUS_MAP(TDA_NAME_ROW)
#undef TDA_NAME_ROW
    }
    return "UNKNOWN";
}

int tda_status_is_transient(tda_status s)
{
    return tda_status_kind_of(s) == TDA_KIND_TRANSIENT;
}

int tda_status_is_final(tda_status s)
{
    return tda_status_kind_of(s) == TDA_KIND_FINAL;
}

int tda_status_ends_flow(tda_status s)
{
    tda_status_kind k = tda_status_kind_of(s);
    return k == TDA_KIND_SUCCESS || k == TDA_KIND_FINAL;
}

const char *tda_version(void)
{
    return TDA_VERSION_STRING;
}

unsigned int tda_version_num(void)
{
    return TDA_VERSION_NUM;
}
