/** The capability sets isolate itself runs with (/proc/self/status). */
import { nodeFs, readText } from "./files.ts";

export interface OwnCaps {
  readonly bounding: bigint;
  readonly permitted: bigint;
  readonly effective: bigint;
}

export function parseCapSets(status: string): OwnCaps {
  const hex = (key: string) => {
    const m = new RegExp(`^${key}:\\s*([0-9a-f]+)$`, "m").exec(status);
    return m?.[1] ? BigInt(`0x${m[1]}`) : 0n;
  };
  return { bounding: hex("CapBnd"), permitted: hex("CapPrm"), effective: hex("CapEff") };
}

let cached: OwnCaps | undefined;

export function ownCaps(): OwnCaps {
  if (!cached) {
    try {
      cached = parseCapSets(nodeFs().readFileSync("/proc/self/status", "utf8"));
    } catch {
      cached = { bounding: 0n, permitted: 0n, effective: 0n };
    }
  }
  return cached;
}

let last: number | undefined;

/** Highest capability number this kernel knows (/proc/sys/kernel/cap_last_cap). */
export function capLast(): number {
  last ??= Number.parseInt(readText("/proc/sys/kernel/cap_last_cap") ?? "40", 10) || 40;
  return last;
}
