/**
 * Identity maps of a new user namespace, written by the supervisor while the
 * init waits for GO. Without extra privileges a process may map exactly its
 * own uid and gid, once, after denying setgroups.
 */
import { HostError } from "../errors.ts";
import { errnoText } from "../host/errno.ts";
import type { Host } from "../host/probe.ts";
import type { Shim } from "../shim/load.ts";

export interface IdMaps {
  readonly uid: string;
  readonly gid: string;
  readonly denySetgroups: boolean;
}

/** The caller keeps its ids inside. */
export function defaultIdMaps(host: Host): IdMaps {
  return {
    uid: `${host.uid} ${host.uid} 1\n`,
    gid: `${host.gid} ${host.gid} 1\n`,
    denySetgroups: !host.root,
  };
}

export function writeIdMaps(shim: Shim, pid: number, maps: IdMaps): void {
  const write = (file: string, data: string) => {
    const rc = shim.writeFile(`/proc/${pid}/${file}`, data);
    if (rc < 0) throw new HostError(`user namespace: writing ${file}: ${errnoText(-rc)}`);
  };
  if (maps.denySetgroups) write("setgroups", "deny");
  write("uid_map", maps.uid);
  write("gid_map", maps.gid);
}
