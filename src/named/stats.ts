/**
 * Live figures of a named sandbox from its cgroups (v1 or v2, whichever
 * holds each controller): memory now and peak, CPU time, processes now.
 * null where it has no cgroup for that controller.
 */
import { parseKeyed, parseNumber } from "../cgroup/stats.ts";
import { loadShim } from "../shim/load.ts";

export interface LiveStats {
  readonly memoryBytes: number | null;
  readonly memoryPeakBytes: number | null;
  readonly cpuMs: number | null;
  readonly pids: number | null;
  readonly pidsPeak: number | null;
}

export const NO_STATS: LiveStats = {
  memoryBytes: null,
  memoryPeakBytes: null,
  cpuMs: null,
  pids: null,
  pidsPeak: null,
};

export function liveStats(cgroups: readonly string[]): LiveStats {
  const shim = loadShim();
  const read = (dir: string, file: string): string | null => {
    const t = shim.readFile(`${dir}/${file}`);
    return typeof t === "string" ? t : null;
  };
  const num = (dir: string, file: string) => parseNumber(read(dir, file) ?? "");
  const out: { -readonly [K in keyof LiveStats]: LiveStats[K] } = { ...NO_STATS };
  for (const dir of cgroups) {
    // v2 (one directory, every controller enabled in it)
    const cpuStat = read(dir, "cpu.stat");
    if (cpuStat !== null && out.cpuMs === null) {
      const us = parseKeyed(cpuStat).get("usage_usec");
      if (us !== undefined) out.cpuMs = us / 1000;
    }
    out.memoryBytes ??= num(dir, "memory.current");
    out.memoryPeakBytes ??= num(dir, "memory.peak");
    // v1
    out.memoryBytes ??= num(dir, "memory.usage_in_bytes");
    out.memoryPeakBytes ??= num(dir, "memory.max_usage_in_bytes");
    if (out.cpuMs === null) {
      const ns = num(dir, "cpuacct.usage");
      if (ns !== null) out.cpuMs = ns / 1e6;
    }
    // both
    out.pids ??= num(dir, "pids.current");
    out.pidsPeak ??= num(dir, "pids.peak");
  }
  if (out.cpuMs !== null) out.cpuMs = Math.round(out.cpuMs * 1000) / 1000;
  return out;
}
