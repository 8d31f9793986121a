/* SPDX-License-Identifier: Apache-2.0 */
/* A fault as written on the command line (--fault ENDPOINT:N[-M]:ACTION[:OPT]...)
 * and parsed into a struct emu_fault. What a fault does to a request is
 * faults.c's job; this file only knows the words. */
#ifndef EMU_FAULT_SPEC_H
#define EMU_FAULT_SPEC_H

#include <stdbool.h>
#include <stddef.h>

/* The four endpoints a fault can target come first so they can index arrays. */
enum emu_endpoint {
    EMU_EP_CODE,
    EMU_EP_TOKEN,
    EMU_EP_REFRESH,
    EMU_EP_REVOKE,
    EMU_EP_FAULTABLE,
    EMU_EP_ACTIVATE = EMU_EP_FAULTABLE,
    EMU_EP_STATS,
    EMU_EP_NONE
};

/* What a fault does. The first four stand for a proxy (Cloudflare) that
 * answers before Trakt sees the request. The others let Trakt's logic run (a
 * code is issued, a poll counts, a pair is issued, spent or revoked) and
 * spoil its answer on the way back, as a network or proxy failure would. */
enum emu_fault_kind {
    EMU_FAULT_STATUS,      /* answer this status instead */
    EMU_FAULT_DROP,        /* close without an answer */
    EMU_FAULT_STALL,       /* never answer: the connection is held until exit */
    EMU_FAULT_HUGE,        /* a 200 whose body is 10 MB */
    EMU_FAULT_LOSE,        /* logic runs; close before the status line */
    EMU_FAULT_CUT_HEADERS, /* logic runs; the headers, then close */
    EMU_FAULT_CUT_BODY,    /* logic runs; half the body, then close */
    EMU_FAULT_JSON         /* logic runs; its JSON answer altered */
};

/* Alterations of a JSON answer: set and del edit the object, the others its
 * text (a duplicate key or a stray byte cannot be made in a json_t). */
enum emu_json_op_kind {
    EMU_JSON_SET,     /* set=FIELD=JSON */
    EMU_JSON_DEL,     /* del=FIELD */
    EMU_JSON_DUP,     /* dup=FIELD: the key appears twice */
    EMU_JSON_GARBAGE, /* the text cut in half: not JSON */
    EMU_JSON_ARRAY,   /* the object wrapped in an array */
    EMU_JSON_NON_UTF8 /* a 0xFF byte inside the first string value */
};

#define EMU_JSON_OPS_MAX 6

struct emu_json_op {
    enum emu_json_op_kind kind;
    char field[32];
    char value[64];
};

struct emu_fault {
    enum emu_endpoint endpoint;
    unsigned long first, last; /* 1-based, inclusive */
    enum emu_fault_kind kind;
    unsigned int status; /* EMU_FAULT_STATUS only */
    bool html;
    bool cloudflare; /* server: cloudflare, and its plain "error code: 1015" body */
    bool empty;      /* no body at all */
    char error[32];  /* an OAuth error body {"error": ..., "error_description": ...} */
    char description[96];
    bool ratelimit;
    unsigned long ratelimit_reset; /* seconds from now to X-Ratelimit's until */
    bool has_retry_after;
    unsigned long retry_after;
    struct emu_json_op ops[EMU_JSON_OPS_MAX];
    size_t op_count;
};

/* False with *why set to a sentence for the user when spec is not valid. */
bool emu_fault_parse(const char *spec, struct emu_fault *out, const char **why);

#endif
