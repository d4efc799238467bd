/**
 * What can keep a process from creating namespaces, user namespaces above
 * all, and the knob to turn for each: the sysctls distributions use, an
 * AppArmor restriction (Ubuntu 23.10+), and a seccomp filter around isolate
 * itself (a container runtime's default profile).
 */
import { field as specField } from "../errors.ts";
import { nodeFs } from "./files.ts";
import { inInitialUserNs } from "./probe.ts";

export interface UsernsKnobs {
  /** user.max_user_namespaces: 0 disables user namespaces for everyone. */
  readonly maxUserNamespaces: number | undefined;
  /** kernel.unprivileged_userns_clone (Debian/Arch kernels before 6.x): 0 = root only. */
  readonly unprivilegedUsernsClone: number | undefined;
  /** kernel.apparmor_restrict_unprivileged_userns (Ubuntu): 1 = unconfined users get no capabilities in them. */
  readonly apparmorRestrict: number | undefined;
  /** Seccomp mode of isolate's own process: 2 = under a filter. */
  readonly seccompMode: number | undefined;
  /** Running inside an isolate sandbox (its init is pid 1 here). */
  readonly insideIsolate?: boolean;
  /** isolate runs in the initial user namespace (host.initialUserNs); undefined: assume so. */
  readonly initialUserNs?: boolean;
}

export interface Blocker {
  /** The knob, spelled as one sets it. */
  readonly knob: string;
  readonly why: string;
  readonly remedy: string;
}

