/**
 * Host directories a sandbox's setup makes for itself, removed when it ends
 * (normal exit, failed setup, killed sandbox): the overlayfs work dir beside
 * an --overlay's UPPER. (A work dir the caller made is the caller's and stays.)
 *
 * The sandbox may write where the work dir lives (UPPER's parent is often in
 * the writable cwd), so nothing here goes by path once the run has started:
 * the parent is opened before the spawn without following any symlink, and
 * the removal is relative to that fd and follows no link (native/hostfs.c).
 *
 * If isolate itself is SIGKILLed, the work dir stays. The default one
 * (`.UPPER.isolate-work`, named for isolate) is then adopted and removed by
 * the next run with the same UPPER; one named by the caller (DST:UPPER:WORK)
 * that did not exist before stays. `isolate clean` cannot find either: there
 * is no record of where they were that a sandbox could not have written.
 */

import type { Spec } from "../../config/schema.ts";
import { basename, dirname } from "../../host/paths.ts";
import { S_IFDIR, type Shim } from "../../shim/load.ts";
import { overlayWork } from "./fields.ts";

const ENOENT = 2;

export interface ScratchDir {
  /** For messages: where it is (as first opened). */
  readonly path: string;
  /** Its parent, an O_PATH fd opened without following symlinks; owned until removeScratch. */
  readonly dir: number;
  readonly name: string;
}

/** The work dirs this run will create (or adopt), each with a held fd of its parent; before the spawn. */
export function scratchDirs(spec: Spec, shim: Shim): ScratchDir[] {
  const dirs: ScratchDir[] = [];
  for (const m of spec.mounts) {
    if (m.type !== "overlay" || m.upper === undefined) continue;
    const path = m.work ?? overlayWork(m.upper);
    // A parent that cannot be opened so was refused by the checks already; the init refuses it too.
    const dir = shim.hostFs.openDir(dirname(path));
    if (dir < 0) continue;
    const name = basename(path);
    const type = shim.hostFs.typeAt(dir, name);
    if (type === -ENOENT || (type === S_IFDIR && m.work === undefined)) dirs.push({ path, dir, name });
    else shim.close(dir);
  }
  return dirs;
}

/** Remove them (whatever the sandbox left in or instead of them), and close the held fds. */
export function removeScratch(shim: Shim, dirs: readonly ScratchDir[]): void {
  for (const d of dirs) {
    shim.hostFs.removeAt(d.dir, d.name);
    shim.close(d.dir);
  }
}
