/**
 * One sandbox's cgroups, whatever the host: each limit goes to the backend
 * its controller lives on (detect.ts), v2 and v1 behind one face. Created
 * before the sandbox, entered before it runs anything, counted, killed as a
 * whole, removed on every path. Fails closed: a limit that was asked for and
 * cannot be enforced throws CgroupError (exit 125) and leaves nothing behind.
 */
import type { BigIntStats } from "node:fs";
import { CgroupError, field as specField } from "../errors.ts";
import type { IoBps, LimitField, Limits } from "../facilities/limits/fields.ts";
import { nodeFs } from "../host/files.ts";
import { sweepOnce } from "./clean.ts";
import { type CgroupLayout, type Controller, detectCgroups } from "./detect.ts";
import { removeCgroupDirNow } from "./files.ts";
import { v1Writes } from "./map-v1.ts";
import { v2Writes } from "./map-v2.ts";
import { sandboxName } from "./names.ts";
import { type CgroupUsage, NO_USAGE } from "./stats.ts";
import { type CpuCounter, V1Group, type V1Need } from "./v1.ts";
import { V2Group } from "./v2.ts";
import { controllersFor } from "./writes.ts";

/** Used when present, for the report and for killing; never required. */
const HELPERS: readonly Controller[] = ["cpuacct", "freezer"];

export interface SandboxCgroups {
  /** Which cgroup version serves each controller used. */
  readonly backends: Readonly<Partial<Record<Controller, "v1" | "v2">>>;
  /** Every cgroup directory created for this sandbox. */
  readonly paths: readonly string[];
  /** A cgroup v2 directory fd for CLONE_INTO_CGROUP, or -1. */
  readonly cloneFd: number;
  /** After spawn: close the clone fd. */
  spawned(): void;
  /**
   * Before the sandbox is released: the writes that place its init (v1; v2
   * too when clone could not), done off the JS thread; a failed one is
   * explained by placementError() (v1.ts).
   */
  placement(pid: number, placedAtClone: boolean): [string, string][];
  cpuUsageUs(): number | null;
  /** The file the init reads the sandbox's CPU usage from (native/init_limits.c). */
  cpuCounter(): CpuCounter | null;
  usage(): CgroupUsage;
  kill(): Promise<void>;
  /** Kill what is left and remove every directory; what could not be removed. */
  destroy(): Promise<string[]>;
}

function majorMinor(rdev: bigint): string {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return `${major}:${minor}`;
}

