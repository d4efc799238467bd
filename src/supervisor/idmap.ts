/**
 * Identity maps of a new user namespace, written by the supervisor while the
 * init waits for GO. Without extra privileges a process may map exactly its
 * own uid and gid, once, after denying setgroups.
 */
import { writeFileSync } from "node:fs";
import { HostError } from "../errors.ts";
import type { Host } from "../host/probe.ts";

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

export function writeIdMaps(pid: number, maps: IdMaps): void {
  const write = (file: string, data: string) => {
    try {
      writeFileSync(`/proc/${pid}/${file}`, data);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? String(e);
      throw new HostError(`user namespace: writing ${file}: ${code}`);
    }
  };
  if (maps.denySetgroups) write("setgroups", "deny");
  write("uid_map", maps.uid);
  write("gid_map", maps.gid);
}
