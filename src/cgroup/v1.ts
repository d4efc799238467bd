/**
 * The cgroup v1 backend: one directory per hierarchy the sandbox needs
 * (co-mounted controllers share one), created under the supervisor's own
 * cgroup in that hierarchy. The init is placed by pid, before it is released
 * to run anything; the tree is killed through the freezer when there is one,
 * else by killing every member until the group is empty.
 */

import { CgroupError, field as specField } from "../errors.ts";
import type { LimitField } from "../facilities/limits/fields.ts";
import { errnoName } from "../host/errno.ts";
import { nodeFs } from "../host/files.ts";
import { inInitialUserNs, ownIdMap } from "../host/probe.ts";
import { applyWrites } from "./apply.ts";
import { type Controller, type Hierarchy, V1_NAME } from "./detect.ts";
import { errnoCode, errnoWords, readText, removeCgroupDir, removeCgroupDirNow, sleep, writeValue } from "./files.ts";
import type { CgroupGroup } from "./group.ts";
import { type CgroupUsage, parseKeyed, parseNumber, parsePids } from "./stats.ts";
import type { CgroupWrite } from "./writes.ts";

/** A controller to set up: the limit that needs it, or none when it only serves accounting or killing. */
export interface V1Need {
  readonly hierarchy: Hierarchy;
  readonly limit: LimitField | undefined;
}

export function noAccessFix(dir: string): string {
  const uid = process.geteuid?.() ?? -1;
  if (!inInitialUserNs()) {
    // In a container's or unshare's user namespace the cgroups belong to the parent.
    const l = ownIdMap("uid").find((x) => uid >= x.inside && uid < x.inside + x.count);
    const outside = l === undefined ? "your uid outside" : String(l.outside + (uid - l.inside));
    return `isolate runs in a user namespace and the parent namespace owns ${dir}: have it delegate a cgroup (on the host: chown -R ${outside} ${dir}; a cgroup v2 subtree with Delegate=yes; or a container runtime's cgroup delegation), or set the limits on the container itself`;
  }
  return uid === 0
    ? `the cgroup file system at ${dir} is read-only or not ours: mount cgroups writable`
    : `run as root, or delegate ${dir} to uid ${uid} (chown -R ${uid} ${dir})`;
}

/** mkdir a sandbox cgroup; a stale empty one of the same name (pid reuse) is replaced. */
export function makeCgroupDir(dir: string, limit: LimitField | undefined, what: string): boolean {
  for (let attempt = 0; ; attempt++) {
    try {
      nodeFs().mkdirSync(dir);
      return true;
    } catch (e) {
      const code = errnoCode(e);
      if (code === "EEXIST" && attempt === 0 && removeCgroupDirNow(dir) === null) continue;
      if (limit === undefined) return false;
      const parent = dir.slice(0, dir.lastIndexOf("/"));
      const why =
        code === "EACCES" || code === "EPERM" || code === "EROFS"
          ? `no write access to ${parent} (${what})`
          : `cannot create ${dir} (${what}): ${errnoWords(code)}`;
      throw new CgroupError(`${specField(`limits.${limit}`)}: cannot be enforced: ${why}`, noAccessFix(parent));
    }
  }
}

/** A placement write (a cgroup.procs file) failed with errno. */
export function placementError(procsFile: string, errno: number): CgroupError {
  const dir = procsFile.slice(0, procsFile.lastIndexOf("/"));
  return new CgroupError(
    `cannot place the sandbox in ${dir}: ${errnoWords(errnoName(errno))}`,
    noAccessFix(dir.slice(0, dir.lastIndexOf("/"))),
  );
}

/** A cgroup file holding the sandbox's CPU usage: a number of ns (v1), or cpu.stat (v2). */
export interface CpuCounter {
  readonly path: string;
  readonly unit: "ns" | "cpu.stat";
}

export class V1Group implements CgroupGroup {
  readonly version = 1 as const;

  private constructor(
    readonly controllers: readonly Controller[],
    private readonly dirs: ReadonlyMap<Controller, string>,
    readonly paths: readonly string[],
  ) {}

