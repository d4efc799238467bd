/**
 * Who the command runs as, and how a new user namespace is mapped.
 *
 *  - Without a user namespace the command keeps the caller's ids, or, with
 *    `--user UID[:GID]` (root only), becomes that host identity with GID as
 *    its only group.
 *  - In a new user namespace the command is `--uid`/`--gid` inside (default:
 *    the caller's own ids), mapped to the host identity (the caller, or
 *    --user's) with one line; `--userns auto` adds the caller's /etc/subuid and
 *    /etc/subgid ranges around it; `--map-uid`/`--map-gid` give the maps whole.
 *  - Root in the initial user namespace, with no identity flag (or only
 *    --uid/--gid), gets a new user namespace mapping ids 0-65535 to an
 *    unprivileged host range that no account uses: root's first range in
 *    /etc/subuid and /etc/subgid if it has one, else ROOT_RANGE_BASE. Root
 *    inside is then nobody to the host's files; writable binds are idmapped
 *    (src/facilities/view/ops.ts, src/facilities/identity/idmap.ts) so that what the command
 *    makes there still belongs to root. Every such sandbox shares the range:
 *    see docs/hardening.md ("Root is not host root") for why.
 *  - --allow-nested, where the command would be uid 0 inside without
 *    CAP_SETFCAP (no --uid, no explicit maps): it is NESTED_ID (nobody)
 *    instead. Since Linux 5.12 the kernel lets only a holder of CAP_SETFCAP
 *    map uid 0 of a namespace into a child one (kernel/user_namespace.c,
 *    verify_root_map), and a process may map no uid but its own without
 *    CAP_SETUID: uid 0 without capabilities could make no user namespace with
 *    a uid in it, so nothing could nest. exec says so (nestedIdNotice).
 *  - The supervisor writes the maps (src/facilities/identity/idmap.ts) before GO:
 *    directly when root or when a map is just the caller's own id, else
 *    through newuidmap/newgidmap.
 */

import type { Namespace, Spec } from "../../config/schema.ts";
import { type FieldNamer, HostError, nameFields, field as specField } from "../../errors.ts";
import { type Host, ownIdMap, setgroupsAllowed } from "../../host/probe.ts";
import { readSubIds, SUBGID, SUBUID, type SubRange, userName } from "../../host/subid.ts";
import { type Op, op } from "../../plan/op.ts";
import type { Resolved } from "../../plan/resolve.ts";
import { CAP } from "../privileges/capabilities.ts";
import { type IdRange, MAX_MAP_LINES } from "../privileges/fields.ts";

export interface IdMapPlan {
  readonly uid: readonly IdRange[];
  readonly gid: readonly IdRange[];
  /** "write": the supervisor writes /proc/PID/uid_map itself; else the setuid helper does. */
  readonly uidVia: "write" | "newuidmap";
  readonly gidVia: "write" | "newgidmap";
  /** Write "deny" to /proc/PID/setgroups first (needed to map a gid without privilege). */
  readonly denySetgroups: boolean;
}

export interface IdentityPlan {
  /** The maps of the new user namespace; undefined when there is none. */
  readonly maps: IdMapPlan | undefined;
  /** The command's ids as its own namespace sees them; undefined: keep the init's. */
  readonly ids: { readonly uid: number; readonly gid: number } | undefined;
  /** Supplementary groups to set (only where setgroups is allowed); undefined: leave them. */
  readonly groups: readonly number[] | undefined;
  /** The host uid the command ends up with (the init keeps the caller's). */
  readonly hostUid: number;
  /**
   * Root mapped to an unprivileged range: writable binds must be idmapped
   * (files there keep their host owners), else the command could not write them.
   */
  readonly mappedRoot: boolean;
  /** --allow-nested made the command NESTED_ID rather than uid 0 (see the header). */
  readonly nestedId?: boolean;
}

