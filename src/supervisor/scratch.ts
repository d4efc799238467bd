/**
 * Host directories a sandbox's setup makes for itself, removed when it ends:
 * the overlayfs work dir isolate creates beside an --overlay's UPPER when it
 * does not exist yet. (A dir the caller made is the caller's and stays.)
 */
import { osPath } from "../host/bytes.ts";
import { nodeFs } from "../host/files.ts";
import { overlayWork } from "../setup/mounts.ts";
import type { Spec } from "../spec/schema.ts";

/** The work dirs this run will create; checked before the spawn. */
export function scratchDirs(spec: Spec): string[] {
  const dirs: string[] = [];
  for (const m of spec.mounts) {
    if (m.type !== "overlay" || m.upper === undefined) continue;
    const work = m.work ?? overlayWork(m.upper);
    if (!nodeFs().existsSync(osPath(work))) dirs.push(work);
  }
  return dirs;
}

export function removeScratch(dirs: readonly string[]): void {
  for (const dir of dirs) {
    try {
      // overlayfs leaves an empty work/work inside, mode 000: removable by its owner.
      nodeFs().rmSync(osPath(dir), { recursive: true, force: true });
    } catch {}
  }
}