  static create(name: string, needs: ReadonlyMap<Controller, V1Need>, writes: readonly CgroupWrite[]): V1Group {
    const byHierarchy = new Map<Hierarchy, string | null>();
    const dirs = new Map<Controller, string>();
    const paths: string[] = [];
    try {
      // Limits first, so that a failing optional controller never hides a required one's error.
      const ordered = [...needs].sort(([, a], [, b]) => Number(a.limit === undefined) - Number(b.limit === undefined));
      for (const [c, need] of ordered) {
        let dir = byHierarchy.get(need.hierarchy);
        if (dir === undefined) {
          const want = `${need.hierarchy.dir}/${name}`;
          dir = makeCgroupDir(want, need.limit, `cgroup v1 ${V1_NAME[c]}`) ? want : null;
          if (dir) paths.push(dir);
          byHierarchy.set(need.hierarchy, dir);
        }
        if (dir) dirs.set(c, dir);
        else if (need.limit !== undefined) makeCgroupDir(`${need.hierarchy.dir}/${name}`, need.limit, V1_NAME[c]);
      }
      applyWrites(writes, (c) => dirs.get(c) ?? "");
    } catch (e) {
      for (const p of [...paths].reverse()) removeCgroupDirNow(p);
      throw e;
    }
    return new V1Group([...dirs.keys()], dirs, paths);
  }

  /** The writes that place a process in every hierarchy of the group (see placementError). */
  placement(pid: number): [string, string][] {
    return this.paths.map((dir) => [`${dir}/cgroup.procs`, String(pid)]);
  }

  private file(c: Controller, name: string): string | null {
    const dir = this.dirs.get(c);
    return dir ? readText(`${dir}/${name}`) : null;
  }

  /** The file the sandbox's init reads its CPU usage from (ns). */
  cpuCounter(): CpuCounter | null {
    const dir = this.dirs.get("cpuacct");
    return dir ? { path: `${dir}/cpuacct.usage`, unit: "ns" } : null;
  }

  cpuUsageUs(): number | null {
    const ns = parseNumber(this.file("cpuacct", "cpuacct.usage") ?? "");
    return ns === null ? null : ns / 1000;
  }

  usage(): Partial<CgroupUsage> {
    const out: { -readonly [K in keyof CgroupUsage]?: CgroupUsage[K] } = {};
    if (this.dirs.has("cpuacct")) {
      out.cpuUs = this.cpuUsageUs();
      const user = parseNumber(this.file("cpuacct", "cpuacct.usage_user") ?? "");
      const sys = parseNumber(this.file("cpuacct", "cpuacct.usage_sys") ?? "");
      if (user !== null && sys !== null) {
        out.userUs = user / 1000;
        out.sysUs = sys / 1000;
      } else {
        // USER_HZ ticks (100 per second on Linux).
        const stat = parseKeyed(this.file("cpuacct", "cpuacct.stat") ?? "");
        out.userUs = (stat.get("user") ?? 0) * 10_000;
        out.sysUs = (stat.get("system") ?? 0) * 10_000;
      }
    }
    if (this.dirs.has("memory")) {
      out.memoryPeakBytes = parseNumber(this.file("memory", "memory.max_usage_in_bytes") ?? "");
      out.oomKills = parseKeyed(this.file("memory", "memory.oom_control") ?? "").get("oom_kill") ?? 0;
    }
    if (this.dirs.has("pids")) {
      out.pidsPeak = parseNumber(this.file("pids", "pids.peak") ?? "");
      out.pidsRefused = parseKeyed(this.file("pids", "pids.events") ?? "").get("max") ?? 0;
    }
    return out;
  }

  private members(): number[] {
    const dir = this.paths[0];
    return dir ? parsePids(readText(`${dir}/cgroup.procs`) ?? "") : [];
  }

  populated(): boolean {
    return this.members().length > 0;
  }

  async kill(): Promise<void> {
    if (!this.populated()) return;
    const freezer = this.dirs.get("freezer");
    if (freezer) {
      // Frozen tasks cannot fork or exit: the member list holds still while it is killed.
      try {
        writeValue(`${freezer}/freezer.state`, "FROZEN");
        for (let i = 0; i < 200 && readText(`${freezer}/freezer.state`)?.trim() !== "FROZEN"; i++) await sleep(1);
      } catch {}
    }
    for (let round = 0; round < 400; round++) {
      const pids = this.members();
      if (pids.length === 0) return;
      for (const pid of pids) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {}
      }
      // A frozen task dies only once thawed.
      if (freezer) {
        try {
          writeValue(`${freezer}/freezer.state`, "THAWED");
        } catch {}
      }
      await sleep(Math.min(1 + round, 20));
    }
  }

  async destroy(): Promise<string[]> {
    const failed: string[] = [];
    for (const dir of [...this.paths].reverse()) {
      const code = await removeCgroupDir(dir);
      if (code) failed.push(`${dir}: ${errnoWords(code)}`);
    }
    return failed;
  }
}
