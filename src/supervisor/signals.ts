/** Signal names and numbers (Linux, x86_64 and aarch64 share them). */
import { constants } from "node:os";

const byNumber = new Map<number, string>();
for (const [name, num] of Object.entries(constants.signals)) {
  if (!byNumber.has(num)) byNumber.set(num, name);
}

export function signalName(sig: number): string {
  return byNumber.get(sig) ?? `SIG${sig}`;
}

export function signalNumber(sig: string | number): number {
  if (typeof sig === "number") return sig;
  const name = sig.toUpperCase().startsWith("SIG") ? sig.toUpperCase() : `SIG${sig.toUpperCase()}`;
  const n = (constants.signals as Record<string, number>)[name];
  if (n === undefined) throw new RangeError(`unknown signal ${sig}`);
  return n;
}

export const SIGKILL = 9;
export const SIGTERM = 15;
export const TERMINATING = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
