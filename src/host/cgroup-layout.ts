/**
 * The cgroup layout as this process sees it, read-only: per controller,
 * whether it sits on cgroup v2, on a v1 hierarchy, or nowhere; where this
 * process's cgroup is; and whether it may create cgroups there (as root, or
 * through a delegated subtree it owns). For `isolate check`; it creates and
 * changes nothing. Where each controller is comes from src/cgroup/detect.ts,
 * the reader `exec` uses: one mountinfo parser, one decision.
 */
import {
  type CgroupTexts,
  CONTROLLERS,
  type Controller,
  detectCgroups,
  dirUnder,
  parseMountinfo,
  parseProcCgroup,
  readCgroupTexts,
  V1_NAME,
} from "../cgroup/detect.ts";
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

/** The isolate controller a /proc/cgroups name stands for (blkio is io). */
const isolateController = (name: string): Controller | undefined =>
  CONTROLLERS.find((c) => V1_NAME[c] === name || c === name);

/**
 * For `isolate check`: from the same reader and the same per-controller
 * decision (src/cgroup/detect.ts) as `exec`, plus what this user may do in
 * each place. Controllers isolate does not use (hugetlb, rdma...) follow
 * the same rule: the v2 root offers it, else the v1 hierarchy that has it.
 */
export function readCgroupLayout(
  uid = process.geteuid?.() ?? -1,
  texts: CgroupTexts = readCgroupTexts(),
): CgroupLayout {
  const layout = detectCgroups(texts);
  const mounts = parseMountinfo(texts.mountinfo);
  const member = parseProcCgroup(texts.procCgroup);
  const kernel = parseProcCgroups(read("/proc/cgroups"));
  const root = uid === 0;
  const access = (dir: string, procsFile: string) => {
    const writable = canWrite(dir);
    const delegated = !root && writable && ownedBy(dir, uid) && canWrite(`${dir}/${procsFile}`);
    return { writable, delegated };
  };

  let v2: CgroupLayout["v2"] = null;
  if (layout.v2) {
    const dir = layout.v2.dir;
    v2 = {
      mountPoint: layout.v2.mount,
      cgroup: layout.v2.own,
      dir,
      controllers: read(`${dir}/cgroup.controllers`).trim().split(/\s+/).filter(Boolean),
      ...access(dir, "cgroup.procs"),
    };
  }
  const v2Offered = new Set(layout.v2?.controllers ?? []);
  const onV2 = (name: string): ControllerLayout | undefined =>
    v2
      ? {
          controller: name,
          version: "v2",
          cgroup: v2.cgroup,
          dir: v2.dir,
          enabled: v2.controllers.includes(name),
          writable: v2.writable,
          delegated: v2.delegated,
        }
      : undefined;
  const onV1 = (name: string, cgroup: string, dir: string): ControllerLayout => ({
    controller: name,
    version: "v1",
    cgroup,
    dir,
    ...access(dir, "tasks"),
  });

  const controllers: ControllerLayout[] = [];
  for (const name of kernel) {
    const c = isolateController(name);
    if (c !== undefined) {
      // exec's own decision, for the controllers its limits use.
      const place = layout.controllers[c];
      const entry =
        place.version === 2
          ? onV2(c)
          : place.version === 1
            ? onV1(name, place.hierarchy.own, place.hierarchy.dir)
            : undefined;
      controllers.push(entry ?? { controller: c, version: "none", writable: false, delegated: false });
      continue;
    }
    const entry = v2Offered.has(name) ? onV2(name) : undefined;
    if (entry) {
      controllers.push(entry);
      continue;
    }
    const m = mounts.find((x) => x.fstype === "cgroup" && x.superOptions.includes(name));
    const own = member.v1.get(name);
    const dir = m && own !== undefined ? dirUnder(m, own) : null;
    if (m && own !== undefined && dir !== null) controllers.push(onV1(name, own, dir));
    else controllers.push({ controller: name, version: "none", writable: false, delegated: false });
  }
  // v2-only controllers /proc/cgroups may not list (e.g. misc on some kernels).
  for (const name of v2Offered) {
    if (controllers.some((c) => c.controller === name)) continue;
    const entry = onV2(name);
    if (entry) controllers.push(entry);
  }
  const hasV1 = mounts.some((m) => m.fstype === "cgroup" && m.superOptions.some((o) => kernel.includes(o)));
  const v2mount = mounts.some((m) => m.fstype === "cgroup2");
  const mode = v2mount ? (hasV1 ? "hybrid" : "v2") : hasV1 ? "v1" : "none";
  return { mode, v2, controllers };
}
