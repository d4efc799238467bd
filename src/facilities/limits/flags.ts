/** The resource-limit flags of `isolate exec` and `isolate plan`; they fill Spec.limits. */

import type { Draft, FlagDef } from "../../cli/flags.ts";
import type { LimitField, LimitsInput } from "./fields.ts";

type Key = keyof LimitsInput;

/** The CLI flag of each limit field. */
export const LIMIT_FLAG = {
  memory: "--memory",
  memorySwap: "--memory-swap",
  cpus: "--cpus",
  cpuWeight: "--cpu-weight",
  cpuset: "--cpuset",
  pids: "--pids",
  ioWeight: "--io-weight",
  ioReadBps: "--io-read-bps",
  ioWriteBps: "--io-write-bps",
  rlimits: "--rlimit",
  timeout: "--timeout",
  cpuTime: "--cpu-time",
} as const satisfies Record<LimitField, string>;

function set(d: Draft, key: Key, value: string): void {
  d.limits = { ...(d.limits ?? {}), [key]: value };
}

function append(d: Draft, key: "ioReadBps" | "ioWriteBps" | "rlimits", value: string): void {
  const list: readonly unknown[] = d.limits?.[key] ?? [];
  d.limits = { ...(d.limits ?? {}), [key]: [...list, value] };
}

const one = (
  key: Exclude<Key, "ioReadBps" | "ioWriteBps" | "rlimits">,
  value: string,
  description: string,
): FlagDef => ({
  name: LIMIT_FLAG[key],
  value,
  field: `limits.${key}`,
  description,
  apply: (d, _c, v) => set(d, key, v),
});

const many = (key: "ioReadBps" | "ioWriteBps" | "rlimits", value: string, description: string): FlagDef => ({
  name: LIMIT_FLAG[key],
  value,
  field: `limits.${key}`,
  description,
  apply: (d, _c, v) => append(d, key, v),
});

export const LIMIT_FLAGS: readonly FlagDef[] = [
  one("memory", "SIZE", "memory limit, e.g. 512M (the sandbox is OOM-killed beyond it; no extra swap)"),
  one("memorySwap", "SIZE", "memory plus swap limit (needs --memory; equal to it means no swap)"),
  one("cpus", "N", "CPU bandwidth in CPUs, e.g. 0.5 or 2"),
  one("cpuWeight", "N", "CPU weight 1..10000 against other cgroups (default 100)"),
  one("cpuset", "LIST", "CPUs the sandbox may run on, e.g. 0-1,3"),
  one("pids", "N", "most processes and threads at once, the sandbox's init included (so at least 2)"),
  one("ioWeight", "N", "block I/O weight 1..10000 (default 100)"),
  many("ioReadBps", "DEV:RATE", "read bandwidth limit of a block device, e.g. 8:0:10M or /dev/sda:10M (repeatable)"),
  many("ioWriteBps", "DEV:RATE", "write bandwidth limit of a block device (repeatable)"),
  many(
    "rlimits",
    "NAME=SOFT[:HARD]",
    "a resource limit of the command, e.g. nofile=64, core=0, fsize=10M (repeatable)",
  ),
  one("timeout", "DURATION", "wall-clock limit: then SIGTERM, and after --kill-after everything is killed"),
  one("cpuTime", "DURATION", "CPU time limit summed over every process of the sandbox; then everything is killed"),
];
