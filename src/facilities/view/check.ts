/**
 * Checks of the mount entries against the host, before anything is created:
 * a missing source, a destination that cannot be made, a file over a
 * directory, a symlink on the way. Each gives a one-line SpecError naming the
 * path. The C side checks again (and is the authority: the host can change in
 * between); this gives the clear message in the common case.
 *
 * The view is modelled as layers: each mount, in order, over a destination.
 * What a path shows is the last layer that covers it.
 */
import type { Stats } from "node:fs";
import { SpecError, field as specField } from "../../errors.ts";
import { osPath, osString } from "../../host/bytes.ts";
import { nodeFs } from "../../host/files.ts";
import { basename, dirname } from "../../host/paths.ts";
import { type Mount, mountFlag, overlayWork } from "./fields.ts";
import { shown, walk } from "./mountpoints.ts";

export interface Layer {
  readonly dst: string;
  /**
   * host:   a host directory or file (src) shows there, as it is on the host
   * own:    a filesystem of the sandbox's own (tmpfs): entries may be created in it
   * kernel: proc
   * opaque: what shows there is not known ahead (an overlay with a host upper, a mask)
   * points: a read-only directory rebuilt to take mount points (mountpoints.ts)
   * made:   not a mount: a path created in a filesystem of the sandbox's own
   */
  readonly kind: "host" | "own" | "kernel" | "opaque" | "points" | "made";
  readonly src?: string;
  /** host: a writable bind (the cwd, --bind, --dev-bind, /dev/shm). */
  readonly rw?: boolean;
}

type Seen =
  | { readonly at: "host"; readonly type: "dir" | "other" | "none"; readonly hostPath: string }
  | { readonly at: "own" | "kernel" | "opaque" };

const OWN_HINT = `isolate creates entries only inside its own tmpfs (/tmp, /dev, /run, ${specField("mounts.tmpfs")} DIR)`;

function tryStat(fn: () => Stats): Stats | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

function tryRead(fn: () => string): string | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

/** What `path` shows inside, each component walked as the C side walks it: never through a symlink. */
function inspect(flag: string, path: string, layers: readonly Layer[]): Seen {
  walk(flag, path, layers);
  const s = shown(path, layers);
  if (s.at !== "host") return { at: s.at };
  return { at: "host", type: s.type === "dir" ? "dir" : s.type === "none" ? "none" : "other", hostPath: s.hostPath };
}

function needDir(flag: string, path: string, seen: Seen, canCreate: boolean): void {
  if (seen.at !== "host") return;
  if (seen.type === "other") throw new SpecError(`${flag}: ${path} is not a directory`);
  if (seen.type === "none") {
    throw new SpecError(canCreate ? `${flag}: ${path} does not exist; ${OWN_HINT}` : `${flag}: ${path} does not exist`);
  }
}

/**
 * A writable source (a bind, an overlay's upper or work) is never reached
 * through a symlink: a sandbox can write there, and a link it leaves would
 * steer the next run's mount onto another host directory. The init enforces
 * it (openat2 with RESOLVE_NO_SYMLINKS, then mounts from that fd); this names
 * the link and where it points, so the caller can pass the real path.
 * Components from the first missing one on are not checked (the caller reports those).
 */
export function checkNoLink(what: string, path: string): void {
  let cur = "";
  for (const part of path.split("/")) {
    if (part === "") continue;
    cur = `${cur}/${part}`;
    const st = tryStat(() => nodeFs().lstatSync(osPath(cur)));
    if (!st) return;
    if (!st.isSymbolicLink()) continue;
    const target = tryRead(() => osString(nodeFs().readlinkSync(osPath(cur), { encoding: "buffer" }))) ?? "?";
    const real = tryRead(() => osString(nodeFs().realpathSync(osPath(path), { encoding: "buffer" })));
    throw new SpecError(
      `${what}: ${cur} is a symbolic link to ${target} (isolate does not follow links in writable sources; pass the real path${real ? `, ${real}` : ""})`,
    );
  }
}

