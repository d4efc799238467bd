/**
 * isolate's default seccomp profile: everything is allowed except the kernel
 * surface a sandboxed command has no business touching. Denied calls fail
 * with EPERM, as if the capability were missing (which it also is).
 */
import { type Action, type CompiledRule, ENOSYS, EPERM } from "./policy.ts";
import { syscallNumber } from "./tables.ts";

/** The denied calls, by why. Names missing on an architecture are skipped there. */
export const DENIED_GROUPS: Readonly<Record<string, readonly string[]>> = {
  // Mounts undo read-only binds and masks; the new mount API is the same power.
  mounts: [
    "mount",
    "umount",
    "umount2",
    "pivot_root",
    "move_mount",
    "open_tree",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
  ],
  // Keyrings are not namespaced.
  keys: ["keyctl", "add_key", "request_key"],
  // Large kernel attack surface, rarely needed by a command.
  "kernel surface": ["bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register"],
  "kernel code": [
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "create_module",
    "query_module",
    "get_kernel_syms",
  ],
  // Opens any file by handle, bypassing the path (the "shocker" escape).
  "file handles": ["open_by_handle_at"],
  // Reaching into other processes.
  "other processes": ["ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd"],
  // Joining namespaces; the host's clock, swap, power, accounting, I/O ports, kernel log.
  system: [
    "setns",
    "swapon",
    "swapoff",
    "reboot",
    "acct",
    "quotactl",
    "quotactl_fd",
    "iopl",
    "ioperm",
    "syslog",
    "lookup_dcookie",
    "nfsservctl",
    "uselib",
    "ustat",
    "sysfs",
    "_sysctl",
  ],
  clock: ["settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "stime"],
};

export const DENIED: readonly string[] = Object.values(DENIED_GROUPS).flat();

/** Namespace flags of clone/unshare (linux/sched.h). */
export const CLONE_NS = {
  NEWTIME: 0x00000080,
  NEWNS: 0x00020000,
  NEWCGROUP: 0x02000000,
  NEWUTS: 0x04000000,
  NEWIPC: 0x08000000,
  NEWUSER: 0x10000000,
  NEWPID: 0x20000000,
  NEWNET: 0x40000000,
} as const;

const ALL_NS = Object.values(CLONE_NS).reduce((a, b) => a | b, 0) >>> 0;
/** clone() takes the exit signal in the low byte, where CLONE_NEWTIME would be: it cannot ask for it. */
const CLONE_NS_FLAGS = (ALL_NS & ~CLONE_NS.NEWTIME) >>> 0;

export const AF_ALG = 38;
export const AF_VSOCK = 40;

const deny: Action = { type: "errno", errno: EPERM };

function rule(names: readonly string[], action: Action, args: CompiledRule["args"] = []): CompiledRule {
  const nrs = names.map(syscallNumber).filter((n): n is number => n !== undefined);
  return { names, nrs, action, args };
}

/**
 * What --allow-nested lets through: creating namespaces (clone3 included, its
 * flags being out of reach) and the mount family a nested sandbox builds its
 * view with. The command holds no capability in any namespace isolate made,
 * so the kernel lets these act only on namespaces the command creates itself,
 * under a new user namespace of its own, where the mounts it inherits are
 * locked (MNT_LOCK_*): it cannot undo isolate's view, only stack on it.
 * setns and everything else in DENIED stay denied.
 */
export const NESTED_ALLOWED: readonly string[] = ["clone3", "unshare", ...(DENIED_GROUPS.mounts ?? [])];

/** The default profile's rules, in the order the filter tries them. */
export function defaultRules(nested = false): CompiledRule[] {
  if (nested) {
    return [
      rule(NESTED_ALLOWED, { type: "allow" }),
      rule(["socket"], deny, [{ index: 0, op: "eq", value: AF_VSOCK }]),
      rule(["socket"], deny, [{ index: 0, op: "eq", value: AF_ALG }]),
      rule(
        DENIED.filter((n) => !NESTED_ALLOWED.includes(n)),
        deny,
      ),
    ];
  }
  return [
    // No way to inspect clone3's flags (they are behind a pointer): say it does
    // not exist, and libcs fall back to clone, whose flags can be checked.
    rule(["clone3"], { type: "errno", errno: ENOSYS }),
    // New namespaces, nested user namespaces above all.
    rule(["unshare"], deny, [{ index: 0, op: "anySet", value: ALL_NS }]),
    rule(["clone"], deny, [{ index: 0, op: "anySet", value: CLONE_NS_FLAGS }]),
    // Sockets to the hypervisor and to the kernel's crypto API.
    rule(["socket"], deny, [{ index: 0, op: "eq", value: AF_VSOCK }]),
    rule(["socket"], deny, [{ index: 0, op: "eq", value: AF_ALG }]),
    rule(DENIED, deny),
  ];
}

/**
 * Calls numbered above the headers' highest are newer than this build knows:
 * ENOSYS, so libcs fall back to older calls the profile does judge.
 */
export const UNKNOWN_ACTION: Action = { type: "errno", errno: ENOSYS };
