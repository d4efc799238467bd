/**
 * Where each cgroup controller lives, decided per controller: cgroup2 being
 * mounted says nothing about which controllers it has (a hybrid host may
 * have only hugetlb on v2 while memory, cpu and pids are on v1).
 *
 * The parsers are pure (unit-tested on text); detectCgroups() feeds them
 * /proc/self/mountinfo, /proc/self/cgroup and the v2 root's cgroup.controllers.
 */
import { nodeFs } from "../host/files.ts";

/** The controllers isolate uses. cpuacct and freezer are core features of v2. */
export type Controller = "memory" | "cpu" | "cpuacct" | "cpuset" | "pids" | "io" | "freezer";
export const CONTROLLERS: readonly Controller[] = ["memory", "cpu", "cpuacct", "cpuset", "pids", "io", "freezer"];

/** A controller's name on v1 where it differs. */
export const V1_NAME: Record<Controller, string> = {
  memory: "memory",
  cpu: "cpu",
  cpuacct: "cpuacct",
  cpuset: "cpuset",
  pids: "pids",
  io: "blkio",
  freezer: "freezer",
};

/** Built into every v2 cgroup: cpu.stat usage, cgroup.kill / cgroup.freeze. */
const V2_CORE: readonly Controller[] = ["cpuacct", "freezer"];

export interface Hierarchy {
  readonly version: 1 | 2;
  /** v1: the controllers bound to it; v2: those its root offers. */
  readonly controllers: readonly string[];
  readonly mount: string;
  /** The supervisor's cgroup, as a path inside the hierarchy ("/a/b"). */
  readonly own: string;
  /** The supervisor's cgroup directory (mount + own, relative to the mount's root). */
  readonly dir: string;
}

export type Place =
  | { readonly version: 1 | 2; readonly hierarchy: Hierarchy }
  | { readonly version: 0; readonly why: string };

export interface CgroupLayout {
  readonly v2: Hierarchy | null;
  readonly v1: readonly Hierarchy[];
  readonly controllers: Readonly<Record<Controller, Place>>;
}

export interface MountEntry {
  readonly root: string;
  readonly mountpoint: string;
  readonly fstype: string;
  readonly superOptions: readonly string[];
}

const unescapeOctal = (s: string) =>
  s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));

/** cgroup and cgroup2 mounts from /proc/self/mountinfo text. */
export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split("\n")) {
    const f = line.split(" ");
    const dash = f.indexOf("-");
    if (dash < 6 || f.length < dash + 4) continue;
    const fstype = f[dash + 1] ?? "";
    if (fstype !== "cgroup" && fstype !== "cgroup2") continue;
    out.push({
      root: unescapeOctal(f[3] ?? "/"),
      mountpoint: unescapeOctal(f[4] ?? ""),
      fstype,
      superOptions: (f[dash + 3] ?? "").split(","),
    });
  }
  return out;
}

export interface Membership {
  /** v2 path, or null when the line is absent. */
  readonly v2: string | null;
  /** v1: controller (or name=...) -> path. */
  readonly v1: ReadonlyMap<string, string>;
}

/** /proc/self/cgroup text. */
export function parseProcCgroup(text: string): Membership {
  let v2: string | null = null;
  const v1 = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    const [, id, list = "", path = ""] = m;
    if (id === "0" && list === "") v2 = path;
    else for (const c of list.split(",")) if (c) v1.set(c, path);
  }
  return { v2, v1 };
}

/** The directory of `own` under a mount of root `root`, or null when the mount does not show it. */
export function dirUnder(mount: MountEntry, own: string): string | null {
  const root = mount.root === "/" ? "" : mount.root;
  if (own !== root && !own.startsWith(`${root}/`) && root !== "") return null;
  const rel = own.slice(root.length);
  return rel === "/" || rel === "" ? mount.mountpoint : `${mount.mountpoint}${rel}`;
}

const V1_NAMES = new Set(Object.values(V1_NAME));

