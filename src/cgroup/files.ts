/**
 * Reading and writing cgroupfs: single-write values (the kernel parses each
 * write whole), missing files told apart from refused values, and removal of
 * a cgroup directory (depth first, retried while its last tasks exit).
 */
import { nodeFs } from "../host/files.ts";

export const errnoCode = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? String(e);

const ERRNO_TEXT: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOENT: "no such file",
  EINVAL: "the kernel refused the value",
  ERANGE: "out of range",
  EBUSY: "busy",
  ENOSPC: "no space (a cgroup limit such as cgroup.max.descendants, or an empty cpuset)",
  ENODEV: "no such device",
  EOPNOTSUPP: "not supported",
};

export const errnoWords = (code: string): string => ERRNO_TEXT[code] ?? code;

export function readText(path: string): string | null {
  try {
    return nodeFs().readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

/** Write `value` to a cgroup file in one write(2); throws the errno error. */
export function writeValue(path: string, value: string): void {
  const fd = nodeFs().openSync(path, nodeFs().constants.O_WRONLY);
  try {
    nodeFs().writeSync(fd, value);
  } finally {
    nodeFs().closeSync(fd);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function subdirs(dir: string): string[] {
  try {
    return nodeFs()
      .readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => `${dir}/${d.name}`);
  } catch {
    return [];
  }
}

/**
 * Remove a cgroup and any cgroups below it. Tasks that were just killed may
 * still be leaving (EBUSY): retry for up to `patienceMs`. Returns the errno
 * code of the last failure, or null when the directory is gone.
 */
export async function removeCgroupDir(dir: string, patienceMs = 5000): Promise<string | null> {
  for (const sub of subdirs(dir)) await removeCgroupDir(sub, patienceMs);
  const end = Date.now() + patienceMs;
  for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
    try {
      nodeFs().rmdirSync(dir);
      return null;
    } catch (e) {
      const code = errnoCode(e);
      if (code === "ENOENT") return null;
      if (code !== "EBUSY" || Date.now() > end) return code;
    }
    await sleep(wait);
  }
}

/** Synchronous removal, for process exit: one try, no waiting. */
export function removeCgroupDirNow(dir: string): string | null {
  for (const sub of subdirs(dir)) removeCgroupDirNow(sub);
  try {
    nodeFs().rmdirSync(dir);
    return null;
  } catch (e) {
    const code = errnoCode(e);
    return code === "ENOENT" ? null : code;
  }
}
