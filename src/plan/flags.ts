/**
 * Flag sets of op args that both sides read: defined here only.
 * scripts/gen-ops.ts writes each as `#define <SET>_<NAME>` into build/ops.h
 * (VIEW.RO is VIEW_RO in C).
 */

/** The view ops' flags (src/setup/mounts.ts, ffi/op_mount.c). */
export const VIEW = {
  /** read-only */
  RO: 0x1,
  /** keep device nodes usable (no nodev) */
  DEV: 0x2,
  /** a missing source or destination is skipped */
  OPTIONAL: 0x4,
  /** made read-only once the view is complete */
  SEAL: 0x8,
  NOEXEC: 0x10,
  /** mountDev: a private tmpfs at shm */
  SHM: 0x20,
  /** overlay: user.* xattrs (inside a user namespace) */
  USERXATTR: 0x40,
  /** overlay: create the (host) work dir when missing */
  MKWORK: 0x80,
  /** tmpfs: size is a percentage of the machine's RAM (1-100), as tmpfs counts it */
  PERCENT: 0x100,
  /** bind: the source is a mount the supervisor passes (src/supervisor/idmap.ts, ffi/passed.h), idmapped unless RO. */
  IDMAP: 0x1000,
} as const;

/** landlock's flags: grant the file rights on what fds 0-2 hold open for writing. */
export const LL = { STDIO: 0x1 } as const;

/** initCaps flags: take the command's uid and gid; set its supplementary groups. */
export const INIT = { TAKE_IDS: 0x1, SET_GROUPS: 0x2 } as const;

/** initLimits cpuUnit: the CPU counter is v1 cpuacct.usage (ns), or v2 cpu.stat. */
export const CPU_UNIT = { V1_NS: 1, V2_STAT: 2 } as const;

/** Every set gen-ops.ts emits, by its C prefix. */
export const SHARED_FLAGS = { VIEW, LL, INIT, CPU_UNIT } as const;
