/**
 * What resolving a Spec (src/plan/resolve.ts) needs to know about the caller. Reads no files up
 * front (but /proc/self/cwd when the directory's name is not UTF-8): it runs
 * on every spawn, and `isolate plan` must create and load nothing.
 * `initialUserNs` is read on first use only (one small /proc file).
 */
import { landlockAbi } from "../shim/landlock-abi.ts";
import { rawCwd } from "./bytes.ts";
import { nodeFs } from "./files.ts";

export interface Host {
  readonly uid: number;
  readonly gid: number;
  /**
   * uid 0 holding CAP_SYS_ADMIN, CAP_SETUID and CAP_SETGID in isolate's own
   * user namespace (the initial one's: host root; or a container's). uid 0
   * without them (inside another sandbox, say) can do no more than any user
   * and is planned like one: its namespaces go in a new user namespace.
   */
  readonly root: boolean;
  /**
   * isolate runs in the initial user namespace (/proc/self/uid_map is the
   * full identity "0 0 4294967295"). False inside a container's or
   * `unshare -U`'s user namespace: there even root owns only what is mapped,
   * and the parent namespace locks its mounts' flags and its sysctls.
   */
  readonly initialUserNs: boolean;
  /** The caller's environment, for --env NAME pass-through and --inherit-env. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The caller's working directory, byte for byte (an OS string, src/host/bytes.ts). */
  readonly cwd: string;
  /** The kernel's Landlock ABI version (0: none). Absent: not probed, taken as none. */
  readonly landlockAbi?: number;
}

/** A reader for small /proc files that does not load node:fs (the shim's, once it is loaded). */
let procReader: ((path: string) => string | undefined) | undefined;

export function setProcReader(read: (path: string) => string | undefined): void {
  procReader = read;
}

function readProc(path: string): string | undefined {
  if (procReader) return procReader(path);
  try {
    return nodeFs().readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** "0 0 4294967295" (any spacing): the identity map of the initial user namespace. */
export function isInitialUidMap(text: string | undefined): boolean {
  if (text === undefined) return true; // no user namespaces in this kernel: only the initial one
  const lines = text.trim().split("\n");
  return lines.length === 1 && /^\s*0\s+0\s+4294967295\s*$/.test(lines[0] ?? "");
}

/** CAP_SETGID, CAP_SETUID, CAP_SYS_ADMIN. */
const ROOT_CAPS = (1n << 6n) | (1n << 7n) | (1n << 21n);

/** Whether CapEff in /proc/self/status holds what root's plan needs. */
export function hasRootCaps(status: string | undefined): boolean {
  const m = status === undefined ? null : /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
  if (!m?.[1]) return true; // cannot tell: plan as root, and let the kernel say no
  return (BigInt(`0x${m[1]}`) & ROOT_CAPS) === ROOT_CAPS;
}

export interface IdMapLine {
  readonly inside: number;
  readonly outside: number;
  readonly count: number;
}

export function parseIdMap(text: string | undefined): IdMapLine[] {
  const out: IdMapLine[] = [];
  for (const line of (text ?? "").split("\n")) {
    const f = line.trim().split(/\s+/).map(Number);
    if (f.length === 3 && f.every(Number.isInteger))
      out.push({ inside: f[0] ?? 0, outside: f[1] ?? 0, count: f[2] ?? 0 });
  }
  return out;
}

const maps: Partial<Record<"uid" | "gid", IdMapLine[]>> = {};

/** The map of isolate's own user namespace (its ids as the parent sees them). */
export function ownIdMap(kind: "uid" | "gid"): readonly IdMapLine[] {
  maps[kind] ??= parseIdMap(readProc(`/proc/self/${kind}_map`));
  return maps[kind];
}

/** Whether id (in isolate's own namespace) is mapped there, i.e. exists for the kernel. */
export function idMappedHere(kind: "uid" | "gid", id: number): boolean {
  return ownIdMap(kind).some((l) => id >= l.inside && id < l.inside + l.count);
}

let setgroups: boolean | undefined;

/** Whether setgroups(2) is allowed in isolate's own user namespace (a parent wrote "deny": never again). */
export function setgroupsAllowed(): boolean {
  setgroups ??= (readProc("/proc/self/setgroups") ?? "allow").trim() !== "deny";
  return setgroups;
}

let initial: boolean | undefined;

/** Whether this process is in the initial user namespace (a process cannot leave its own: read once). */
export function inInitialUserNs(): boolean {
  initial ??= isInitialUidMap(readProc("/proc/self/uid_map"));
  return initial;
}

/**
 * The host facts a plan depends on (root or not, user namespaces, cgroups, the
 * working directory...), read once per call.
 *
 * @example
 * const ops = compilePlan(parseSpec({ command: ["true"] }), probeHost());
 */
export function probeHost(): Host {
  const uid = process.geteuid?.() ?? -1;
  const gid = process.getegid?.() ?? -1;
  return {
    uid,
    gid,
    root: uid === 0 && hasRootCaps(readProc("/proc/self/status")),
    get initialUserNs() {
      return inInitialUserNs();
    },
    env: process.env,
    cwd: rawCwd(),
    landlockAbi: landlockAbi(),
  };
}
