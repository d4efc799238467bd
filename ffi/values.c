#include "values.h"

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <linux/securebits.h>

#include "landlock.h"
#include "plan.h"
#include "view.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

#define CLONE_AT_SPAWN (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)
#define UNSHARE_IN_INIT (CLONE_NEWCGROUP | CLONE_NEWTIME)
#define RLIMIT_COUNT 16

/* Hardening ops. */
#define CAP_MASK_MAX ((1ULL << 41) - 1) /* capabilities 0..40 (CAP_CHECKPOINT_RESTORE) */
#define SECUREBITS_ALLOWED                                                                                  \
  (SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP | SECBIT_NO_SETUID_FIXUP_LOCKED |          \
   SECBIT_KEEP_CAPS | SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED)
#define NGROUPS_LIMIT 65536
#define ID_INVALID 0xffffffffULL
#if defined(__x86_64__)
#define AUDIT_ARCH_NATIVE AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define AUDIT_ARCH_NATIVE AUDIT_ARCH_AARCH64
#endif

/* A seccomp program: whole instructions, within the kernel's limit, opening
 * with the architecture guard (load arch; if native skip; kill). */
static int seccomp_shape(const struct plan_arg *a) {
  if (a->len == 0 || a->len % 8 || a->len / 8 > BPF_MAXINSNS) return PLAN_E_VALUE;
  struct sock_filter f[3];
  if (a->len < sizeof f) return PLAN_E_VALUE;
  __builtin_memcpy(f, a->s, sizeof f);
  if (f[0].code != (BPF_LD | BPF_W | BPF_ABS) || f[0].k != 4) return PLAN_E_VALUE;
  if (f[1].code != (BPF_JMP | BPF_JEQ | BPF_K) || f[1].k != AUDIT_ARCH_NATIVE || f[1].jt != 1 || f[1].jf != 0)
    return PLAN_E_VALUE;
  if (f[2].code != (BPF_RET | BPF_K) || f[2].k != SECCOMP_RET_KILL_PROCESS) return PLAN_E_VALUE;
  return PLAN_OK;
}

static int gid_list(const struct plan_arg *a) {
  if (a->len % 4 || a->len / 4 > NGROUPS_LIMIT) return PLAN_E_VALUE;
  for (uint32_t i = 0; i < a->len; i += 4) {
    uint32_t g;
    __builtin_memcpy(&g, a->s + i, 4);
    if (g == ID_INVALID) return PLAN_E_VALUE;
  }
  return PLAN_OK;
}

/* A list of absolute paths without a NUL (plan.c checked the strings). */
static int abs_paths(const struct plan_arg *a) {
  if (a->count > LL_MAX_PATHS) return PLAN_E_VALUE;
  const char *cur = a->s;
  for (uint32_t i = 0; i < a->count; i++) {
    const char *p = plan_strv_next(&cur);
    if (p[0] != '/') return PLAN_E_VALUE;
    uint32_t n = 0;
    while (p[n] && n < VIEW_PATH_MAX) n++;
    if (n >= VIEW_PATH_MAX) return PLAN_E_VALUE;
  }
  return PLAN_OK;
}

/* Landlock: known rights and scopes, something to restrict, and rules only
 * where filesystem rights are handled. */
static int landlock_values(const struct plan_op *op) {
  const struct plan_arg *a = op->arg;
  uint64_t fs = a[0].u, scope = a[1].u, flags = a[4].u;
  if (fs & ~LL_FS_KNOWN || scope & ~LL_SCOPE_KNOWN || flags & ~(uint64_t)LL_STDIO) return PLAN_E_VALUE;
  if (!fs && !scope) return PLAN_E_VALUE;
  if (!fs && (a[2].count || a[3].count || flags)) return PLAN_E_VALUE;
  if (abs_paths(&a[2]) || abs_paths(&a[3])) return PLAN_E_VALUE;
  return PLAN_OK;
}

