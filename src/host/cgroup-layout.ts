/**
 * The cgroup layout as this process sees it, read-only: per controller,
 * whether it sits on cgroup v2, on a v1 hierarchy, or nowhere; where this
 * process's cgroup is; and whether it may create cgroups there (as root, or
 * through a delegated subtree it owns). For `isolate check`; it creates and
 * changes nothing.
 */
import { nodeFs } from "./files.ts";

export interface CgroupMount {
  readonly version: "v1" | "v2";
  /** Where it is mounted. */
  readonly mountPoint: string;
  /** The hierarchy path that mount shows at its top (not "/" inside a cgroup namespace). */
  readonly root: string;
  /** v1: the controllers bound to it (and name=... for named hierarchies). */
  readonly options: readonly string[];
}

export interface ControllerLayout {
  readonly controller: string;
  readonly version: "v2" | "v1" | "none";
  /** This process's cgroup in that hierarchy. */
  readonly cgroup?: string;
  /** That cgroup's directory. */
  readonly dir?: string;
  /** v2: whether the controller is enabled for this process's cgroup (its cgroup.controllers). */
  readonly enabled?: boolean;
  /** Can this process create a cgroup under `dir`? */
  readonly writable: boolean;
  /** Not root, yet owns `dir` with cgroup.procs writable: a delegated subtree. */
  readonly delegated: boolean;
}

export interface CgroupLayout {
  /** "v2": unified only; "v1": legacy only; "hybrid": both; "none": no cgroup fs mounted. */
  readonly mode: "v2" | "v1" | "hybrid" | "none";
  readonly v2: {
    readonly mountPoint: string;
    readonly cgroup: string;
    readonly dir: string;
    /** Controllers this process's cgroup offers (cgroup.controllers). */
    readonly controllers: readonly string[];
    readonly writable: boolean;
    readonly delegated: boolean;
  } | null;
  readonly controllers: readonly ControllerLayout[];
}

/** mountinfo escapes space, tab, newline and backslash as \\ooo. */
const octalUnescape = (s: string) =>
  s.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));

/** mountinfo fields: id parent major:minor root mountpoint options [optional...] - fstype source superoptions */
export function parseCgroupMounts(mountinfo: string): CgroupMount[] {
  const out: CgroupMount[] = [];
  for (const line of mountinfo.split("\n")) {
    const dash = line.indexOf(" - ");
    if (dash < 0) continue;
    const left = line.slice(0, dash).split(" ");
    const right = line.slice(dash + 3).split(" ");
    const fstype = right[0];
    if (fstype !== "cgroup" && fstype !== "cgroup2") continue;
    out.push({
      version: fstype === "cgroup2" ? "v2" : "v1",
      root: octalUnescape(left[3] ?? "/"),
      mountPoint: octalUnescape(left[4] ?? ""),
      options: (right[2] ?? "").split(","),
    });
  }
  return out;
}

/** /proc/self/cgroup: hierarchy id -> [controllers, path]; v2 is "0::PATH". */
export function parseProcCgroup(text: string): { controllers: string[]; path: string }[] {
  const out: { controllers: string[]; path: string }[] = [];
  for (const line of text.split("\n")) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    out.push({ controllers: m[2] ? (m[2] ?? "").split(",") : [], path: m[3] ?? "/" });
  }
  return out;
}

/** /proc/cgroups: the controllers this kernel has (enabled ones). */
export function parseProcCgroups(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || !line.trim()) continue;
    const [name, , , enabled] = line.split(/\s+/);
    if (name && enabled === "1") out.push(name);
  }
  return out;
}

/** The v2 name of a controller /proc/cgroups lists by its v1 name. */
const V2_NAME: Record<string, string> = { blkio: "io" };

function dirOf(mount: CgroupMount, path: string): string {
  const rel = mount.root !== "/" && path.startsWith(mount.root) ? path.slice(mount.root.length) : path;
  return `${mount.mountPoint}${rel === "/" ? "" : rel}`.replace(/\/+$/, "") || "/";
}

function canWrite(path: string): boolean {
  try {
    nodeFs().accessSync(path, nodeFs().constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function ownedBy(path: string, uid: number): boolean {
  try {
    return nodeFs().statSync(path).uid === uid;
  } catch {
    return false;
  }
}

const read = (path: string): string => {
  try {
    return nodeFs().readFileSync(path, "utf8");
  } catch {
    return "";
  }
};

export function readCgroupLayout(uid = process.geteuid?.() ?? -1): CgroupLayout {
  const mounts = parseCgroupMounts(read("/proc/self/mountinfo"));
  const mine = parseProcCgroup(read("/proc/self/cgroup"));
  const kernel = parseProcCgroups(read("/proc/cgroups"));
  const root = uid === 0;
  const access = (dir: string, procsFile: string) => {
    const writable = canWrite(dir);
    const delegated = !root && writable && ownedBy(dir, uid) && canWrite(`${dir}/${procsFile}`);
    return { writable, delegated };
  };

  const v2mount = mounts.find((m) => m.version === "v2");
  const v2path = mine.find((c) => c.controllers.length === 0 && c.path !== undefined)?.path;
  let v2: CgroupLayout["v2"] = null;
  if (v2mount && v2path !== undefined) {
    const dir = dirOf(v2mount, v2path);
    v2 = {
      mountPoint: v2mount.mountPoint,
      cgroup: v2path,
      dir,
      controllers: read(`${dir}/cgroup.controllers`).trim().split(/\s+/).filter(Boolean),
      ...access(dir, "cgroup.procs"),
    };
  }
  const v2Offered = new Set(v2 ? read(`${v2.mountPoint}/cgroup.controllers`).trim().split(/\s+/).filter(Boolean) : []);

  const controllers: ControllerLayout[] = [];
  for (const name of kernel) {
    const v1 = mounts.find((m) => m.version === "v1" && m.options.includes(name));
    if (v1) {
      const entry = mine.find((c) => c.controllers.includes(name));
      const cgroup = entry?.path ?? "/";
      const dir = dirOf(v1, cgroup);
      controllers.push({ controller: name, version: "v1", cgroup, dir, ...access(dir, "tasks") });
      continue;
    }
    const v2name = V2_NAME[name] ?? name;
    if (v2 && v2Offered.has(v2name)) {
      controllers.push({
        controller: v2name,
        version: "v2",
        cgroup: v2.cgroup,
        dir: v2.dir,
        enabled: v2.controllers.includes(v2name),
        writable: v2.writable,
        delegated: v2.delegated,
      });
      continue;
    }
    controllers.push({ controller: name, version: "none", writable: false, delegated: false });
  }
  // v2-only controllers /proc/cgroups may not list (e.g. misc on some kernels).
  for (const name of v2Offered) {
    if (controllers.some((c) => c.controller === name)) continue;
    if (!v2) break;
    controllers.push({
      controller: name,
      version: "v2",
      cgroup: v2.cgroup,
      dir: v2.dir,
      enabled: v2.controllers.includes(name),
      writable: v2.writable,
      delegated: v2.delegated,
    });
  }
  const hasV1 = mounts.some((m) => m.version === "v1" && m.options.some((o) => kernel.includes(o)));
  const mode = v2mount ? (hasV1 ? "hybrid" : "v2") : hasV1 ? "v1" : "none";
  return { mode, v2, controllers };
}
