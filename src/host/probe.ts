/**
 * What the plan compiler needs to know about the machine and the caller.
 * Cheap: a few small /proc reads, once per process.
 */
import { readFileSync } from "node:fs";

export interface Host {
  readonly uid: number;
  readonly gid: number;
  readonly root: boolean;
  /** Highest capability number the kernel knows (/proc/sys/kernel/cap_last_cap). */
  readonly capLast: number;
  readonly kernel: string;
  /** The caller's environment, for --env NAME pass-through and --inherit-env. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The caller's working directory. */
  readonly cwd: string;
}

function readInt(path: string, fallback: number): number {
  try {
    const n = Number.parseInt(readFileSync(path, "utf8"), 10);
    return Number.isFinite(n) ? n : fallback;
  } catch {
    return fallback;
  }
}

let cached: Omit<Host, "env" | "cwd"> | undefined;

export function probeHost(): Host {
  if (!cached) {
    const uid = process.geteuid?.() ?? -1;
    const gid = process.getegid?.() ?? -1;
    let kernel = "";
    try {
      kernel = readFileSync("/proc/sys/kernel/osrelease", "utf8").trim();
    } catch {}
    cached = { uid, gid, root: uid === 0, capLast: readInt("/proc/sys/kernel/cap_last_cap", 40), kernel };
  }
  return { ...cached, env: process.env, cwd: process.cwd() };
}
