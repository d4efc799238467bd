/**
 * Capabilities and no_new_privs.
 *
 * The command holds no capability at all by default: bounding, permitted,
 * effective, inheritable and ambient sets all empty, no_new_privs set, and
 * securebits locked so that neither uid 0 nor a setuid/file-capability binary
 * brings any back, across every further exec. `--cap-add CAP` keeps named
 * ones (in all five sets, through the ambient set across exec); then only
 * NOROOT is locked, so the command may still manage its own capabilities
 * across uid changes (setpriv, su-like tools).
 *
 * Run as root with no identity flag, the command is uid 0 of a user
 * namespace mapped to an unprivileged range (identity.ts). Only with
 * `--userns host` (or `--share user`) is it still uid 0 on the host, only
 * without capabilities: it owns every root-owned file the sandbox can see
 * (mode bits still apply), and can signal root's processes where the pid
 * namespace is shared.
 *
 * The init (pid 1 of the sandbox) holds nothing either once the command is
 * started: every capability set empty, bounding set included, and it takes
 * the command's ids (and groups), so that it can still forward signals to
 * every process of the sandbox and, on SIG_END, kill them all: kill() needs
 * matching uids, not CAP_KILL. Only with --cap-add, where the command may
 * change its own uid with what it keeps, does the init keep CAP_KILL (and
 * nothing else) to still reach it.
 */

import { HostError, field as specField } from "../../errors.ts";
import { capLast, ownCaps } from "../../host/capabilities.ts";
import { INIT } from "../../plan/flags.ts";
import { type Op, op } from "../../plan/op.ts";
import type { Resolved } from "../../plan/resolve.ts";
import { gidBytes, identityOps } from "../identity/ops.ts";
import { CAP, capName } from "./capabilities.ts";
import { ALL_CAPABILITIES } from "./fields.ts";

/** linux/securebits.h */
export const SECBIT = {
  NOROOT: 1 << 0,
  NOROOT_LOCKED: 1 << 1,
  NO_SETUID_FIXUP: 1 << 2,
  NO_SETUID_FIXUP_LOCKED: 1 << 3,
  KEEP_CAPS: 1 << 4,
  KEEP_CAPS_LOCKED: 1 << 5,
} as const;

/**
 * With no capability kept: uid 0 is not special on exec, and uid changes
 * neither drop nor bring capabilities, all locked for good.
 */
export const LOCKED_SECUREBITS =
  SECBIT.NOROOT |
  SECBIT.NOROOT_LOCKED |
  SECBIT.NO_SETUID_FIXUP |
  SECBIT.NO_SETUID_FIXUP_LOCKED |
  SECBIT.KEEP_CAPS_LOCKED;

/**
 * With --cap-add: no root magic on exec either, but the command may still
 * manage its own capabilities across uid changes (setpriv, su-like tools);
 * KEEP_CAPS carries the kept ones over isolate's own uid change and is
 * cleared by the exec.
 */
export const KEEPING_SECUREBITS = SECBIT.NOROOT | SECBIT.NOROOT_LOCKED | SECBIT.KEEP_CAPS;

const bit = (cap: number) => 1n << BigInt(cap);

/**
 * The capabilities the command keeps, as a mask; throws where one cannot be
 * kept. In a new user namespace the kernel gives its creator every
 * capability (bounding set included), scoped to that namespace; outside one,
 * only what isolate's own bounding set still has.
 */
export function keptCaps(r: Pick<Resolved, "spec" | "host" | "namespaces">, ownBounding?: bigint): bigint {
  const { spec, host } = r;
  if (spec.capAdd !== "all" && spec.capAdd.length === 0) return 0n;
  const last = capLast();
  const inUserNs = r.namespaces.includes("user");
  if (!host.root && !inUserNs) {
    throw new HostError(
      `${specField("capAdd")}: without root, capabilities exist only inside a new user namespace`,
      `drop ${specField("share", "user")}`,
    );
  }
  const bounding = inUserNs ? (1n << BigInt(last + 1)) - 1n : (ownBounding ?? ownCaps().bounding);
  if (spec.capAdd === "all") {
    return ALL_CAPABILITIES.filter((c) => c <= last && bounding & bit(c)).reduce((m, c) => m | bit(c), 0n);
  }
  let mask = 0n;
  for (const c of spec.capAdd) {
    if (c > last) throw new HostError(`${specField("capAdd", capName(c))}: this kernel does not know it`);
    if (!(bounding & bit(c))) {
      throw new HostError(
        `${specField("capAdd", capName(c))}: isolate itself runs without it (not in its bounding set), so it cannot be kept`,
        "run isolate from a context that has it",
      );
    }
    mask |= bit(c);
  }
  return mask;
}

/** initCaps flags (src/plan/flags.ts): take the command's uid and gid; set its supplementary groups. */
export const INIT_TAKE_IDS = INIT.TAKE_IDS;
export const INIT_SET_GROUPS = INIT.SET_GROUPS;

/** Sandbox phase: what the init keeps, and whose ids it takes, once the command is started. */
export function initPrivilegeOps(r: Resolved): Op[] {
  const id = r.identity;
  const keep = r.caps === 0n ? 0 : Number(bit(CAP.KILL));
  const flags = (id.ids ? INIT_TAKE_IDS : 0) | (id.groups ? INIT_SET_GROUPS : 0);
  return [
    op("initCaps", {
      keep,
      uid: id.ids?.uid ?? 0,
      gid: id.ids?.gid ?? 0,
      gids: gidBytes(id.groups ?? []),
      flags,
    }),
  ];
}

/** Command phase: no_new_privs, capabilities, identity. */
export function privilegeOps(r: Resolved): Op[] {
  if (!r.host.root && !r.namespaces.includes("user")) {
    throw new HostError(
      `${specField("share", "user")}: without root, the command's capability bounding set can only be emptied in a new user namespace`,
      `drop ${specField("share", "user")}`,
    );
  }
  const kept = r.caps;
  const keep = Number(kept); // at most 41 bits: exact as a number
  return [
    op("noNewPrivs", {}),
    op("capBounding", { keep }),
    op("securebits", { bits: kept === 0n ? LOCKED_SECUREBITS : KEEPING_SECUREBITS }),
    ...identityOps(r.identity),
    op("caps", { keep }),
  ];
}
