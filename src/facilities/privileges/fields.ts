/**
 * The Spec's hardening and identity fields: capabilities kept, who the
 * command runs as, how a user namespace is mapped, and the seccomp filter.
 * Pieces of SpecInputSchema (schema.ts spreads HARDENING_FIELDS in) and the
 * cross-field rules for them.
 */
import * as v from "valibot";
import { field as specField } from "../../errors.ts";
import { DEFAULT_SECCOMP, type SeccompSetting } from "../seccomp/compile.ts";
import { PolicySchema, SyscallName } from "../seccomp/policy.ts";
import { CAPABILITIES, capNumber } from "./capabilities.ts";

/** Ids the kernel accepts: (uid_t)-1 means "unchanged" and is never an identity. */
const MAX_ID = 0xfffffffe;

const Id = v.pipe(
  v.number("an id must be a number"),
  v.integer("an id must be a whole number"),
  v.minValue(0, "an id must not be negative"),
  v.maxValue(MAX_ID, `an id must be at most ${MAX_ID}`),
);

const idText = (s: string) => (/^\d{1,10}$/.test(s) && Number(s) <= MAX_ID ? Number(s) : undefined);

/** --user UID[:GID] or { uid, gid? }. */
const HostUser = v.union(
  [
    v.pipe(
      v.string(),
      v.regex(/^\d{1,10}(:\d{1,10})?$/, "use UID or UID:GID (numbers)"),
      v.check((s) => s.split(":").every((p) => idText(p) !== undefined), `ids must be at most ${MAX_ID}`),
      v.transform((s) => {
        const [u, g] = s.split(":");
        return { uid: Number(u), gid: g === undefined ? undefined : Number(g) };
      }),
    ),
    v.strictObject({ uid: Id, gid: v.optional(Id) }),
  ],
  "use UID or UID:GID",
);

export interface IdRange {
  /** First id inside the user namespace. */
  readonly inside: number;
  /** First id outside (in the caller's namespace). */
  readonly outside: number;
  readonly count: number;
}

/** IN:OUT:COUNT or { inside, outside, count }. */
const Range = v.pipe(
  v.union(
    [
      v.pipe(
        v.string(),
        v.regex(/^\d{1,10}:\d{1,10}:\d{1,10}$/, "use IN:OUT:COUNT (numbers)"),
        v.transform((s) => {
          const [inside, outside, count] = s.split(":").map(Number);
          return { inside: inside ?? 0, outside: outside ?? 0, count: count ?? 0 };
        }),
      ),
      v.strictObject({ inside: Id, outside: Id, count: v.pipe(v.number(), v.integer()) }),
    ],
    "use IN:OUT:COUNT",
  ),
  v.check((r) => r.count >= 1, "COUNT must be at least 1"),
  v.check(
    (r) => r.inside + r.count - 1 <= MAX_ID && r.outside + r.count - 1 <= MAX_ID,
    "the range runs past the last id",
  ),
);

const CapName = v.pipe(
  v.string(),
  v.check(
    (s) => s.toUpperCase() === "ALL" || capNumber(s) !== undefined,
    "unknown capability (use a name like CAP_NET_BIND_SERVICE, or ALL)",
  ),
);

const Seccomp = v.lazy((input) =>
  typeof input === "string" ? v.picklist(["default", "none"], 'use "default", "none", or a policy file') : PolicySchema,
);

/** Spread into SpecInputSchema's entries. */
export const HARDENING_FIELDS = {
  /** Capabilities the command keeps (default: none at all). "ALL" keeps every one the caller has. */
  capAdd: v.optional(v.array(CapName), []),
  /** Run as this host identity (root only); groups are set to just GID (default: UID). */
  user: v.optional(HostUser),
  /** The uid seen inside a user namespace (implies one). Default: the caller's own. */
  uid: v.optional(Id),
  /** The gid seen inside a user namespace (implies one). Default: --uid's value, else the caller's own. */
  gid: v.optional(Id),
  /**
   * "auto": map a range from /etc/subuid and /etc/subgid (through newuidmap/newgidmap).
   * "host": keep the host's user namespace (as root: the command is host root,
   * without capabilities; what `--share user` does too). "default": a new one
   * where needed; as root, one mapping root to an unprivileged range (identity.ts).
   */
  userns: v.optional(v.picklist(["default", "auto", "host"], 'use "auto", "host" (or "default")'), "default"),
  /** Explicit user namespace maps (replace the default single-id map). */
  mapUid: v.optional(v.array(Range), []),
  mapGid: v.optional(v.array(Range), []),
  /** The seccomp filter: "default" (isolate's profile), "none", or a policy object. */
  seccomp: v.optional(Seccomp, "default"),
  /** Syscalls to allow / deny (EPERM) whatever the profile says. */
  seccompAllow: v.optional(v.array(SyscallName), []),
  seccompDeny: v.optional(v.array(SyscallName), []),
  /**
   * Let the command create user namespaces, and inside them the namespaces and
   * mounts a sandbox needs (isolate in isolate, bwrap, podman): the seccomp
   * filter allows those calls, and /proc is left unmasked so that a nested
   * one can mount its own. Everything else stays as it is.
   */
  allowNested: v.optional(v.boolean("allowNested must be true or false"), false),
} as const;