/**
 * The host range root's sandboxes use when /etc/subuid (/etc/subgid) has none
 * for root: 65536 ids from 2130706432 (0x7f000000). It lies in the block
 * systemd leaves unused (1879048192-2147483647: above its container ranges,
 * below 2^31, which some tools mishandle, and clear of its 0x7ffe0000
 * "foreign" range); no account is expected there.
 */
export const ROOT_RANGE_BASE = 0x7f000000;
/** Ids mapped for root's sandboxes: 0-65535 inside, so --uid/--gid up to 65535 work. */
export const ROOT_RANGE_COUNT = 65536;

export interface SubIdSource {
  subuid(user: { uid: number; name: string | undefined }): SubRange[];
  subgid(user: { uid: number; name: string | undefined }): SubRange[];
}

/**
 * The id a --allow-nested command gets instead of uid 0 (see the header): nobody,
 * the id unprivileged tools expect, and the one the other rules already use.
 */
export const NESTED_ID = 65534;

/**
 * --allow-nested with no say on the command's uid (no --uid, no --map-uid):
 * if it would be uid 0 without CAP_SETFCAP, it is NESTED_ID instead.
 */
function nestedDefault(spec: Spec): boolean {
  if (!spec.allowNested || spec.uid !== undefined || spec.mapUid.length > 0) return false;
  return spec.capAdd !== "all" && !spec.capAdd.includes(CAP.SETFCAP);
}

const SYSTEM_SUBIDS: SubIdSource = {
  subuid: (u) => readSubIds(SUBUID, u),
  subgid: (u) => readSubIds(SUBGID, u),
};

/** `self` inside at `id`, the subordinate ranges filling the other inside ids from 0 up. */
export function autoMap(id: number, self: number, ranges: readonly SubRange[]): IdRange[] {
  const lines: IdRange[] = [{ inside: id, outside: self, count: 1 }];
  let next = 0;
  for (const r of ranges) {
    let out = r.start;
    let left = r.count;
    while (left > 0) {
      if (next === id) {
        next++;
        continue;
      }
      const chunk = next < id ? Math.min(left, id - next) : left;
      lines.push({ inside: next, outside: out, count: chunk });
      next += chunk;
      out += chunk;
      left -= chunk;
    }
  }
  return lines.sort((a, b) => a.inside - b.inside);
}

/** Where `id` inside lands outside, or undefined when it is not mapped. */
export function outsideOf(id: number, map: readonly IdRange[]): number | undefined {
  const r = map.find((l) => id >= l.inside && id < l.inside + l.count);
  return r === undefined ? undefined : r.outside + (id - r.inside);
}

const ownOnly = (map: readonly IdRange[], self: number) =>
  map.length === 1 && map[0]?.outside === self && map[0]?.count === 1;

/**
 * The identity plan of a Spec for this caller, given its new namespaces
 * (--userns auto reads /etc/subuid and /etc/subgid, and /etc/passwd for the
 * caller's name). Made once, by resolveSandbox (src/plan/resolve.ts):
 * everything else reads `Resolved.identity`.
 */
export function identityPlan(
  spec: Spec,
  host: Host,
  fresh: readonly Namespace[],
  subids: SubIdSource = SYSTEM_SUBIDS,
): IdentityPlan {
  return makeIdentityPlan(spec, host, fresh, subids);
}

/** What isolate's own user namespace maps, for a message: "0-0", "0-65535". */
const ownRanges = (kind: "uid" | "gid") =>
  ownIdMap(kind)
    .map((l) => `${l.inside}-${l.inside + l.count - 1}`)
    .join(", ") || "nothing";

const WIDER_MAP =
  "use an id it maps, or give it a wider map (unshare --map-auto --map-root-user, podman --userns=auto, a Kubernetes pod's user namespace)";

/**
 * In a user namespace other than the initial one, only ids its map holds
 * exist: the kernel refuses to switch to, or map, any other.
 */