/**
 * The layout from the three texts. `v2RootControllers` is the content of
 * cgroup.controllers at the root of the cgroup2 mount ("" when unmounted).
 */
export function layoutFrom(mountinfo: string, procCgroup: string, v2RootControllers: string): CgroupLayout {
  const mounts = parseMountinfo(mountinfo);
  const member = parseProcCgroup(procCgroup);
  // Prefer the conventional mount points when a hierarchy is mounted twice.
  const ordered = [...mounts].sort(
    (a, b) => Number(!a.mountpoint.startsWith("/sys/fs/cgroup")) - Number(!b.mountpoint.startsWith("/sys/fs/cgroup")),
  );

  let v2: Hierarchy | null = null;
  if (member.v2 !== null) {
    for (const m of ordered) {
      if (m.fstype !== "cgroup2") continue;
      const dir = dirUnder(m, member.v2);
      if (dir === null) continue;
      v2 = {
        version: 2,
        controllers: v2RootControllers.split(/\s+/).filter(Boolean),
        mount: m.mountpoint,
        own: member.v2,
        dir,
      };
      break;
    }
  }

  const v1: Hierarchy[] = [];
  for (const m of ordered) {
    if (m.fstype !== "cgroup") continue;
    const controllers = m.superOptions.filter((o) => V1_NAMES.has(o));
    if (controllers.length === 0) continue;
    if (v1.some((h) => h.controllers.includes(controllers[0] ?? ""))) continue;
    const own = member.v1.get(controllers[0] ?? "");
    if (own === undefined) continue;
    const dir = dirUnder(m, own);
    if (dir === null) continue;
    v1.push({ version: 1, controllers, mount: m.mountpoint, own, dir });
  }

  const controllers = {} as Record<Controller, Place>;
  for (const c of CONTROLLERS) {
    const onV1 = v1.find((h) => h.controllers.includes(V1_NAME[c]));
    if (v2?.controllers.includes(c)) controllers[c] = { version: 2, hierarchy: v2 };
    else if (onV1) controllers[c] = { version: 1, hierarchy: onV1 };
    else if (v2 && V2_CORE.includes(c)) controllers[c] = { version: 2, hierarchy: v2 };
    else
      controllers[c] = {
        version: 0,
        why: v2
          ? `the ${c} controller is neither enabled on cgroup v2 (${v2.mount} offers: ${v2.controllers.join(" ") || "none"}) nor mounted as a v1 hierarchy`
          : `no cgroup v2 is mounted and no v1 hierarchy has the ${c} controller`,
      };
  }
  return { v2, v1, controllers };
}

function read(path: string): string {
  try {
    return nodeFs().readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** The texts the layout is made of, read once: what `check` and `exec` both read. */
export interface CgroupTexts {
  readonly mountinfo: string;
  readonly procCgroup: string;
  /** cgroup.controllers at the root of the cgroup2 mount ("" when unmounted). */
  readonly v2RootControllers: string;
}

/** This process's cgroup texts, now. */
export function readCgroupTexts(): CgroupTexts {
  const mountinfo = read("/proc/self/mountinfo");
  const procCgroup = read("/proc/self/cgroup");
  const v2mount = parseMountinfo(mountinfo).find((m) => m.fstype === "cgroup2");
  const v2RootControllers = v2mount ? read(`${v2mount.mountpoint}/cgroup.controllers`) : "";
  return { mountinfo, procCgroup, v2RootControllers };
}

/**
 * The layout of this process, now (its own cgroups can change: nothing is
 * cached). The one reader of the host's cgroups: `exec` places its limits
 * with it, and `isolate check` (src/host/cgroup-layout.ts) reports from it,
 * so both say the same of every controller.
 */
export function detectCgroups(texts: CgroupTexts = readCgroupTexts()): CgroupLayout {
  return layoutFrom(texts.mountinfo, texts.procCgroup, texts.v2RootControllers);
}
