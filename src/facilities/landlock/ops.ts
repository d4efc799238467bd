/**
 * Landlock: a second wall behind the mount view, in the command's process
 * (native/op_landlock.c), right after no_new_privs (before the command's ids and
 * capabilities change, so its paths open with the init's reach) and before
 * the seccomp filter.
 *
 * Filesystem: the ruleset handles only write-type rights (writing and
 * truncating files, making and removing entries, reparenting them, device
 * ioctls); reading and executing stay as the view allows. Writes are then
 * allowed only beneath what the view makes writable:
 *   - with a new mount namespace, from the compiled view ops: writable binds
 *     (the cwd, --bind, --dev-bind), tmpfs mounts that are not sealed (/tmp,
 *     /var/tmp, --tmpfs), overlays, the private /dev/shm; and in /dev only
 *     null, zero, full, tty and the private devpts (pts/*, ptmx). --dev-bind
 *     destinations and those /dev nodes also get device ioctls.
 *   - with the host's mount namespace (--share mount), where nothing is made
 *     writable by a view: the caller's directory, /tmp, /var/tmp, /dev/shm, and
 *     /dev/null, zero, full, tty. Not the host's /dev/pts: those are the host's
 *     terminals. Nor /proc: no sysctl writes.
 *   - the command's own stdio, when it holds it open for writing (so
 *     /dev/stdout can be reopened, on a file or a terminal outside the view).
 * /proc stays unwritable (oom_score_adj, uid_map of a nested namespace).
 *
 * Scopes (ABI 6): the command can neither signal nor connect to an abstract
 * unix socket of a process outside its Landlock domain. The init is outside
 * it (it is applied in the command's process), so the init can still signal
 * the command, but nothing inside can signal isolate, the init, or a host
 * process under --share pid, nor reach the host's abstract sockets under
 * --share net.
 *
 * Spec.landlock: "auto" (default) applies what the kernel has (nothing before
 * ABI 2, where renaming across directories would always fail); "on" needs the
 * whole wall (ABI 6, Linux 6.12) or the run is refused; "off" applies none.
 * With the host's pid namespace and the command under isolate's own host
 * uid, the command could signal isolate: that needs the signal scope, so it
 * is refused without it (ABI < 6, or "off"), whatever else was asked.
 */

import type { Spec } from "../../config/schema.ts";
import { HostError, field as specField } from "../../errors.ts";
import { quoteOs } from "../../host/bytes.ts";
import type { Host } from "../../host/probe.ts";
import { LL } from "../../plan/flags.ts";
import { type Op, op } from "../../plan/op.ts";
import type { Resolved } from "../../plan/resolve.ts";
import { within } from "../view/fields.ts";
import { VIEW } from "../view/ops.ts";

/** LANDLOCK_ACCESS_FS_* (linux/landlock.h), the write-type ones and the ABI that brought each. */
export const LL_FS = {
  WRITE_FILE: 1 << 1,
  REMOVE_DIR: 1 << 4,
  REMOVE_FILE: 1 << 5,
  MAKE_CHAR: 1 << 6,
  MAKE_DIR: 1 << 7,
  MAKE_REG: 1 << 8,
  MAKE_SOCK: 1 << 9,
  MAKE_FIFO: 1 << 10,
  MAKE_BLOCK: 1 << 11,
  MAKE_SYM: 1 << 12,
  REFER: 1 << 13, // ABI 2
  TRUNCATE: 1 << 14, // ABI 3
  IOCTL_DEV: 1 << 15, // ABI 5
} as const;

/** LANDLOCK_SCOPE_* (ABI 6). */
export const LL_SCOPE = { ABSTRACT_UNIX_SOCKET: 1 << 0, SIGNAL: 1 << 1 } as const;

/** The op's flags (src/plan/flags.ts). */
export const LL_STDIO = LL.STDIO;

/** The ABI that has everything isolate uses: what `landlock: "on"` needs. */
export const LANDLOCK_FULL_ABI = 6;
/** Below this, "auto" applies nothing: without REFER, every rename across directories fails. */
const LANDLOCK_MIN_ABI = 2;