function checkMappedHere(host: Host, kind: "uid" | "gid", ranges: readonly IdRange[], what: string): void {
  if (host.initialUserNs) return;
  for (const r of ranges) {
    const missing = firstUnmapped(kind, r.outside, r.count);
    if (missing === undefined) continue;
    throw new HostError(
      `${what}: ${kind} ${missing} is not mapped in the user namespace isolate runs in (its ${kind}_map holds ${ownRanges(kind)})`,
      WIDER_MAP,
    );
  }
}

/** The first id of [start, start+count) that isolate's own namespace does not map, if any. */
function firstUnmapped(kind: "uid" | "gid", start: number, count: number): number | undefined {
  let at = start;
  const end = start + count;
  for (;;) {
    if (at >= end) return undefined;
    const l = ownIdMap(kind).find((x) => at >= x.inside && at < x.inside + x.count);
    if (!l) return at;
    at = l.inside + l.count;
  }
}

function makeIdentityPlan(spec: Spec, host: Host, fresh: readonly Namespace[], subids: SubIdSource): IdentityPlan {
  if (spec.user && !host.root) {
    throw new HostError(
      `${specField("user")} needs root (it switches to another host identity)`,
      `without root, use ${specField("uid")}/${specField("gid")}: the identity seen inside a user namespace`,
    );
  }
  const target = spec.user ?? { uid: host.uid, gid: host.gid };
  if (spec.user) {
    checkMappedHere(host, "uid", [{ inside: 0, outside: target.uid, count: 1 }], specField("user", `${target.uid}`));
    checkMappedHere(
      host,
      "gid",
      [{ inside: 0, outside: target.gid, count: 1 }],
      specField("user", `${target.uid}:${target.gid}`),
    );
  }
  // A parent namespace that denied setgroups denies it to every child: groups cannot be set.
  const canSetGroups = host.initialUserNs || setgroupsAllowed();
  if (!fresh.includes("user")) {
    if (!spec.user) return { maps: undefined, ids: undefined, groups: undefined, hostUid: host.uid, mappedRoot: false };
    if (!canSetGroups) {
      throw new HostError(
        `${specField("user")}: the user namespace isolate runs in denies setgroups (/proc/self/setgroups), so the command could not be given GID as its only group`,
        `run isolate in a user namespace created with setgroups allowed (a map written by newgidmap or by root of the parent), or use ${specField("uid")}/${specField("gid")}`,
      );
    }
    return { maps: undefined, ids: target, groups: [target.gid], hostUid: target.uid, mappedRoot: false };
  }
  if (mapsRoot(spec, host)) return mappedRootPlan(spec, subids);

  const nested = nestedDefault(spec) && target.uid === 0;
  const inside = {
    uid: spec.uid ?? (nested ? NESTED_ID : target.uid),
    gid: spec.gid ?? (nested && spec.mapGid.length === 0 ? NESTED_ID : target.gid),
  };
  const auto = (kind: "uid" | "gid"): IdRange[] => {
    const who = { uid: host.uid, name: userName(host.uid) };
    const ranges = kind === "uid" ? subids.subuid(who) : subids.subgid(who);
    const file = kind === "uid" ? SUBUID : SUBGID;
    const name = who.name ?? String(who.uid);
    if (ranges.length === 0) {
      throw new HostError(
        `${specField("userns", "auto")}: ${file} has no range for ${name}`,
        `add one, e.g. usermod --add-sub${kind}s 100000-165535 ${name}`,
      );
    }
    const map = autoMap(inside[kind], target[kind], ranges);
    if (map.length > MAX_MAP_LINES)
      throw new HostError(`${specField("userns", "auto")}: ${file} gives more than ${MAX_MAP_LINES} ranges`);
    return map;
  };
  const one = (kind: "uid" | "gid"): IdRange[] => [{ inside: inside[kind], outside: target[kind], count: 1 }];
  const uidMap = spec.mapUid.length ? spec.mapUid : spec.userns === "auto" ? auto("uid") : one("uid");
  const gidMap = spec.mapGid.length ? spec.mapGid : spec.userns === "auto" ? auto("gid") : one("gid");

  const hostUid = outsideOf(inside.uid, uidMap);
  if (hostUid === undefined) throw new HostError(`uid ${inside.uid} is not mapped by ${specField("mapUid")}`);
  if (outsideOf(inside.gid, gidMap) === undefined)
    throw new HostError(`gid ${inside.gid} is not mapped by ${specField("mapGid")}`);

  checkMappedHere(host, "uid", uidMap, spec.mapUid.length ? specField("mapUid") : "the user namespace's uid map");
  checkMappedHere(host, "gid", gidMap, spec.mapGid.length ? specField("mapGid") : "the user namespace's gid map");

  // Since Linux 5.12 mapping uid 0 of the parent needs CAP_SETFCAP there: uid 0 without it
  // (the command of another sandbox) has no id it could map.
  if (!host.root && host.uid === 0 && uidMap.some((r) => r.outside === 0)) {
    throw new HostError(
      "user namespace: isolate runs as uid 0 without capabilities, and the kernel lets only a holder of CAP_SETFCAP map uid 0 into a new user namespace",
      `run isolate as another uid; in an outer isolate, give that one ${specField("allowNested")} (its command then runs as 65534)`,
    );
  }

  const uidVia = host.root || ownOnly(uidMap, host.uid) ? "write" : "newuidmap";
  const gidVia = host.root || ownOnly(gidMap, host.gid) ? "write" : "newgidmap";
  // newgidmap leaves setgroups allowed only when a subordinate range is mapped.
  const groupsAllowed = canSetGroups && (host.root || (gidVia === "newgidmap" && !ownOnly(gidMap, host.gid)));
  return {
    maps: { uid: uidMap, gid: gidMap, uidVia, gidVia, denySetgroups: !host.root && gidVia === "write" },
    ids: inside,
    groups: groupsAllowed ? [inside.gid] : undefined,
    hostUid,
    mappedRoot: false,
    nestedId: nested,
  };
}

