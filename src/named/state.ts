/**
 * Named sandboxes: their state, one JSON file per sandbox in a per-user
 * runtime directory, and liveness by pidfd.
 *
 * The directory (stateRoot()):
 *   - $XDG_RUNTIME_DIR/isolate when XDG_RUNTIME_DIR is set, absolute, a real
 *     directory (not a symlink) owned by the caller and closed to others (0700);
 *   - else /run/isolate for root;
 *   - else /run/user/UID/isolate when /run/user/UID is such a directory;
 *   - else /tmp/isolate-UID.
 * It is created 0700, and every use checks that it is a directory, not a
 * symlink, owned by the caller, with no access for group or others (an
 * existing one that fails this is refused, never repaired). Another user's
 * sandboxes are in their own directory, which the caller cannot read.
 *
 * Per sandbox NAME: NAME.json (the state, replaced atomically: write a temp
 * file, then rename), NAME.plan (the command half of its plan, for `enter`),
 * NAME.log (its stdout and stderr when detached). `.lock` serializes creating and removing names (flock).
 *
 * Liveness: a recorded process is {pid, start} (start: field 22 of
 * /proc/PID/stat). It is alive when pidfd_open(pid) succeeds and /proc/PID/stat
 * still shows that start time after the pidfd exists: the pidfd then refers to
 * that very process, never to a later one that reused its pid.
 */
import { HostError, SpecError, field as specField } from "../errors.ts";
import { nodeFs } from "../host/files.ts";
import { loadShim } from "../shim/load.ts";
import type { Result } from "../supervisor/result.ts";

export const STATE_VERSION = 1;
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export interface Proc {
  readonly pid: number;
  /** Start time in clock ticks since boot (/proc/PID/stat field 22). */
  readonly start: number;
}

export interface EnterTemplate {
  /** The ops of NAME.plan, by name, for error messages. */
  readonly ops: readonly string[];
  /** The sandbox command's PATH (searched inside) and environment. */
  readonly path: string;
  readonly env: readonly string[];
}

export interface NamedState {
  readonly version: number;
  readonly name: string;
  readonly uid: number;
  readonly phase: "starting" | "running" | "exited";
  readonly detached: boolean;
  /** The process that owns the sandbox: its supervisor. */
  readonly monitor: Proc;
  /** The sandbox's init (pid 1 of its pid namespace), once started. */
  readonly init: Proc | null;
  readonly createdMs: number;
  readonly command: readonly string[];
  /** The namespaces the sandbox has of its own. */
  readonly namespaces: readonly string[];
  /** Its cgroup directories (host paths under /sys/fs/cgroup). */
  readonly cgroups: readonly string[];
  readonly enter: EnterTemplate | null;
  /** Its user namespace's id maps (uid_map, gid_map text), when it has one: who joins it takes these ids. */
  readonly idmap?: string;
  readonly result?: Result;
}

export function checkName(name: string): string {
  if (!NAME_RE.test(name)) {
    throw new SpecError(
      `${specField("name", name)}: not a valid sandbox name`,
      "1 to 63 characters: letters, digits, '_', '.', '-'; the first a letter or digit",
    );
  }
  return name;
}

const uid = () => process.getuid?.() ?? 0;

function usableDir(path: string): boolean {
  try {
    const st = nodeFs().lstatSync(path);
    return st.isDirectory() && st.uid === uid() && (st.mode & 0o077) === 0;
  } catch {
    return false;
  }
}

let root: string | undefined;

/** Where the caller's state directory is (whether or not it exists yet). */
function stateBase(): string {
  const me = uid();
  const xdg = process.env.XDG_RUNTIME_DIR;
  if (xdg?.startsWith("/") && usableDir(xdg)) return `${xdg}/isolate`;
  if (me === 0) return "/run/isolate";
  if (usableDir(`/run/user/${me}`)) return `/run/user/${me}/isolate`;
  return `/tmp/isolate-${me}`;
}

/** Whether the caller has a state directory at all (ps and clean make none). */
export function hasStateRoot(): boolean {
  if (root !== undefined) return true;
  try {
    nodeFs().lstatSync(stateBase());
    return true;
  } catch {
    return false;
  }
}

/** The caller's state directory, created when missing and checked every time it is resolved. */
export function stateRoot(): string {
  if (root !== undefined) return root;
  const me = uid();
  const base = stateBase();
  const fs = nodeFs();
  try {
    fs.mkdirSync(base, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") {
      throw new HostError(`state directory ${base}: ${(e as Error).message}`);
    }
  }
  let st: ReturnType<typeof fs.lstatSync>;
  try {
    st = fs.lstatSync(base);
  } catch (e) {
    throw new HostError(`state directory ${base}: ${(e as Error).message}`);
  }
  if (!st.isDirectory() || st.isSymbolicLink()) throw new HostError(`state directory ${base}: not a directory`);
  if (st.uid !== me) throw new HostError(`state directory ${base}: owned by uid ${st.uid}, not by the caller (${me})`);
  if ((st.mode & 0o077) !== 0) {
    throw new HostError(
      `state directory ${base}: open to other users (mode ${(st.mode & 0o777).toString(8)})`,
      "it must be 0700",
    );
  }
  root = base;
  return base;
}

