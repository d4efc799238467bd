/**
 * Identity maps of a new user namespace, written by the supervisor while the
 * init waits for GO (the plan of them: src/facilities/identity/ops.ts), and the
 * idmapped mounts of a mapped root's binds, made once the maps are
 * in place and passed to the init with GO. Root writes
 * any map itself; without privileges a process may map exactly its own uid
 * and gid, once, after denying setgroups; anything more goes through the
 * setuid helpers newuidmap/newgidmap, which check /etc/subuid and /etc/subgid.
 */

import { HostError, field as specField } from "../../errors.ts";
import { errnoText } from "../../host/errno.ts";
import type { Host } from "../../host/probe.ts";
import { findHelper } from "../../host/subid.ts";
import type { Op } from "../../plan/op.ts";
import type { Resolved } from "../../plan/resolve.ts";
import type { StartIO } from "../../shim/load.ts";
import { O_RDONLY, type PlainBind, type Shim } from "../../shim/load.ts";
import type { IdRange } from "../privileges/fields.ts";
import { idmappedBinds, MOUNT_ATTR, VIEW } from "../view/ops.ts";
import type { IdMapPlan } from "./ops.ts";

export type IdMaps = IdMapPlan;

/** The maps for a Spec's new user namespace. */
export function idMapsFor(r: Resolved): IdMaps {
  const plan = r.identity;
  if (!plan.maps) throw new HostError("user namespace: no id maps planned");
  return plan.maps;
}

export function mapText(map: readonly IdRange[]): string {
  return map.map((r) => `${r.inside} ${r.outside} ${r.count}\n`).join("");
}

/** newuidmap/newgidmap, as a child process the event loop waits for. */
async function runHelper(name: "newuidmap" | "newgidmap", pid: number, map: readonly IdRange[]): Promise<void> {
  const path = findHelper(name);
  if (!path) {
    throw new HostError(
      `user namespace: mapping subordinate ids needs ${name}, which is not installed`,
      "install it (Debian/Ubuntu: apt-get install uidmap)",
    );
  }
  const args = map.flatMap((r) => [String(r.inside), String(r.outside), String(r.count)]);
  const p = Bun.spawn([path, String(pid), ...args], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  const [code, stderr] = await Promise.all([p.exited, new Response(p.stderr).text()]);
  if (code !== 0) {
    const why = stderr.trim().split("\n").pop() ?? `exit ${code}`;
    const file = name === "newuidmap" ? "/etc/subuid" : "/etc/subgid";
    throw new HostError(`user namespace: ${name} refused the map: ${why}`, `check the ranges in ${file}`);
  }
}

/**
 * Write the maps of the init's user namespace while it waits for GO: the
 * helpers as child processes, the files in one batch through io (a worker
 * thread of the shim in the library), so the event loop is not held.
 */
export async function writeIdMaps(io: StartIO, pid: number, maps: IdMaps): Promise<void> {
  const files: [string, string][] = [];
  if (maps.uidVia === "write") files.push([`/proc/${pid}/uid_map`, mapText(maps.uid)]);
  else await runHelper("newuidmap", pid, maps.uid);
  if (maps.gidVia === "write") {
    if (maps.denySetgroups) files.push([`/proc/${pid}/setgroups`, "deny"]);
    files.push([`/proc/${pid}/gid_map`, mapText(maps.gid)]);
  } else await runHelper("newgidmap", pid, maps.gid);
  const failed = await io.writeFiles(files);
  if (failed) {
    const file = files[failed.index]?.[0].split("/").pop() ?? "the maps";
    throw new HostError(`user namespace: writing ${file}: ${errnoText(-failed.rc)}`);
  }
}

/** The caller keeps its ids inside (the plan for a Spec without identity flags). */
export function defaultIdMaps(host: Host): IdMaps {
  const one = (id: number): IdRange[] => [{ inside: id, outside: id, count: 1 }];
  return { uid: one(host.uid), gid: one(host.gid), uidVia: "write", gidVia: "write", denySetgroups: !host.root };
}

/** What to do where a writable bind cannot be idmapped. */
export const IDMAP_REMEDY = `idmapped mounts need Linux 5.12 (ext4, xfs, btrfs), 5.19 (overlayfs) or 6.3 (tmpfs), and some filesystems (9p, NFS) have none; run with ${specField("userns", "host")} to keep host root (without capabilities), or ${specField("user")} UID, or bind it read-only`;

function idmapError(src: string, errno: number, stage: "open" | "clone" | "idmap"): HostError {
  const what = `bind of ${JSON.stringify(src)}`;
  if (stage === "open") {
    if (errno === 40) {
      return new HostError(
        `${what}: a symlink in the path (isolate never follows one to a writable source)`,
        "give the path with no symlink in it (realpath)",
      );
    }
    return new HostError(`${what}: ${errnoText(errno)}`);
  }
  if (stage === "clone") return new HostError(`${what}: cannot clone its mount: ${errnoText(errno)}`);
  const why =
    errno === 22 ? "its filesystem (or one mounted below it) does not support idmapped mounts" : errnoText(errno);
  return new HostError(`${what}: root runs mapped, and the bind cannot be idmapped: ${why}`, IDMAP_REMEDY);
}

/**
 * The mounts of the plan's binds that a mapped root's init cannot make
 * itself, in the order it takes them: each a detached, private clone of its
 * source (resolved as the caller, with no symlink followed); the writable ones
 * idmapped through the sandbox's own user namespace, so inside ids meet the
 * files' host owners one to one. On failure, closes what it made.
 */
export async function idmappedMounts(io: StartIO, shim: Shim, pid: number, ops: readonly Op[]): Promise<number[]> {
  const binds = idmapRequests(ops);
  if (binds.length === 0) return [];
  const ns = shim.open(`/proc/${pid}/ns/user`, O_RDONLY);
  if (ns < 0) throw new HostError(`user namespace of the sandbox: ${errnoText(-ns)}`);
  const fds: number[] = [];
  try {
    // One at a time, off the JS thread (io: a worker of the shim in the library).
    for (const b of binds) {
      const r = await io.idmapTree(b.src, ns, b.attrs, b.plain);
      if (typeof r !== "number") throw idmapError(b.src, r.errno, r.stage);
      fds.push(r);
    }
    return fds;
  } catch (e) {
    for (const fd of fds) shim.close(fd);
    throw e;
  } finally {
    shim.close(ns);
  }
}

/** One mount idmappedMounts() makes: its source, mount attributes, and where a plain bind may stand in. */
export interface IdmapRequest {
  readonly src: string;
  readonly attrs: number;
  readonly plain: PlainBind;
}

export function idmapRequests(ops: readonly Op[]): IdmapRequest[] {
  return idmappedBinds(ops).map((b) => {
    const flags = Number(b.args.flags);
    const ro = (flags & VIEW.RO) !== 0;
    // A read-only bind is never idmapped: root's files there stay nobody's (its
    // 0600 files and root-only sockets with them); the supervisor only resolves
    // its source, as the caller. Where the filesystem has no idmapped mounts, a
    // writable bind of a file (a device node: nothing can be created in it) is
    // made plainly too; a writable directory fails closed.
    const attrs = MOUNT_ATTR.NOSUID | (flags & VIEW.DEV ? 0 : MOUNT_ATTR.NODEV) | (ro ? MOUNT_ATTR.RDONLY : 0);
    const plain: PlainBind = ro ? "only" : "file";
    return { src: b.args.src, attrs, plain };
  });
}