/**
 * Whether a new user namespace maps root to the unprivileged range: root in
 * the initial user namespace, no host identity (--user) and no explicit maps
 * (--map-uid/--map-gid, --userns auto).
 */
function mapsRoot(spec: Spec, host: Host): boolean {
  return (
    host.root &&
    spec.user === undefined &&
    spec.userns === "default" &&
    spec.mapUid.length === 0 &&
    spec.mapGid.length === 0 &&
    host.initialUserNs
  );
}

/** Root's range for one kind: its first subordinate range (up to 65536 ids), else the fixed one. */
function rootRange(kind: "uid" | "gid", subids: SubIdSource): SubRange {
  const root = { uid: 0, name: "root" };
  const first = (kind === "uid" ? subids.subuid(root) : subids.subgid(root))[0];
  if (!first) return { start: ROOT_RANGE_BASE, count: ROOT_RANGE_COUNT };
  if (first.start === 0) {
    throw new HostError(
      `${kind === "uid" ? SUBUID : SUBGID}: root's range starts at 0 (host root)`,
      "give root a range of unused ids (e.g. usermod --add-subuids 2130706432-2130771967 root)",
    );
  }
  return { start: first.start, count: Math.min(first.count, ROOT_RANGE_COUNT) };
}

function mappedRootPlan(spec: Spec, subids: SubIdSource): IdentityPlan {
  const uids = rootRange("uid", subids);
  const gids = rootRange("gid", subids);
  const nested = nestedDefault(spec);
  const inside = { uid: spec.uid ?? (nested ? NESTED_ID : 0), gid: spec.gid ?? (nested ? NESTED_ID : 0) };
  for (const [kind, id, r] of [
    ["uid", inside.uid, uids],
    ["gid", inside.gid, gids],
  ] as const) {
    if (id >= r.count) {
      throw new HostError(
        `${specField(kind, `${id}`)}: root's sandboxes map ${kind}s 0-${r.count - 1} only`,
        `use a ${kind} below ${r.count}${r.count < ROOT_RANGE_COUNT ? `, or give root a larger range in ${kind === "uid" ? SUBUID : SUBGID}` : ""}`,
      );
    }
  }
  const uid: IdRange[] = [{ inside: 0, outside: uids.start, count: uids.count }];
  const gid: IdRange[] = [{ inside: 0, outside: gids.start, count: gids.count }];
  return {
    maps: { uid, gid, uidVia: "write", gidVia: "write", denySetgroups: false },
    ids: inside,
    groups: [inside.gid],
    hostUid: uids.start + inside.uid,
    mappedRoot: true,
    nestedId: nested,
  };
}

