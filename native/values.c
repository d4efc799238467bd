/* The value checks of the ops outside the view (those: view_values.c), one
 * per op, values_<name>; ops.h has their prototypes and ops_values.c the
 * table that picks one by opcode (both generated from src/plan/ops.ts). */
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
int values_landlock(const struct plan_op *op) {
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
int values_init_limits(const struct plan_op *op) {
  const struct plan_arg *a = op->arg;
  if (a[0].u > LIMIT_US_MAX || a[1].u > LIMIT_US_MAX || a[2].u > LIMIT_US_MAX) return PLAN_E_VALUE;
  if (a[3].u < 1 || a[3].u > 8192 || a[5].u > CPU_UNIT_V2_STAT) return PLAN_E_VALUE;
  if (a[2].u == 0) return a[4].len == 0 && a[5].u == 0 ? PLAN_OK : PLAN_E_VALUE;
  return a[4].len >= 2 && a[4].s[0] == '/' && a[5].u != 0 ? PLAN_OK : PLAN_E_VALUE;
}

/* An op declared in src/plan/ops.ts with no constraints on its args (values: "none"). */
int values_none(const struct plan_op *op __attribute__((unused))) { return PLAN_OK; }

/* A spawn creates the late ones in the init (the shim refuses them at
 * clone); to enter a named sandbox, clone names every namespace joined. */
int values_clone(const struct plan_op *op) {
  return op->arg[0].u & ~(uint64_t)(CLONE_AT_SPAWN | UNSHARE_IN_INIT) ? PLAN_E_VALUE : PLAN_OK;
}

int values_unshare(const struct plan_op *op) {
  uint64_t f = op->arg[0].u;
  return f && !(f & ~(uint64_t)UNSHARE_IN_INIT) ? PLAN_OK : PLAN_E_VALUE;
}

int values_hostname(const struct plan_op *op) {
  return op->arg[0].len >= 1 && op->arg[0].len <= 64 ? PLAN_OK : PLAN_E_VALUE;
}

/* --pty: a window size the kernel keeps (unsigned short), never 0x0. */
int values_pty_open(const struct plan_op *op) {
  const struct plan_arg *a = op->arg;
  return a[0].u >= 1 && a[0].u <= 0xffff && a[1].u >= 1 && a[1].u <= 0xffff ? PLAN_OK : PLAN_E_VALUE;
}

int values_chdir(const struct plan_op *op) { return op->arg[0].len >= 1 ? PLAN_OK : PLAN_E_VALUE; }

int values_rlimit(const struct plan_op *op) {
  const struct plan_arg *a = op->arg;
  return a[0].u < RLIMIT_COUNT && a[1].u <= a[2].u ? PLAN_OK : PLAN_E_VALUE;
}

int values_init_caps(const struct plan_op *op) {
  const struct plan_arg *a = op->arg;
  if (a[0].u > CAP_MASK_MAX || (a[4].u & ~(uint64_t)(INIT_TAKE_IDS | INIT_SET_GROUPS))) return PLAN_E_VALUE;
  if ((a[4].u & INIT_TAKE_IDS) && (a[1].u >= ID_INVALID || a[2].u >= ID_INVALID)) return PLAN_E_VALUE;
  return (a[4].u & INIT_SET_GROUPS) ? gid_list(&a[3]) : PLAN_OK;
}

int values_caps(const struct plan_op *op) { return op->arg[0].u <= CAP_MASK_MAX ? PLAN_OK : PLAN_E_VALUE; }

int values_cap_bounding(const struct plan_op *op) { return op->arg[0].u <= CAP_MASK_MAX ? PLAN_OK : PLAN_E_VALUE; }

int values_securebits(const struct plan_op *op) {
  return (op->arg[0].u & ~(uint64_t)SECUREBITS_ALLOWED) == 0 ? PLAN_OK : PLAN_E_VALUE;
}

int values_set_groups(const struct plan_op *op) { return gid_list(&op->arg[0]); }

static int two_ids(const struct plan_op *op) {
  return op->arg[0].u < ID_INVALID && op->arg[1].u < ID_INVALID ? PLAN_OK : PLAN_E_VALUE;
}
int values_init_ids(const struct plan_op *op) { return two_ids(op); }
int values_set_ids(const struct plan_op *op) { return two_ids(op); }

int values_seccomp(const struct plan_op *op) { return seccomp_shape(&op->arg[0]); }

/* A command: argv[0] present and not empty. */
int values_exec(const struct plan_op *op) {
  const struct plan_arg *a = op->arg;
  if (a[1].count < 1) return PLAN_E_VALUE;
  const char *cur = a[1].s;
  return plan_strv_next(&cur)[0] ? PLAN_OK : PLAN_E_VALUE;
}