const readNum = (path: string): number | undefined => {
  try {
    const n = Number.parseInt(nodeFs().readFileSync(path, "utf8").trim(), 10);
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
};

export function seccompModeOf(status: string): number | undefined {
  const m = /^Seccomp:\s*(\d+)$/m.exec(status);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

/** pid 1 of this pid namespace is an isolate sandbox's init. */
export function insideIsolate(): boolean {
  try {
    return nodeFs().readFileSync("/proc/1/cmdline", "latin1").startsWith("isolate-init");
  } catch {
    return false;
  }
}

export function readUsernsKnobs(): UsernsKnobs {
  let status = "";
  try {
    status = nodeFs().readFileSync("/proc/self/status", "utf8");
  } catch {}
  return {
    maxUserNamespaces: readNum("/proc/sys/user/max_user_namespaces"),
    unprivilegedUsernsClone: readNum("/proc/sys/kernel/unprivileged_userns_clone"),
    apparmorRestrict: readNum("/proc/sys/kernel/apparmor_restrict_unprivileged_userns"),
    seccompMode: seccompModeOf(status),
    insideIsolate: insideIsolate(),
    initialUserNs: inInitialUserNs(),
  };
}

export const BLOCKERS = {
  maxZero: {
    knob: "user.max_user_namespaces=0",
    why: "user namespaces are disabled (user.max_user_namespaces is 0)",
    remedy: "as root: sysctl -w user.max_user_namespaces=15000 (persist it in /etc/sysctl.d/)",
  },
  maxReached: (n: number) => ({
    knob: `user.max_user_namespaces=${n}`,
    why: `the limit of ${n} user namespaces (user.max_user_namespaces) is reached`,
    remedy: "as root: raise it, e.g. sysctl -w user.max_user_namespaces=15000",
  }),
  cloneSysctl: {
    knob: "kernel.unprivileged_userns_clone=0",
    why: "this kernel lets only root create user namespaces (kernel.unprivileged_userns_clone is 0)",
    remedy: "as root: sysctl -w kernel.unprivileged_userns_clone=1 (persist it in /etc/sysctl.d/)",
  },
  apparmor: {
    knob: "kernel.apparmor_restrict_unprivileged_userns=1",
    why: "AppArmor restricts unprivileged user namespaces (Ubuntu's kernel.apparmor_restrict_unprivileged_userns is 1)",
    remedy:
      "as root: sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or load an AppArmor profile for isolate that grants `userns,`",
  },
  seccomp: {
    knob: "seccomp filter",
    why: "isolate itself runs under a seccomp filter (an outer isolate's, or a container's default profile) that refuses new namespaces",
    remedy: `run the outer isolate with ${specField("allowNested")}; a container with a seccomp profile that allows clone3 and unshare (docker/podman --security-opt seccomp=unconfined); or run isolate on the host`,
  },
  maxZeroNested: {
    knob: "user.max_user_namespaces=0",
    why: "user namespaces are disabled here (user.max_user_namespaces is 0 in the user namespace isolate runs in, or in a parent of it)",
    remedy:
      "raise it where it was lowered: as root of that namespace, sysctl -w user.max_user_namespaces=15000 (a container runtime or the host sets it for its containers)",
  },
  nestedIsolate: {
    knob: specField("allowNested"),
    why: "isolate runs inside another isolate sandbox, whose seccomp filter refuses new namespaces",
    remedy: `give the outer isolate ${specField("allowNested")}`,
  },
} as const satisfies Record<string, Blocker | ((n: number) => Blocker)>;

const EPERM = 1;
const EACCES = 13;
const ENOSPC = 28;
const ENOSYS = 38;

const maxZero = (k: UsernsKnobs): Blocker => (k.initialUserNs === false ? BLOCKERS.maxZeroNested : BLOCKERS.maxZero);

const filterBlocker = (k: UsernsKnobs): Blocker => (k.insideIsolate ? BLOCKERS.nestedIsolate : BLOCKERS.seccomp);

/**
 * The likely cause of a failure to create a user namespace (or, for ENOSYS,
 * to clone at all), from the errno and the knobs; undefined when none fits.
 */
export function usernsBlocker(errno: number, k: UsernsKnobs, userns = true): Blocker | undefined {
  if (!userns) return (errno === ENOSYS || errno === EPERM) && k.seccompMode === 2 ? filterBlocker(k) : undefined;
  if (k.maxUserNamespaces === 0) return maxZero(k);
  if (errno === ENOSPC) return k.maxUserNamespaces === undefined ? undefined : BLOCKERS.maxReached(k.maxUserNamespaces);
  if (errno === ENOSYS) return k.seccompMode === 2 ? filterBlocker(k) : undefined;
  if (errno === EPERM || errno === EACCES) {
    if (k.unprivilegedUsernsClone === 0) return BLOCKERS.cloneSysctl;
    if (k.apparmorRestrict === 1) return BLOCKERS.apparmor;
    if (k.seccompMode === 2) return filterBlocker(k);
  }
  return undefined;
}

/** Every knob that is set against unprivileged user namespaces right now. */
export function usernsBlockersNow(k: UsernsKnobs): Blocker[] {
  const out: Blocker[] = [];
  if (k.maxUserNamespaces === 0) out.push(maxZero(k));
  if (k.unprivilegedUsernsClone === 0) out.push(BLOCKERS.cloneSysctl);
  if (k.apparmorRestrict === 1) out.push(BLOCKERS.apparmor);
  if (k.seccompMode === 2) out.push(filterBlocker(k));
  return out;
}

/** The message and hint for a spawn that failed creating namespaces. */
export function spawnBlockedError(errno: number, wantedUserNs: boolean, k: UsernsKnobs = readUsernsKnobs()) {
  const b = usernsBlocker(errno, k, wantedUserNs);
  if (!b) return undefined;
  const what = wantedUserNs ? "cannot create a user namespace" : "cannot create the sandbox's namespaces";
  return { message: `spawn: ${what}: ${b.why}`, hint: b.remedy };
}

/** For a setup op refused inside an unprivileged user namespace: " (why; remedy)" or "". */
export function setupBlockedHint(errno: number, k: UsernsKnobs = readUsernsKnobs()): string {
  if (errno !== EPERM && errno !== EACCES) return "";
  const b = usernsBlocker(errno, k);
  return b ? ` (${b.why}; ${b.remedy})` : "";
}