/** The write-type rights this ABI knows. */
export function writeRights(abi: number): number {
  if (abi < 1) return 0;
  let m =
    LL_FS.WRITE_FILE |
    LL_FS.REMOVE_DIR |
    LL_FS.REMOVE_FILE |
    LL_FS.MAKE_CHAR |
    LL_FS.MAKE_DIR |
    LL_FS.MAKE_REG |
    LL_FS.MAKE_SOCK |
    LL_FS.MAKE_FIFO |
    LL_FS.MAKE_BLOCK |
    LL_FS.MAKE_SYM;
  if (abi >= 2) m |= LL_FS.REFER;
  if (abi >= 3) m |= LL_FS.TRUNCATE;
  if (abi >= 5) m |= LL_FS.IOCTL_DEV;
  return m;
}

export function scopes(abi: number): number {
  return abi >= 6 ? LL_SCOPE.ABSTRACT_UNIX_SOCKET | LL_SCOPE.SIGNAL : 0;
}

/** /dev nodes of the view that stay writable (and take ioctls): the rest (random, urandom) are read-only. */
const DEV_WRITABLE = ["null", "zero", "full", "tty"];

/** Where the caller's directory is not writable (the same rule as the view's cwd bind). */
const NO_CWD = ["/proc", "/dev", "/sys"];

interface Writable {
  readonly write: string[];
  readonly device: string[];
}

/** What the compiled view makes writable. */
function fromView(view: readonly Op[]): Writable {
  const write: string[] = [];
  const device: string[] = [];
  for (const o of view) {
    switch (o.op) {
      case "bind": {
        const flags = Number(o.args.flags);
        if (flags & VIEW.RO) break;
        (flags & VIEW.DEV ? device : write).push(o.args.dst);
        break;
      }
      case "tmpfs":
        if (!(Number(o.args.flags) & VIEW.SEAL)) write.push(o.args.dst);
        break;
      case "overlay":
        write.push(o.args.dst);
        break;
      case "mountDev": {
        const dev = o.args.dst;
        for (const n of o.args.nodes) if (DEV_WRITABLE.includes(n)) device.push(`${dev}/${n}`);
        device.push(`${dev}/pts`);
        if (Number(o.args.flags) & VIEW.SHM) write.push(`${dev}/shm`);
        break;
      }
    }
  }
  return { write, device };
}

/** With the host's mount namespace: the caller's directory and the usual scratch places. */
function hostWritable(host: Host): Writable {
  const cwd = host.cwd;
  const cwdOk = cwd !== "/" && !NO_CWD.some((d) => within(cwd, d));
  return {
    write: [...(cwdOk ? [cwd] : []), "/tmp", "/var/tmp", "/dev/shm"],
    device: DEV_WRITABLE.map((n) => `/dev/${n}`),
  };
}

export interface LandlockPlan {
  /** The kernel's ABI version (0: none). */
  readonly abi: number;
  /** Handled filesystem rights and scopes; both 0 when nothing is applied. */
  readonly fs: number;
  readonly scope: number;
  readonly write: readonly string[];
  readonly device: readonly string[];
  /** Why nothing is applied. */
  readonly skipped?: "off" | "unavailable" | "old-abi";
}

function abiText(abi: number): string {
  return abi === 0 ? "this kernel has no Landlock (or it is not enabled)" : `this kernel's Landlock is ABI ${abi}`;
}