/** Throws a SpecError when entry `m` cannot be applied over `layers` (the view before it). */
export function checkMount(m: Mount, layers: readonly Layer[]): void {
  const flag = mountFlag(m);
  switch (m.type) {
    case "bind":
    case "ro-bind":
    case "dev-bind": {
      if (m.type !== "ro-bind") checkNoLink(flag, m.src);
      const src = tryStat(() => nodeFs().statSync(osPath(m.src)));
      if (!src) {
        if (!tryStat(() => nodeFs().lstatSync(osPath(m.src))))
          throw new SpecError(`${flag}: source ${m.src} does not exist`);
        return; // unreadable or a dangling link: the kernel will say
      }
      const seen = inspect(flag, m.dst, layers);
      if (seen.at !== "host") return;
      if (seen.type === "none") throw new SpecError(`${flag}: destination ${m.dst} does not exist; ${OWN_HINT}`);
      if (src.isDirectory() && seen.type !== "dir")
        throw new SpecError(`${flag}: cannot mount the directory ${m.src} over the file ${m.dst}`);
      if (!src.isDirectory() && seen.type === "dir")
        throw new SpecError(`${flag}: cannot mount the file ${m.src} over the directory ${m.dst}`);
      return;
    }
    case "tmpfs":
      needDir(flag, m.dst, inspect(flag, m.dst, layers), true);
      return;
    case "overlay": {
      needDir(flag, m.dst, inspect(flag, m.dst, layers), false);
      if (m.upper === undefined) return;
      checkNoLink(flag, m.upper);
      const upper = tryStat(() => nodeFs().statSync(osPath(m.upper as string)));
      if (!upper?.isDirectory()) throw new SpecError(`${flag}: upper dir ${m.upper} is not an existing directory`);
      const work = m.work ?? overlayWork(m.upper);
      checkNoLink(flag, work);
      const w =
        tryStat(() => nodeFs().statSync(osPath(work))) ?? tryStat(() => nodeFs().statSync(osPath(dirname(work))));
      if (!w?.isDirectory()) throw new SpecError(`${flag}: work dir ${work} cannot be made (no such directory)`);
      if (w.dev !== upper.dev) throw new SpecError(`${flag}: upper and work dirs must be on the same filesystem`);
      return;
    }
    case "mask":
      inspect(flag, m.path, layers);
      return;
    case "symlink": {
      const parent = inspect(flag, dirname(m.dst), layers);
      if (parent.at !== "host") return;
      needDir(flag, dirname(m.dst), parent, false);
      const hostPath = `${parent.hostPath === "/" ? "" : parent.hostPath}/${basename(m.dst)}`;
      const link = tryStat(() => nodeFs().lstatSync(osPath(hostPath)));
      if (
        link?.isSymbolicLink() &&
        tryRead(() => osString(nodeFs().readlinkSync(osPath(hostPath), { encoding: "buffer" }))) === m.target
      )
        return;
      throw new SpecError(link ? `${flag}: ${m.dst} already exists` : `${flag}: ${OWN_HINT}`);
    }
    case "dir": {
      const seen = inspect(flag, m.dst, layers);
      if (seen.at !== "host") return;
      if (seen.type === "other") throw new SpecError(`${flag}: ${m.dst} exists and is not a directory`);
      if (seen.type === "none") throw new SpecError(`${flag}: ${OWN_HINT}`);
      return;
    }
  }
}

/** --rootfs DIR must be a directory with places for /proc and /dev. */
export function checkRootfs(dir: string): void {
  const st = tryStat(() => nodeFs().statSync(osPath(dir)));
  if (!st) throw new SpecError(`${specField("rootfs", dir)}: no such directory`);
  if (!st.isDirectory()) throw new SpecError(`${specField("rootfs", dir)}: not a directory`);
  for (const sub of ["proc", "dev"]) {
    const s = tryStat(() => nodeFs().lstatSync(osPath(`${dir}/${sub}`)));
    if (!s?.isDirectory()) {
      throw new SpecError(
        `${specField("rootfs", dir)}: it has no ${sub} directory (a root needs empty proc and dev directories)`,
      );
    }
  }
}
