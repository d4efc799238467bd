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
int op_mount_points(const struct plan_op *op);
int op_pivot_root(void);
int op_mount_cgroup(const struct plan_op *op);
/* op_net.c */
int op_loopback_up(void);
/* op_process.c */
void process_reset_signals(void);
int op_setsid(void);
int op_keyring(void);
int op_chdir(const struct plan_op *op);
int op_rlimit(const struct plan_op *op);
/* op_caps.c */
int op_no_new_privs(void);
int op_cap_bounding(const struct plan_op *op);
int op_securebits(const struct plan_op *op);
int op_caps(const struct plan_op *op);
int op_init_caps(const struct plan_op *op);
/* The init's own capabilities, as op_init_caps recorded them; *index gets that op's. */
int init_confine(int32_t *index);
/* op_identity.c */
int op_set_groups(const struct plan_op *op);
int op_set_ids(const struct plan_op *op);
/* op_landlock.c */
int op_landlock(const struct plan_op *op);
/* op_seccomp.c */
int op_seccomp(const struct plan_op *op);
/* op_exec.c: returns only on failure */
int op_exec(const struct plan_op *op);

#endif