function resolveDevice(r: IoBps, field: LimitField): IoBps {
  if (!r.device.startsWith("/")) return r;
  let st: BigIntStats;
  try {
    st = nodeFs().statSync(r.device, { bigint: true });
  } catch (e) {
    throw new CgroupError(`${specField(`limits.${field}`)} ${r.device}: ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
  if (!st.isBlockDevice()) throw new CgroupError(`${specField(`limits.${field}`)} ${r.device}: not a block device`);
  return { device: majorMinor(st.rdev), bytesPerSecond: r.bytesPerSecond };
}

/** Limits with every /dev path turned into MAJ:MIN. */
export function resolveDevices(l: Limits): Limits {
  return {
    ...l,
    ioReadBps: l.ioReadBps.map((r) => resolveDevice(r, "ioReadBps")),
    ioWriteBps: l.ioWriteBps.map((r) => resolveDevice(r, "ioWriteBps")),
  };
}

/**
 * `accounting`: controllers wanted without a limit, for their counters (named
 * sandboxes: memory and pids for `isolate ps`); added where they are on v1
 * (on v2 a controller counts only once enabled, which a limit does).
 */
export function createSandboxCgroups(
  limits: Limits,
  layout: CgroupLayout = detectCgroups(),
  accounting: readonly Controller[] = [],
): SandboxCgroups {
  const required = controllersFor(limits);
  const v2needs = new Map<Controller, LimitField | undefined>();
  const v1needs = new Map<Controller, V1Need>();
  for (const c of accounting) {
    const place = layout.controllers[c];
    if (!required.has(c) && place.version === 1) v1needs.set(c, { hierarchy: place.hierarchy, limit: undefined });
  }
  for (const [c, field] of required) {
    const place = layout.controllers[c];
    if (place.version === 0) {
      throw new CgroupError(
        `${specField(`limits.${field}`)}: cannot be enforced: ${place.why}`,
        `enable the ${c} controller (kernel config, or mount its hierarchy), or drop ${specField(`limits.${field}`)}`,
      );
    }
    if (place.version === 2) v2needs.set(c, field);
    else v1needs.set(c, { hierarchy: place.hierarchy, limit: field });
  }
  // No limit needs a cgroup, but one is wanted for accounting: wherever CPU is accounted.
  if (required.size === 0) {
    const acct = layout.controllers.cpuacct;
    if (acct.version === 2) v2needs.set("cpuacct", undefined);
    else if (acct.version === 1) v1needs.set("cpuacct", { hierarchy: acct.hierarchy, limit: undefined });
    else throw new CgroupError("no cgroup accounts CPU time here");
  }
  if (v1needs.size > 0 && v2needs.size === 0) {
    for (const c of HELPERS) {
      const place = layout.controllers[c];
      if (!v1needs.has(c) && place.version === 1) v1needs.set(c, { hierarchy: place.hierarchy, limit: undefined });
    }
  }
  const resolved = resolveDevices(limits);
  const name = sandboxName();
  if (v2needs.size > 0 && layout.v2) sweepOnce(layout.v2.dir);
  for (const n of v1needs.values()) sweepOnce(n.hierarchy.dir);

  const v2 =
    v2needs.size > 0 && layout.v2
      ? V2Group.create(
          name,
          layout.v2,
          v2needs,
          v2Writes(resolved).filter((w) => v2needs.has(w.controller)),
        )
      : null;
  let v1: V1Group | null = null;
  try {
    v1 =
      v1needs.size > 0
        ? V1Group.create(
            name,
            v1needs,
            v1Writes(resolved).filter((w) => v1needs.has(w.controller)),
          )
        : null;
  } catch (e) {
    if (v2) {
      v2.closeCloneFd();
      for (const p of v2.paths) removeCgroupDirNow(p);
    }
    throw e;
  }
  return new Combined(v2, v1);
}

class Combined implements SandboxCgroups {
  readonly backends: Partial<Record<Controller, "v1" | "v2">> = {};
  readonly paths: readonly string[];

  constructor(
    private readonly v2: V2Group | null,
    private readonly v1: V1Group | null,
  ) {
    for (const c of v1?.controllers ?? []) this.backends[c] = "v1";
    for (const c of v2?.controllers ?? []) this.backends[c] = "v2";
    this.paths = [...(v2?.paths ?? []), ...(v1?.paths ?? [])];
  }

  get cloneFd(): number {
    return this.v2?.cloneFd ?? -1;
  }

  spawned(): void {
    this.v2?.closeCloneFd();
  }

  placement(pid: number, placedAtClone: boolean): [string, string][] {
    return [...(this.v2 && !placedAtClone ? this.v2.placement(pid) : []), ...(this.v1?.placement(pid) ?? [])];
  }

  /** The group that accounts CPU: v1 cpuacct when used, else the v2 group. */
  private cpuGroup(): V1Group | V2Group | null {
    if (this.v1?.controllers.includes("cpuacct")) return this.v1;
    return this.v2;
  }

  cpuUsageUs(): number | null {
    return this.cpuGroup()?.cpuUsageUs() ?? null;
  }

  cpuCounter(): CpuCounter | null {
    return this.cpuGroup()?.cpuCounter() ?? null;
  }

  usage(): CgroupUsage {
    const v1 = this.v1?.usage() ?? {};
    const v2 = this.v2?.usage() ?? {};
    const cpu = this.cpuGroup() === this.v1 ? v1 : v2;
    const by = (c: Controller) => (this.backends[c] === "v1" ? v1 : v2);
    return {
      cpuUs: cpu.cpuUs ?? null,
      userUs: cpu.userUs ?? null,
      sysUs: cpu.sysUs ?? null,
      memoryPeakBytes: by("memory").memoryPeakBytes ?? NO_USAGE.memoryPeakBytes,
      pidsPeak: by("pids").pidsPeak ?? NO_USAGE.pidsPeak,
      oomKills: by("memory").oomKills ?? 0,
      pidsRefused: by("pids").pidsRefused ?? 0,
    };
  }

  async kill(): Promise<void> {
    await this.v2?.kill();
    await this.v1?.kill();
  }

  async destroy(): Promise<string[]> {
    await this.kill();
    return [...((await this.v2?.destroy()) ?? []), ...((await this.v1?.destroy()) ?? [])];
  }
}