const Fields = v.object(HARDENING_FIELDS);
type Parsed = v.InferOutput<typeof Fields>;

/** The normalized hardening part of a Spec. */
export interface Hardening {
  /** Capability numbers kept, or "all" (every one the caller's bounding set has). */
  readonly capAdd: readonly number[] | "all";
  readonly user: { readonly uid: number; readonly gid: number } | undefined;
  readonly uid: number | undefined;
  readonly gid: number | undefined;
  readonly userns: "default" | "auto" | "host";
  readonly mapUid: readonly IdRange[];
  readonly mapGid: readonly IdRange[];
  readonly seccomp: SeccompSetting;
  readonly allowNested: boolean;
}

export const DEFAULT_HARDENING: Hardening = {
  capAdd: [],
  user: undefined,
  uid: undefined,
  gid: undefined,
  userns: "default",
  mapUid: [],
  mapGid: [],
  seccomp: DEFAULT_SECCOMP,
  allowNested: false,
};

/** Lines a uid_map/gid_map may have (kernel 4.15+). */
export const MAX_MAP_LINES = 340;

function overlap(ranges: readonly IdRange[], key: "inside" | "outside"): boolean {
  const sorted = [...ranges].sort((a, b) => a[key] - b[key]);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    const cur = sorted[i];
    if (prev && cur && prev[key] + prev.count > cur[key]) return true;
  }
  return false;
}

function checkMap(field: string, ranges: readonly IdRange[]): [string, string] | undefined {
  if (ranges.length > MAX_MAP_LINES) return [field, `at most ${MAX_MAP_LINES} ranges`];
  if (overlap(ranges, "inside")) return [field, "ranges overlap inside the namespace"];
  if (overlap(ranges, "outside")) return [field, "ranges overlap outside the namespace"];
  return undefined;
}

const mapped = (id: number, ranges: readonly IdRange[]) =>
  ranges.some((r) => id >= r.inside && id < r.inside + r.count);

/**
 * Cross-field rules. `userNs` is whether the Spec otherwise asks for a new
 * user namespace (true / false / "auto"); returns the fields, whether they
 * need a new user namespace, or the first problem as [field, message].
 */
export function normalizeHardening(
  p: Parsed,
  shareUser: boolean,
): { hardening: Hardening; needsUserNs: boolean } | [field: string, message: string] {
  const needsUserNs =
    p.uid !== undefined || p.gid !== undefined || p.userns === "auto" || p.mapUid.length > 0 || p.mapGid.length > 0;
  if (needsUserNs && (shareUser || p.userns === "host")) {
    const field = p.uid !== undefined ? "uid" : p.gid !== undefined ? "gid" : p.userns === "auto" ? "userns" : "mapUid";
    return [
      field,
      `needs a new user namespace (do not ${shareUser ? specField("share", "user") : specField("userns", "host")})`,
    ];
  }
  if (p.userns === "auto" && (p.mapUid.length > 0 || p.mapGid.length > 0)) {
    return [
      "userns",
      `${specField("userns", "auto")} and explicit ${specField("mapUid")}/${specField("mapGid")} exclude each other`,
    ];
  }
  const bad = checkMap("mapUid", p.mapUid) ?? checkMap("mapGid", p.mapGid);
  if (bad) return bad;
  if (p.uid !== undefined && p.mapUid.length > 0 && !mapped(p.uid, p.mapUid)) {
    return ["uid", `uid ${p.uid} is not inside any ${specField("mapUid")} range`];
  }
  const gid = p.gid ?? p.uid;
  if (gid !== undefined && p.mapGid.length > 0 && !mapped(gid, p.mapGid)) {
    return ["gid", `gid ${gid} is not inside any ${specField("mapGid")} range`];
  }
  const both = p.seccompAllow.filter((n) => p.seccompDeny.includes(n));
  if (both.length > 0) return ["seccompAllow", `${both[0]} is both allowed and denied`];
  if (p.seccomp === "none" && p.seccompAllow.length > 0) {
    return ["seccompAllow", `nothing to allow: ${specField("seccomp", "none")} has no filter`];
  }
  const all = p.capAdd.some((c) => c.toUpperCase() === "ALL");
  const caps = [...new Set(p.capAdd.map(capNumber).filter((n): n is number => n !== undefined))].sort((a, b) => a - b);
  const user = p.user === undefined ? undefined : { uid: p.user.uid, gid: p.user.gid ?? p.user.uid };
  return {
    needsUserNs,
    hardening: {
      capAdd: all ? "all" : caps,
      user,
      uid: p.uid,
      gid: p.gid ?? p.uid,
      userns: p.userns,
      mapUid: p.mapUid,
      mapGid: p.mapGid,
      seccomp: p.allowNested
        ? { profile: p.seccomp, allow: p.seccompAllow, deny: p.seccompDeny, nested: true }
        : { profile: p.seccomp, allow: p.seccompAllow, deny: p.seccompDeny },
      allowNested: p.allowNested,
    },
  };
}

export const ALL_CAPABILITIES: readonly number[] = CAPABILITIES.map((_, i) => i);
