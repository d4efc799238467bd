/** Limits -> cgroup v1 files. Pure: unit-tested without a kernel. */
import type { ResolvedLimits } from "./writes.ts";
import {
  type CgroupWrite,
  CPU_PERIOD_US,
  cpuQuotaUs,
  ioWeightToBfq,
  ioWeightToBlkio,
  weightToShares,
} from "./writes.ts";

export function v1Writes(l: ResolvedLimits): CgroupWrite[] {
  const w: CgroupWrite[] = [];
  if (l.memory !== undefined) {
    // memsw (memory plus swap) may never be below the memory limit: memory first.
    w.push({ controller: "memory", limit: "memory", files: [["memory.limit_in_bytes", String(l.memory)]] });
    if (l.memorySwap !== undefined) {
      w.push({
        controller: "memory",
        limit: "memorySwap",
        files: [["memory.memsw.limit_in_bytes", String(l.memorySwap)]],
      });
    } else {
      w.push({
        controller: "memory",
        limit: "memory",
        files: [["memory.memsw.limit_in_bytes", String(l.memory)]],
        optional: true,
      });
    }
  }
  if (l.cpus !== undefined) {
    w.push({ controller: "cpu", limit: "cpus", files: [["cpu.cfs_period_us", String(CPU_PERIOD_US)]] });
    w.push({ controller: "cpu", limit: "cpus", files: [["cpu.cfs_quota_us", String(cpuQuotaUs(l.cpus))]] });
  }
  if (l.cpuWeight !== undefined) {
    w.push({ controller: "cpu", limit: "cpuWeight", files: [["cpu.shares", String(weightToShares(l.cpuWeight))]] });
  }
  if (l.cpuset !== undefined) {
    w.push({ controller: "cpuset", limit: "cpuset", files: [["cpuset.mems", ""]], inherit: true });
    w.push({ controller: "cpuset", limit: "cpuset", files: [["cpuset.cpus", l.cpuset]] });
  }
  if (l.pids !== undefined) w.push({ controller: "pids", limit: "pids", files: [["pids.max", String(l.pids)]] });
  if (l.ioWeight !== undefined) {
    w.push({
      controller: "io",
      limit: "ioWeight",
      files: [
        ["blkio.bfq.weight", String(ioWeightToBfq(l.ioWeight))],
        ["blkio.weight", String(ioWeightToBlkio(l.ioWeight))],
      ],
    });
  }
  for (const r of l.ioReadBps) {
    w.push({
      controller: "io",
      limit: "ioReadBps",
      files: [["blkio.throttle.read_bps_device", `${r.device} ${r.bytesPerSecond}`]],
    });
  }
  for (const r of l.ioWriteBps) {
    w.push({
      controller: "io",
      limit: "ioWriteBps",
      files: [["blkio.throttle.write_bps_device", `${r.device} ${r.bytesPerSecond}`]],
    });
  }
  return w;
}
