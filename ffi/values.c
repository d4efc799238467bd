#include "values.h"

#include <linux/sched.h>

#include "plan.h"
#include "view.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

#define CLONE_AT_SPAWN (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)
#define UNSHARE_IN_INIT (CLONE_NEWCGROUP | CLONE_NEWTIME)
#define RLIMIT_COUNT 16

int op_check_values(const struct plan_op *op) {
  const struct plan_arg *a = op->arg;
  switch (op->code) {
    case OP_CLONE:
      if (a[0].u & ~(uint64_t)CLONE_AT_SPAWN) return PLAN_E_VALUE;
      if (a[1].u < 30 || a[1].u > 63) return PLAN_E_VALUE;
      return PLAN_OK;
    case OP_UNSHARE:
      if (!a[0].u || (a[0].u & ~(uint64_t)UNSHARE_IN_INIT)) return PLAN_E_VALUE;
      return PLAN_OK;
    case OP_HOSTNAME:
      return a[0].len >= 1 && a[0].len <= 64 ? PLAN_OK : PLAN_E_VALUE;
    case OP_CHDIR:
      return a[0].len >= 1 ? PLAN_OK : PLAN_E_VALUE;
    case OP_RLIMIT:
      return a[0].u < RLIMIT_COUNT && a[1].u <= a[2].u ? PLAN_OK : PLAN_E_VALUE;
    case OP_EXEC:
      if (a[1].count < 1) return PLAN_E_VALUE;
      {
        const char *cur = a[1].s;
        const char *argv0 = plan_strv_next(&cur);
        if (!argv0[0]) return PLAN_E_VALUE;
      }
      return PLAN_OK;
    case OP_MOUNT_ROOT:
    case OP_BIND:
    case OP_TMPFS:
    case OP_MOUNT_PROC:
    case OP_MOUNT_DEV:
    case OP_MASK:
    case OP_READONLY:
    case OP_OVERLAY:
    case OP_SYMLINK:
    case OP_MKDIR:
      return view_check_values(op);
    default:
      return PLAN_OK;
  }
}