export const fileOf = (name: string, ext: "json" | "plan" | "log") => `${stateRoot()}/${name}.${ext}`;

/** Write a file atomically (temp file, then rename), mode 0600. */
export function writeAtomic(path: string, data: string | Uint8Array): void {
  const fs = nodeFs();
  const tmp = `${path}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, data, { mode: 0o600, flag: "w" });
  fs.renameSync(tmp, path);
}

function readRegular(path: string): Buffer | undefined {
  const fs = nodeFs();
  let fd: number;
  try {
    fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.uid !== uid()) return undefined;
    return fs.readFileSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export function readState(name: string): NamedState | undefined {
  const b = readRegular(fileOf(name, "json"));
  if (!b) return undefined;
  try {
    const s = JSON.parse(b.toString("utf8")) as NamedState;
    if (s.version !== STATE_VERSION || s.name !== name || typeof s.monitor?.pid !== "number") return undefined;
    return s;
  } catch {
    return undefined;
  }
}

export function writeState(s: NamedState): void {
  writeAtomic(fileOf(s.name, "json"), `${JSON.stringify(s, null, 1)}\n`);
}

export function readPlan(name: string): Uint8Array | undefined {
  return readRegular(fileOf(name, "plan"));
}

/** Every sandbox name with a state file. */
export function listNames(): string[] {
  let entries: string[];
  if (!hasStateRoot()) return [];
  const dir = stateRoot();
  try {
    entries = nodeFs().readdirSync(dir);
  } catch {
    return [];
  }
  return entries
    .filter((f) => f.endsWith(".json"))
    .map((f) => f.slice(0, -5))
    .filter((n) => NAME_RE.test(n))
    .sort();
}

/** Remove every file of a sandbox. */
export function removeFiles(name: string): void {
  const fs = nodeFs();
  for (const ext of ["json", "plan", "log"] as const) {
    try {
      fs.unlinkSync(fileOf(name, ext));
    } catch {}
  }
}

/** Run fn holding the directory's lock (flock LOCK_EX on .lock). */
export function withLock<T>(fn: () => T): T {
  const shim = loadShim();
  const fs = nodeFs();
  const path = `${stateRoot()}/.lock`;
  const fd = fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW, 0o600);
  try {
    const rc = shim.named.flock(fd, 2);
    if (rc < 0) throw new HostError(`lock ${path}: errno ${-rc}`);
    return fn();
  } finally {
    fs.closeSync(fd);
  }
}

/** Field 22 of /proc/PID/stat, or undefined. */
export function startTime(pid: number): number | undefined {
  const text = loadShim().readFile(`/proc/${pid}/stat`);
  if (typeof text !== "string") return undefined;
  const close = text.lastIndexOf(")");
  const fields = text.slice(close + 2).split(" ");
  // A zombie has ended: only its parent's wait is missing.
  if (fields[0] === "Z" || fields[0] === "X") return undefined;
  // After "pid (comm) ", field 3 (state) is index 0: field 22 is index 19.
  const v = Number(fields[19]);
  return Number.isFinite(v) ? v : undefined;
}

export function procOf(pid: number): Proc {
  return { pid, start: startTime(pid) ?? -1 };
}

/** A pidfd of the recorded process if it is still that process (see the top), else null. */
export function openProc(p: Proc | null): number | null {
  if (!p || p.pid <= 0) return null;
  const shim = loadShim();
  const fd = shim.named.pidfdOpen(p.pid);
  if (fd < 0) return null;
  if (startTime(p.pid) !== p.start) {
    shim.close(fd);
    return null;
  }
  return fd;
}

/**
 * A pidfd of the sandbox's init, checked against more than its state file
 * says (a state file is data, and data can be wrong): the process must be
 * the recorded one (pid and start time), named isolate-init, and a child of
 * the recorded monitor, itself alive. Else null.
 */
const INIT_COMMS = ["memfd:isolate-i", "isolate-init", "6"];

export function openInit(s: NamedState): number | null {
  if (!s.init || !procAlive(s.monitor)) return null;
  const fd = openProc(s.init);
  if (fd === null) return null;
  const stat = loadShim().readFile(`/proc/${s.init.pid}/stat`);
  const open = typeof stat === "string" ? stat.indexOf("(") : -1;
  const close = typeof stat === "string" ? stat.lastIndexOf(")") : -1;
  const comm = typeof stat === "string" ? stat.slice(open + 1, close) : "";
  const ppid = typeof stat === "string" ? Number(stat.slice(close + 2).split(" ")[1]) : -1;
  // The init runs from a memfd named isolate-init: the kernel names it after the memfd (15 bytes).
  if (!INIT_COMMS.includes(comm) || ppid !== s.monitor.pid) {
    loadShim().close(fd);
    return null;
  }
  return fd;
}

export function procAlive(p: Proc | null): boolean {
  const fd = openProc(p);
  if (fd === null) return false;
  loadShim().close(fd);
  return true;
}

export type Liveness = "running" | "starting" | "exited" | "dead";

/** running/starting: its monitor lives; exited: it ended and has a report; dead: its monitor died without one. */
export function liveness(s: NamedState): Liveness {
  if (s.phase === "exited" && s.result) return "exited";
  if (!procAlive(s.monitor)) return "dead";
  return s.phase === "running" ? "running" : "starting";
}
