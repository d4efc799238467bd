/* Capabilities and no_new_privs: of the command (before its exec), and of the
 * init itself (once the command is started). Raw syscalls only.
 *
 * The command's ops run in this order (src/facilities/privileges/ops.ts):
 *   noNewPrivs   setuid and file-capability binaries can no longer elevate
 *   capBounding  the bounding set keeps only the --cap-add ones
 *   securebits   no root magic on exec; with nothing kept, also no cap fixup on
 *                uid change, all locked (src/facilities/privileges/ops.ts has the bits)
 *   (setGroups, setIds: op_identity.c)
 *   caps         permitted = effective = inheritable = ambient = the kept ones,
 *                ambient raising locked off
 *
 * The init (initCaps, applied by init_confine once the command is forked)
 * ends with every set empty, bounding set included, and the command's ids. */
#include <errno.h>
#include <linux/capability.h>
#include <linux/prctl.h>
#include <linux/securebits.h>

#include "ops_run.h"
#include "sys.h"

struct caps2 {
  struct __user_cap_header_struct hdr;
  struct __user_cap_data_struct data[2];
};

static long caps_get(struct caps2 *c) {
  c->hdr.version = _LINUX_CAPABILITY_VERSION_3;
  c->hdr.pid = 0;
  return SYS2(SYS_capget, &c->hdr, c->data);
}

static long caps_set(uint64_t permitted, uint64_t effective, uint64_t inheritable) {
  struct caps2 c;
  c.hdr.version = _LINUX_CAPABILITY_VERSION_3;
  c.hdr.pid = 0;
  c.data[0].permitted = (uint32_t)permitted;
  c.data[1].permitted = (uint32_t)(permitted >> 32);
  c.data[0].effective = (uint32_t)effective;
  c.data[1].effective = (uint32_t)(effective >> 32);
  c.data[0].inheritable = (uint32_t)inheritable;
  c.data[1].inheritable = (uint32_t)(inheritable >> 32);
  return SYS2(SYS_capset, &c.hdr, c.data);
}

static uint64_t permitted_of(const struct caps2 *c) {
  return (uint64_t)c->data[0].permitted | ((uint64_t)c->data[1].permitted << 32);
}

/* Drop every capability not in `keep` from the bounding set, up to the last
 * one this kernel knows (dropping past it is EINVAL). */
static int bounding_keep(uint64_t keep) {
  for (unsigned cap = 0; cap < 64; cap++) {
    if (keep & (1ULL << cap)) continue;
    long r = SYS5(SYS_prctl, PR_CAPBSET_DROP, cap, 0, 0, 0);
    if (r == -EINVAL) break; /* beyond what this kernel knows */
    if (r < 0) return (int)r;
  }
  return 0;
}

/* Exactly `keep` in permitted, effective, inheritable and ambient. */
static int caps_keep_only(uint64_t keep) {
  struct caps2 now;
  long r = caps_get(&now);
  if (r < 0) return (int)r;
  uint64_t setpcap = permitted_of(&now) & (1ULL << CAP_SETPCAP);
  /* CAP_SETPCAP stays effective until the securebits lock below is set. */
  r = caps_set(keep | setpcap, keep | setpcap, keep);
  if (r < 0) return (int)r;
  r = SYS5(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  if (r < 0) return (int)r;
  for (unsigned cap = 0; cap < 64; cap++) {
    if (!(keep & (1ULL << cap))) continue;
    r = SYS5(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0);
    if (r < 0) return (int)r;
  }
  if (setpcap) {
    long bits = SYS5(SYS_prctl, PR_GET_SECUREBITS, 0, 0, 0, 0);
    if (bits < 0) return (int)bits;
    bits |= SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
    r = SYS5(SYS_prctl, PR_SET_SECUREBITS, bits, 0, 0, 0);
    if (r < 0) return (int)r;
  }
  r = caps_set(keep, keep, keep);
  return r < 0 ? (int)r : 0;
}

int op_no_new_privs(const struct plan_op *op __attribute__((unused))) { return (int)SYS5(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); }

int op_cap_bounding(const struct plan_op *op) { return bounding_keep(op->arg[0].u); }

int op_securebits(const struct plan_op *op) { return (int)SYS5(SYS_prctl, PR_SET_SECUREBITS, op->arg[0].u, 0, 0, 0); }

int op_caps(const struct plan_op *op) { return caps_keep_only(op->arg[0].u); }

/* The init's own: recorded by the sandbox op, applied once the command is
 * started (the command inherits the init's capabilities for its own setup).
 * The init then keeps `keep` (nothing, or CAP_KILL when the command keeps
 * capabilities of its own) and, with INIT_TAKE_IDS, takes the command's ids,
 * so that it can still signal and kill every process of the sandbox without
 * CAP_KILL: kill() needs matching uids. INIT_* flags: ops.h (src/plan/flags.ts). */

static int init_keep_set;
static struct plan_op init_op;

int op_init_caps(const struct plan_op *op) {
  init_op = *op;
  init_keep_set = 1;
  return 0;
}

int init_confine(int32_t *index) {
  *index = init_keep_set ? (int32_t)init_op.index : -1;
  if (!init_keep_set) return 0;
  uint64_t keep = init_op.arg[0].u, flags = init_op.arg[4].u;
  long r = SYS5(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  if (r < 0) return (int)r;
  struct caps2 now;
  r = caps_get(&now);
  if (r < 0) return (int)r;
  uint64_t effective = (uint64_t)now.data[0].effective | ((uint64_t)now.data[1].effective << 32);
  if (effective & (1ULL << CAP_SETPCAP)) {
    /* uid 0 is nothing special from here on, and the uid change below
     * neither drops nor brings capabilities: the capset after it decides. */
    long bits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP | SECBIT_NO_SETUID_FIXUP_LOCKED |
                SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
    r = SYS5(SYS_prctl, PR_SET_SECUREBITS, bits, 0, 0, 0);
    if (r < 0) return (int)r;
    int rc = bounding_keep(keep);
    if (rc < 0) return rc;
  } else if (keep) {
    /* Without CAP_SETPCAP the bounding set stays; keep permitted across the uid change. */
    r = SYS5(SYS_prctl, PR_SET_KEEPCAPS, 1, 0, 0, 0);
    if (r < 0) return (int)r;
  }
  if (flags & INIT_SET_GROUPS) {
    r = SYS2(SYS_setgroups, init_op.arg[3].len / 4, init_op.arg[3].s);
    if (r < 0) return (int)r;
  }
  if (flags & INIT_TAKE_IDS) {
    long uid = (long)init_op.arg[1].u, gid = (long)init_op.arg[2].u;
    r = SYS3(SYS_setresgid, gid, gid, gid);
    if (r < 0) return (int)r;
    r = SYS3(SYS_setresuid, uid, uid, uid);
    if (r < 0) return (int)r;
  }
  r = SYS5(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  if (r < 0) return (int)r;
  r = caps_set(keep, keep, 0);
  return r < 0 ? (int)r : 0;
}