/* initLimits: wall µs, grace µs, CPU µs, usable CPUs, the CPU counter's path and kind.
 * Durations within a year; a CPU budget needs an absolute counter path and its kind. */
#define LIMIT_US_MAX (366ULL * 24 * 3600 * 1000000)
static int init_limits_values(const struct plan_arg *a) {
  if (a[0].u > LIMIT_US_MAX || a[1].u > LIMIT_US_MAX || a[2].u > LIMIT_US_MAX) return PLAN_E_VALUE;
  if (a[3].u < 1 || a[3].u > 8192 || a[5].u > 2) return PLAN_E_VALUE;
  if (a[2].u == 0) return a[4].len == 0 && a[5].u == 0 ? PLAN_OK : PLAN_E_VALUE;
  return a[4].len >= 2 && a[4].s[0] == '/' && a[5].u != 0 ? PLAN_OK : PLAN_E_VALUE;
}

int op_check_values(const struct plan_op *op) {
  const struct plan_arg *a = op->arg;
  switch (op->code) {
    case OP_CLONE:
      /* A spawn creates the late ones in the init (the shim refuses them at
       * clone); to enter a named sandbox, clone names every namespace joined. */
      return a[0].u & ~(uint64_t)(CLONE_AT_SPAWN | UNSHARE_IN_INIT) ? PLAN_E_VALUE : PLAN_OK;
    case OP_UNSHARE:
      if (!a[0].u || (a[0].u & ~(uint64_t)UNSHARE_IN_INIT)) return PLAN_E_VALUE;
      return PLAN_OK;
    case OP_HOSTNAME:
      return a[0].len >= 1 && a[0].len <= 64 ? PLAN_OK : PLAN_E_VALUE;
    case OP_CHDIR:
      return a[0].len >= 1 ? PLAN_OK : PLAN_E_VALUE;
    case OP_RLIMIT:
      return a[0].u < RLIMIT_COUNT && a[1].u <= a[2].u ? PLAN_OK : PLAN_E_VALUE;
    case OP_INIT_CAPS:
      if (a[0].u > CAP_MASK_MAX || (a[4].u & ~3ULL)) return PLAN_E_VALUE;
      if ((a[4].u & 1) && (a[1].u >= ID_INVALID || a[2].u >= ID_INVALID)) return PLAN_E_VALUE;
      return (a[4].u & 2) ? gid_list(&a[3]) : PLAN_OK;
    case OP_CAPS:
      return a[0].u <= CAP_MASK_MAX ? PLAN_OK : PLAN_E_VALUE;
    case OP_CAP_BOUNDING:
      return a[0].u <= CAP_MASK_MAX ? PLAN_OK : PLAN_E_VALUE;
    case OP_SECUREBITS:
      return (a[0].u & ~(uint64_t)SECUREBITS_ALLOWED) == 0 ? PLAN_OK : PLAN_E_VALUE;
    case OP_SET_GROUPS:
      return gid_list(&a[0]);
    case OP_INIT_IDS:
    case OP_SET_IDS:
      return a[0].u < ID_INVALID && a[1].u < ID_INVALID ? PLAN_OK : PLAN_E_VALUE;
    case OP_SECCOMP:
      return seccomp_shape(&a[0]);
    case OP_INIT_LIMITS:
      return init_limits_values(a);
    case OP_LANDLOCK:
      return landlock_values(op);
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
    case OP_MOUNT_CGROUP:
    case OP_MOUNT_POINTS:
      return view_check_values(op);
    /* No arguments to check. */
    case OP_MOUNT_PRIVATE:
    case OP_LOOPBACK_UP:
    case OP_PIVOT_ROOT:
    case OP_SETSID:
    case OP_KEYRING:
    case OP_NO_NEW_PRIVS:
      return PLAN_OK;
    /* An op this table does not know has unchecked values: refused. */
    default:
      return PLAN_E_OPCODE;
  }
}