export function gidBytes(gids: readonly number[]): Uint8Array {
  const b = new Uint8Array(gids.length * 4);
  const v = new DataView(b.buffer);
  gids.forEach((g, i) => {
    v.setUint32(i * 4, g, true);
  });
  return b;
}

/** Where host `id` lands inside, or undefined when the map leaves it out. */
export function insideOf(id: number, map: readonly IdRange[]): number | undefined {
  const r = map.find((l) => id >= l.outside && id < l.outside + l.count);
  return r === undefined ? undefined : r.inside + (id - r.outside);
}

/**
 * Sandbox phase: when the maps leave out the caller's own ids, the init runs
 * unmapped and the kernel refuses to create files for it (EOVERFLOW); it takes
 * mapped ids first: root of the namespace when mapped, else the command's.
 */
export function initIdentityOps(r: Resolved): Op[] {
  const { host, identity: plan } = r;
  const maps = plan.maps;
  if (!maps || !plan.ids) return [];
  if (insideOf(host.uid, maps.uid) !== undefined && insideOf(host.gid, maps.gid) !== undefined) return [];
  const uid = outsideOf(0, maps.uid) !== undefined ? 0 : plan.ids.uid;
  const gid = outsideOf(0, maps.gid) !== undefined ? 0 : plan.ids.gid;
  return [op("initIds", { uid, gid })];
}

/** setGroups and setIds, for the command's process. */
export function identityOps(plan: IdentityPlan): Op[] {
  const ops: Op[] = [];
  if (plan.groups) ops.push(op("setGroups", { gids: gidBytes(plan.groups) }));
  if (plan.ids) ops.push(op("setIds", { uid: plan.ids.uid, gid: plan.ids.gid }));
  return ops;
}

/**
 * The one line `isolate exec` prints when root chose to stay host root
 * (--userns host, no --user): undefined otherwise.
 */
export function hostRootWarning(
  r: Pick<Resolved, "spec" | "host" | "namespaces">,
  namer?: FieldNamer,
): string | undefined {
  const { spec, host } = r;
  if (!host.root || spec.user !== undefined || r.namespaces.includes("user")) return undefined;
  if (!host.initialUserNs) return undefined;
  // --share user says the same, but predates the mapped default: it stays quiet.
  if (spec.userns !== "host") return undefined;
  const flag = specField("userns", "host");
  return nameFields(
    `warning: ${flag}: the command runs as host root (uid 0, without capabilities): it can read root's secrets and write root's files that it can reach; without ${flag}, root runs mapped to an unprivileged range`,
    namer,
  );
}

/**
 * The one line `isolate exec` prints when --allow-nested made the command
 * NESTED_ID rather than uid 0 (see the header): undefined otherwise.
 */
export function nestedIdNotice(r: Pick<Resolved, "identity">, namer?: FieldNamer): string | undefined {
  if (!r.identity.nestedId) return undefined;
  return nameFields(
    `note: ${specField("allowNested")}: the command runs as uid ${NESTED_ID}, not 0: uid 0 without CAP_SETFCAP cannot map itself ` +
      `into a user namespace (Linux 5.12+), so nothing could nest; ${specField("uid", `${NESTED_ID}`)} says so and silences this, ${specField("uid")} N picks another`,
    namer,
  );
}
