/** Reading cgroup counters: pure parsers of the kernel's text formats. */

/** "key value" lines (cpu.stat, memory.events, pids.events, memory.oom_control, cpuacct.stat). */
export function parseKeyed(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) out.set(k, Number(v));
  }
  return out;
}

/** A single number ("max" and unreadable text give null). */
export function parseNumber(text: string): number | null {
  const t = text.trim();
  return /^\d+$/.test(t) ? Number(t) : null;
}

/** cgroup.procs: one pid per line. */
export function parsePids(text: string): number[] {
  return text
    .split("\n")
    .filter((l) => /^\d+$/.test(l.trim()))
    .map(Number);
}

/** What a sandbox's cgroups counted; null when not measured. */
export interface CgroupUsage {
  /** CPU time of every process of the sandbox, µs. */
  readonly cpuUs: number | null;
  readonly userUs: number | null;
  readonly sysUs: number | null;
  readonly memoryPeakBytes: number | null;
  readonly pidsPeak: number | null;
  /** Processes the kernel's OOM killer ended inside the sandbox. */
  readonly oomKills: number;
  /** Forks and clones refused at the pids limit. */
  readonly pidsRefused: number;
}

export const NO_USAGE: CgroupUsage = {
  cpuUs: null,
  userUs: null,
  sysUs: null,
  memoryPeakBytes: null,
  pidsPeak: null,
  oomKills: 0,
  pidsRefused: 0,
};
