/**
 * What the plan compiler needs to know about the caller. Reads no files
 * up front: it runs on every spawn, and `isolate plan` must create and load
 * nothing. The one fact that needs a file (initialUserNs) is read on first
 * use only (through the shim when it is loaded: no node:fs).
 */
import { readSmallText } from "./files.ts";

export interface Host {
  readonly uid: number;
  readonly gid: number;
  readonly root: boolean;
  /**
   * Whether isolate runs in the initial user namespace (/proc/self/uid_map is
   * the identity map "0 0 4294967295"): only there is uid 0 host root. Read
   * lazily, once.
   */
  readonly initialUserNs: boolean;
  /** The caller's environment, for --env NAME pass-through and --inherit-env. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The caller's working directory. */
  readonly cwd: string;
}

/** Whether a uid_map's text is the initial namespace's: one line, every id to itself. */
export function isInitialUidMap(text: string): boolean {
  const lines = text.trim().split("\n");
  return lines.length === 1 && /^\s*0\s+0\s+4294967295\s*$/.test(lines[0] ?? "");
}

let initialNs: boolean | undefined;

function readInitialUserNs(): boolean {
  if (initialNs !== undefined) return initialNs;
  const text = readSmallText("/proc/self/uid_map");
  // Unreadable (no /proc): assume the worst, that uid 0 is host root.
  initialNs = text === undefined || isInitialUidMap(text);
  return initialNs;
}

export function probeHost(): Host {
  const uid = process.geteuid?.() ?? -1;
  const gid = process.getegid?.() ?? -1;
  return {
    uid,
    gid,
    root: uid === 0,
    get initialUserNs() {
      return readInitialUserNs();
    },
    env: process.env,
    cwd: process.cwd(),
  };
}
