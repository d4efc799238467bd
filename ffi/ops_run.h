/* The executors: one function per facility, each returning 0 or -errno. */
#ifndef ISOLATE_OPS_RUN_H
#define ISOLATE_OPS_RUN_H

#include "plan.h"

/* op_ns.c */
int op_mount_private(void);
int op_unshare(const struct plan_op *op);
int op_hostname(const struct plan_op *op);
/* op_mount.c: the filesystem view */
int op_mount_root(const struct plan_op *op);
int op_bind(const struct plan_op *op);
int op_tmpfs(const struct plan_op *op);
int op_mount_proc(const struct plan_op *op);
int op_mount_dev(const struct plan_op *op);
int op_mask(const struct plan_op *op);
int op_readonly(const struct plan_op *op);
int op_overlay(const struct plan_op *op);
int op_symlink(const struct plan_op *op);
int op_mkdir(const struct plan_op *op);
int op_pivot_root(void);
/* op_net.c */
int op_loopback_up(void);
/* op_process.c */
void process_reset_signals(void);
int op_setsid(void);
int op_keyring(void);
int op_chdir(const struct plan_op *op);
int op_rlimit(const struct plan_op *op);
/* op_exec.c: returns only on failure */
int op_exec(const struct plan_op *op);

#endif
