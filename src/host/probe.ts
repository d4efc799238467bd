/**
 * What the plan compiler needs to know about the caller. Reads no files (but
 * /proc/self/cwd when the directory's name is not UTF-8): it runs on every
 * spawn, and `isolate plan` must create and load nothing.
 */
import { landlockAbi } from "../shim/landlock-abi.ts";
import { rawCwd } from "./bytes.ts";

export interface Host {
  readonly uid: number;
  readonly gid: number;
  readonly root: boolean;
  /** The caller's environment, for --env NAME pass-through and --inherit-env. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The caller's working directory, byte for byte (an OS string, src/host/bytes.ts). */
  readonly cwd: string;
  /** The kernel's Landlock ABI version (0: none). Absent: not probed, taken as none. */
  readonly landlockAbi?: number;
}

export function probeHost(): Host {
  const uid = process.geteuid?.() ?? -1;
  const gid = process.getegid?.() ?? -1;
  return { uid, gid, root: uid === 0, env: process.env, cwd: rawCwd(), landlockAbi: landlockAbi() };
}
