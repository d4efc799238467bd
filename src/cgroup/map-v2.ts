/** Limits -> cgroup v2 files. Pure: unit-tested without a kernel. */
import type { ResolvedLimits } from "./writes.ts";
import { type CgroupWrite, CPU_PERIOD_US, cpuQuotaUs, ioWeightToBfq } from "./writes.ts";

export function v2Writes(l: ResolvedLimits): CgroupWrite[] {
  const w: CgroupWrite[] = [];
  if (l.memory !== undefined) {
    w.push({ controller: "memory", limit: "memory", files: [["memory.max", String(l.memory)]] });
    // memory.swap.max is swap alone; without --memory-swap, no swap beyond memory (when swap is accounted).
    if (l.memorySwap !== undefined) {
      w.push({
        controller: "memory",
        limit: "memorySwap",
        files: [["memory.swap.max", String(l.memorySwap - l.memory)]],
      });
    } else w.push({ controller: "memory", limit: "memory", files: [["memory.swap.max", "0"]], optional: true });
  }
  if (l.cpus !== undefined) {
    w.push({ controller: "cpu", limit: "cpus", files: [["cpu.max", `${cpuQuotaUs(l.cpus)} ${CPU_PERIOD_US}`]] });
  }
  if (l.cpuWeight !== undefined) {
    w.push({ controller: "cpu", limit: "cpuWeight", files: [["cpu.weight", String(l.cpuWeight)]] });
  }
  if (l.cpuset !== undefined) w.push({ controller: "cpuset", limit: "cpuset", files: [["cpuset.cpus", l.cpuset]] });
  if (l.pids !== undefined) w.push({ controller: "pids", limit: "pids", files: [["pids.max", String(l.pids)]] });
  if (l.ioWeight !== undefined) {
    w.push({
      controller: "io",
      limit: "ioWeight",
      files: [
        ["io.weight", `default ${l.ioWeight}`],
        ["io.bfq.weight", `default ${ioWeightToBfq(l.ioWeight)}`],
      ],
    });
  }
  // One io.max line per device, with both directions.
  const devices = new Map<string, { rbps?: number; wbps?: number; limit: "ioReadBps" | "ioWriteBps" }>();
  for (const r of l.ioReadBps)
    devices.set(r.device, { ...devices.get(r.device), rbps: r.bytesPerSecond, limit: "ioReadBps" });
  for (const r of l.ioWriteBps) {
    const prev = devices.get(r.device);
    devices.set(r.device, { ...prev, wbps: r.bytesPerSecond, limit: prev?.limit ?? "ioWriteBps" });
  }
  for (const [dev, d] of devices) {
    const parts = [dev];
    if (d.rbps !== undefined) parts.push(`rbps=${d.rbps}`);
    if (d.wbps !== undefined) parts.push(`wbps=${d.wbps}`);
    w.push({ controller: "io", limit: d.limit, files: [["io.max", parts.join(" ")]] });
  }
  return w;
}
