/* SPDX-License-Identifier: Apache-2.0 */
/* The fault plan at work: which fault a request meets, and what it does to
 * the request's answer. */
#ifndef EMU_FAULTS_H
#define EMU_FAULTS_H

#include <stdbool.h>

#include "answer.h"
#include "fault_spec.h"
#include "options.h"

const struct emu_fault *emu_fault_find(const struct emu_config *cfg, enum emu_endpoint endpoint,
                                       unsigned long number);
/* True for the faults that stand for a proxy: Trakt's logic never runs. */
bool emu_fault_skips_logic(const struct emu_fault *fault);
void emu_fault_answer(const struct emu_fault *fault, struct emu_answer *ans);
void emu_fault_spoil(const struct emu_fault *fault, struct emu_answer *ans);

#endif
