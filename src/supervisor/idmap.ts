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
import type { Shim } from "../shim/load.ts";
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

function runHelper(name: "newuidmap" | "newgidmap", pid: number, map: readonly IdRange[]): void {
  const path = findHelper(name);
  if (!path) {
    throw new HostError(
      `user namespace: mapping subordinate ids needs ${name}, which is not installed`,
      "install it (Debian/Ubuntu: apt-get install uidmap)",
    );
  }
  const args = map.flatMap((r) => [String(r.inside), String(r.outside), String(r.count)]);
  const r = Bun.spawnSync([path, String(pid), ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) {
    const why = r.stderr.toString().trim().split("\n").pop() ?? `exit ${r.exitCode}`;
    const file = name === "newuidmap" ? "/etc/subuid" : "/etc/subgid";
    throw new HostError(`user namespace: ${name} refused the map: ${why}`, `check the ranges in ${file}`);
  }
}

export function writeIdMaps(shim: Shim, pid: number, maps: IdMaps): void {
  const write = (file: string, data: string) => {
    const rc = shim.writeFile(`/proc/${pid}/${file}`, data);
    if (rc < 0) throw new HostError(`user namespace: writing ${file}: ${errnoText(-rc)}`);
  };
  if (maps.uidVia === "write") write("uid_map", mapText(maps.uid));
  else runHelper("newuidmap", pid, maps.uid);
  if (maps.gidVia === "write") {
    if (maps.denySetgroups) write("setgroups", "deny");
    write("gid_map", mapText(maps.gid));
  } else runHelper("newgidmap", pid, maps.gid);
}

/** The caller keeps its ids inside (the plan for a Spec without identity flags). */
export function defaultIdMaps(host: Host): IdMaps {
  const one = (id: number): IdRange[] => [{ inside: id, outside: id, count: 1 }];
  return { uid: one(host.uid), gid: one(host.gid), uidVia: "write", gidVia: "write", denySetgroups: !host.root };
}
