/* The executors: one function per op, op_<name>(op), each returning 0 or
 * -errno. Their prototypes and op_run(), the dispatch by opcode, are
 * generated from src/plan/ops.ts (ops.h, ops_run.c: scripts/gen-ops.ts). */
#ifndef ISOLATE_OPS_RUN_H
#define ISOLATE_OPS_RUN_H

#include "plan.h"

/* op_process.c */
void process_reset_signals(void);
/* op_caps.c: the init's own capabilities, as op_init_caps recorded them; *index gets that op's. */
int init_confine(int32_t *index);
/* op_pty.c: --pty (the slave is the init's until the fork; pty_release closes it) */
void pty_release(void);

#endif
