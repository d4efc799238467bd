/** Ops in words: for `isolate plan` and for naming the op that failed. */

import type { Namespace } from "../config/schema.ts";
import { describeLandlock } from "../facilities/landlock/ops.ts";
import { RLIMIT_NAMES } from "../facilities/limits/fields.ts";
import { CLONE_FLAG } from "../facilities/namespaces/ops.ts";
import { capList } from "../facilities/privileges/capabilities.ts";
import { describeViewOp } from "../facilities/view/describe.ts";
import { quoteOs } from "../host/bytes.ts";
import type { Op } from "./op.ts";

const q = quoteOs;

export { RLIMIT_NAMES };

const RLIM_INFINITY = 0xffffffffffffffffn;

function nsList(flags: number | bigint): string {
  const f = Number(flags);
  const names = (Object.keys(CLONE_FLAG) as Namespace[]).filter((ns) => f & CLONE_FLAG[ns]);
  return names.length ? names.join(", ") : "none";
}

function gidList(b: Uint8Array): string {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: number[] = [];
  for (let i = 0; i + 4 <= b.length; i += 4) out.push(v.getUint32(i, true));
  return out.length ? out.join(", ") : "none";
}

const lim = (v: number | bigint) => (BigInt(v) === RLIM_INFINITY ? "unlimited" : String(v));

/**
 * One op in words, as `isolate plan` and setup errors print it.
 *
 * @example
 * describeOp({ op: "hostname", args: { name: "box" } }); // 'hostname "box"'
 */
export function describeOp(o: Op): string {
  switch (o.op) {
    case "clone":
      return `clone with new namespaces: ${nsList(o.args.flags)}`;
    case "mountPrivate":
      return "make every mount private";
    case "unshare":
      return `unshare ${nsList(o.args.flags)}`;
    case "hostname":
      return `hostname ${q(o.args.name)}`;
    case "mountRoot":
    case "bind":
    case "tmpfs":
    case "mountProc":
    case "mountDev":
    case "mask":
    case "readonly":
    case "overlay":
    case "symlink":
    case "mkdir":
    case "mountPoints":
    case "mountCgroup":
    case "pivotRoot":
      return describeViewOp(o);
    case "initLimits": {
      const parts: string[] = [];
      if (Number(o.args.wallUs) > 0)
        parts.push(
          `wall ${Number(o.args.wallUs) / 1000}ms from the command's start, SIGTERM then kill-after ${Number(o.args.graceUs) / 1000}ms`,
        );
      if (Number(o.args.cpuUs) > 0) parts.push(`CPU ${Number(o.args.cpuUs) / 1000}ms read from ${q(o.args.cpuFile)}`);
      return `the init enforces: ${parts.join("; ")}`;
    }
    case "loopbackUp":
      return "bring loopback up";
    case "ptyOpen":
      return `a terminal from the sandbox's devpts (${o.args.rows}x${o.args.cols}), its master to the supervisor`;
    case "ptyAttach":
      return "the terminal: controlling terminal, stdin, stdout, stderr";
    case "setsid":
      return "new session";
    case "keyring":
      return "new session keyring";
    case "chdir":
      return `chdir ${q(o.args.dir)}`;
    case "rlimit":
      return `rlimit ${RLIMIT_NAMES[Number(o.args.resource)] ?? o.args.resource}=${lim(o.args.soft)}:${lim(o.args.hard)}`;
    case "initCaps":
      return `the init keeps capabilities: ${capList(o.args.keep)}${
        Number(o.args.flags) & 1 ? `, takes uid ${o.args.uid}, gid ${o.args.gid}` : ""
      }${Number(o.args.flags) & 2 ? `, groups ${gidList(o.args.gids)}` : ""}`;
    case "noNewPrivs":
      return "set no_new_privs";
    case "capBounding":
      return `capability bounding set: keep ${capList(o.args.keep)}`;
    case "securebits":
      return `lock securebits 0x${Number(o.args.bits).toString(16)} (no root privileges on exec)`;
    case "setGroups":
      return `supplementary groups: ${gidList(o.args.gids)}`;
    case "initIds":
      return `the init takes uid ${o.args.uid}, gid ${o.args.gid} in its user namespace`;
    case "setIds":
      return `uid ${o.args.uid}, gid ${o.args.gid}`;
    case "caps":
      return `capabilities: keep ${capList(o.args.keep)}`;
    case "landlock":
      return describeLandlock(o.args);
    case "seccomp":
      return `seccomp filter (${o.args.filter.length / 8} instructions)`;
    case "exec":
      return `exec ${q(o.args.argv[0] ?? "")}`;
  }
}
