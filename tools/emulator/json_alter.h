/* SPDX-License-Identifier: Apache-2.0 */
/* The json fault's alterations of an answer (see fault_spec.h). */
#ifndef EMU_JSON_ALTER_H
#define EMU_JSON_ALTER_H

#include "answer.h"
#include "fault_spec.h"

void emu_json_alter(const struct emu_fault *fault, struct emu_answer *ans);

#endif
