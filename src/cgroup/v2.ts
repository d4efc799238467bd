/**
 * The cgroup v2 backend: one directory under the supervisor's own cgroup
 * (see delegate.ts), entered atomically at clone with CLONE_INTO_CGROUP
 * through a directory fd, killed with cgroup.kill.
 */

import type { LimitField } from "../facilities/limits/fields.ts";
import { nodeFs } from "../host/files.ts";
import { applyWrites } from "./apply.ts";
import { prepareV2Parent } from "./delegate.ts";
import type { Controller, Hierarchy } from "./detect.ts";
import { errnoWords, readText, removeCgroupDir, removeCgroupDirNow, sleep, writeValue } from "./files.ts";
import type { CgroupGroup } from "./group.ts";
import { type CgroupUsage, parseKeyed, parseNumber, parsePids } from "./stats.ts";
import type { CpuCounter } from "./v1.ts";
import { makeCgroupDir } from "./v1.ts";
import type { CgroupWrite } from "./writes.ts";

/** Controllers that exist in every v2 cgroup without being enabled. */
const CORE: readonly Controller[] = ["cpuacct", "freezer"];

export class V2Group implements CgroupGroup {
  readonly version = 2 as const;
  readonly paths: readonly string[];
  /** An O_DIRECTORY fd of the cgroup for clone3's CLONE_INTO_CGROUP; -1 once closed. */
  cloneFd: number;

  private constructor(
    readonly controllers: readonly Controller[],
    private readonly dir: string,
    fd: number,
  ) {
    this.paths = [dir];
    this.cloneFd = fd;
  }

  /**
   * `needs` maps each controller to the limit asking for it (undefined:
   * accounting only). Core controllers need nothing enabled.
   */
  static create(
    name: string,
    h: Hierarchy,
    needs: ReadonlyMap<Controller, LimitField | undefined>,
    writes: readonly CgroupWrite[],
  ): V2Group {
    const enable = new Map<Controller, LimitField>();
    let firstLimit: LimitField | undefined;
    for (const [c, limit] of needs) {
      firstLimit ??= limit;
      if (!CORE.includes(c) && limit !== undefined) enable.set(c, limit);
    }
    const parent = prepareV2Parent(h, enable);
    const dir = `${parent}/${name}`;
    makeCgroupDir(dir, firstLimit ?? "cpuTime", "cgroup v2");
    let fd = -1;
    try {
      applyWrites(writes, () => dir);
      fd = nodeFs().openSync(dir, nodeFs().constants.O_RDONLY | nodeFs().constants.O_DIRECTORY);
    } catch (e) {
      if (fd >= 0) nodeFs().closeSync(fd);
      removeCgroupDirNow(dir);
      throw e;
    }
    return new V2Group([...needs.keys()], dir, fd);
  }

  closeCloneFd(): void {
    if (this.cloneFd >= 0) nodeFs().closeSync(this.cloneFd);
    this.cloneFd = -1;
  }

  /** Only when clone could not place it (kernels before 5.7): the write that does (see placementError). */
  placement(pid: number): [string, string][] {
    return [[`${this.dir}/cgroup.procs`, String(pid)]];
  }

  private read(name: string): string {
    return readText(`${this.dir}/${name}`) ?? "";
  }

  /** The file the sandbox's init reads its CPU usage from. */
  cpuCounter(): CpuCounter {
    return { path: `${this.dir}/cpu.stat`, unit: "cpu.stat" };
  }

  cpuUsageUs(): number | null {
    return parseKeyed(this.read("cpu.stat")).get("usage_usec") ?? null;
  }

  usage(): Partial<CgroupUsage> {
    const cpu = parseKeyed(this.read("cpu.stat"));
    const out: { -readonly [K in keyof CgroupUsage]?: CgroupUsage[K] } = {
      cpuUs: cpu.get("usage_usec") ?? null,
      userUs: cpu.get("user_usec") ?? null,
      sysUs: cpu.get("system_usec") ?? null,
    };
    if (this.controllers.includes("memory")) {
      out.memoryPeakBytes = parseNumber(this.read("memory.peak"));
      out.oomKills = parseKeyed(this.read("memory.events")).get("oom_kill") ?? 0;
    }
    if (this.controllers.includes("pids")) {
      out.pidsPeak = parseNumber(this.read("pids.peak"));
      out.pidsRefused = parseKeyed(this.read("pids.events")).get("max") ?? 0;
    }
    return out;
  }

  populated(): boolean {
    const events = parseKeyed(this.read("cgroup.events"));
    const p = events.get("populated");
    return p === undefined ? parsePids(this.read("cgroup.procs")).length > 0 : p > 0;
  }

  async kill(): Promise<void> {
    if (!this.populated()) return;
    let viaKill = true;
    try {
      writeValue(`${this.dir}/cgroup.kill`, "1");
    } catch {
      viaKill = false; // before Linux 5.14: freeze, then kill every member
      try {
        writeValue(`${this.dir}/cgroup.freeze`, "1");
      } catch {}
    }
    for (let round = 0; round < 400 && this.populated(); round++) {
      if (!viaKill) {
        for (const pid of parsePids(this.read("cgroup.procs"))) {
          try {
            process.kill(pid, "SIGKILL");
          } catch {}
        }
      }
      await sleep(Math.min(1 + round, 20));
    }
  }

  async destroy(): Promise<string[]> {
    this.closeCloneFd();
    const code = await removeCgroupDir(this.dir);
    return code ? [`${this.dir}: ${errnoWords(code)}`] : [];
  }
}