/** The Landlock of a Spec on this host; throws where the Spec asks for what cannot be had. */
export function landlockPlan(r: Resolved, view: readonly Op[]): LandlockPlan {
  const { spec, host } = r;
  const abi = host.landlockAbi ?? 0;
  const fresh = r.namespaces;
  const mode = spec.landlock;
  if (mode === "on" && abi < LANDLOCK_FULL_ABI) {
    throw new HostError(
      `${specField("landlock", "on")}: ${abiText(abi)}; isolate's wall (writes, signals, abstract sockets) needs ABI ${LANDLOCK_FULL_ABI}`,
      `use Linux 6.12 or later with landlock in its lsm= list, or ${specField("landlock", "auto")} (what the kernel has)`,
    );
  }
  // --allow-nested: a domain that handles any file access forbids every mount (and the nested
  // sandbox's own id map writes), so only the scopes are kept.
  if (mode === "on" && spec.allowNested) {
    throw new HostError(
      `${specField("landlock", "on")}: ${specField("allowNested")} needs mounts and id map writes, which a Landlock domain restricting writes forbids`,
      `use ${specField("landlock", "auto")} with ${specField("allowNested")} (signals and abstract sockets stay scoped; the view stays read-only)`,
    );
  }
  const fs = mode === "off" || abi < LANDLOCK_MIN_ABI || spec.allowNested ? 0 : writeRights(abi);
  const scope = mode === "off" ? 0 : scopes(abi);
  // The pid namespace shared, as isolate's own uid: only the signal scope keeps isolate out of reach.
  if (!fresh.includes("pid") && r.identity.hostUid === host.uid && !(scope & LL_SCOPE.SIGNAL)) {
    throw new HostError(
      `${specField("share", "pid")}: the command would run as your uid among your processes and could signal isolate itself (and them); ${
        mode === "off" ? `${specField("landlock", "off")} removes the` : `${abiText(abi)}, without the`
      } signal scope (ABI ${LANDLOCK_FULL_ABI}) that prevents it`,
      host.root
        ? `drop ${specField("share", "pid")}, run the command as another uid (${specField("user")} UID), or keep Landlock on (Linux 6.12+)`
        : `drop ${specField("share", "pid")}, or keep Landlock on (Linux 6.12+)`,
    );
  }
  if (!fs && !scope) {
    const skipped = mode === "off" ? "off" : abi === 0 ? "unavailable" : "old-abi";
    return { abi, fs: 0, scope: 0, write: [], device: [], skipped };
  }
  const w = fresh.includes("mount") ? fromView(view) : hostWritable(host);
  return { abi, fs, scope, write: fs ? w.write : [], device: fs ? w.device : [] };
}

/** Command phase, right after no_new_privs (src/plan/compile.ts), before seccomp. */
export function landlockOps(r: Resolved, view: readonly Op[]): Op[] {
  const p = landlockPlan(r, view);
  if (p.skipped) return [];
  return [
    op("landlock", {
      fs: p.fs,
      scope: p.scope,
      write: [...new Set(p.write)],
      device: [...new Set(p.device)],
      flags: p.fs ? LL_STDIO : 0,
    }),
  ];
}

/** Landlock in the run report. */
export interface LandlockReport {
  /** Whether the command ran in a Landlock domain. */
  readonly applied: boolean;
  /** The kernel's ABI version; null when it has no Landlock. */
  readonly abi: number | null;
  /** What the domain restricts. */
  readonly restricts: readonly ("writes" | "truncate" | "device-ioctl" | "signals" | "abstract-unix-sockets")[];
  /** Why it was not applied: turned off, or the kernel lacks it (or has too old an ABI). */
  readonly reason?: "off" | "unavailable" | "old-abi";
}

/** The report of a compiled plan: from its landlock op, if any. */
export function landlockReport(spec: Spec, host: Host, ops: readonly Op[]): LandlockReport {
  const abi = host.landlockAbi ?? 0;
  const o = ops.find((x) => x.op === "landlock");
  if (o?.op !== "landlock") {
    const reason = spec.landlock === "off" ? "off" : abi === 0 ? "unavailable" : "old-abi";
    return { applied: false, abi: abi || null, restricts: [], reason };
  }
  const fs = Number(o.args.fs);
  const scope = Number(o.args.scope);
  const restricts: LandlockReport["restricts"][number][] = [];
  if (fs & LL_FS.WRITE_FILE) restricts.push("writes");
  if (fs & LL_FS.TRUNCATE) restricts.push("truncate");
  if (fs & LL_FS.IOCTL_DEV) restricts.push("device-ioctl");
  if (scope & LL_SCOPE.SIGNAL) restricts.push("signals");
  if (scope & LL_SCOPE.ABSTRACT_UNIX_SOCKET) restricts.push("abstract-unix-sockets");
  return { applied: true, abi, restricts };
}

/** The op in words, for `isolate plan`. */
export function describeLandlock(args: {
  fs: number | bigint;
  scope: number | bigint;
  write: readonly string[];
  device: readonly string[];
}): string {
  const parts: string[] = [];
  if (Number(args.fs)) {
    const paths = [...args.write.map(quoteOs), ...args.device.map((d) => `${quoteOs(d)} (+ioctl)`)];
    parts.push(`writes only beneath ${paths.length ? paths.join(", ") : "nothing"}`);
  }
  const scope = Number(args.scope);
  if (scope & LL_SCOPE.SIGNAL) parts.push("signals scoped to the sandbox");
  if (scope & LL_SCOPE.ABSTRACT_UNIX_SOCKET) parts.push("abstract unix sockets scoped to the sandbox");
  return `landlock: ${parts.join("; ")}`;
}
