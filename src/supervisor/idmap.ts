/**
 * Identity maps of a new user namespace, written by the supervisor while the
 * init waits for GO (the plan of them: src/setup/identity.ts). Root writes
 * any map itself; without privileges a process may map exactly its own uid
 * and gid, once, after denying setgroups; anything more goes through the
 * setuid helpers newuidmap/newgidmap, which check /etc/subuid and /etc/subgid.
 */
import { HostError } from "../errors.ts";
import { errnoText } from "../host/errno.ts";
import type { Host } from "../host/probe.ts";
import { findHelper } from "../host/subid.ts";
import { type IdMapPlan, identityPlan } from "../setup/identity.ts";
import type { StartIO } from "../shim/load.ts";
import type { IdRange } from "../spec/hardening.ts";
import type { Spec } from "../spec/schema.ts";

export type IdMaps = IdMapPlan;

/** The maps for a Spec's new user namespace. */
export function idMapsFor(spec: Spec, host: Host): IdMaps {
  const plan = identityPlan(spec, host);
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
