/**
 * The Spec: the one description of a sandbox. CLI flags, profile files and
 * library calls all produce a SpecInput; parseSpec() validates it with
 * valibot and normalizes it. Nothing downstream reads anything else.
 */
import * as v from "valibot";
import { field as specField } from "../errors.ts";
import type { Facility, NormalizeContext } from "../facilities/facility.ts";
import { FACILITIES, type FACILITY_LIST } from "../facilities/index.ts";
import type { LandlockMode } from "../facilities/landlock/fields.ts";
import type { Limits } from "../facilities/limits/fields.ts";
import { DEFAULT_NAMESPACES, NAMESPACES, type Namespace } from "../facilities/namespaces/fields.ts";
import type { Net } from "../facilities/net/fields.ts";
import type { Hardening } from "../facilities/privileges/fields.ts";
import type { PtySize } from "../facilities/pty/fields.ts";
import type { CwdMount, Mount } from "../facilities/view/fields.ts";
import type { Unmask } from "../facilities/view/secret-fields.ts";
import { osString } from "../host/bytes.ts";
import { parseDuration } from "./units.ts";

export { DEFAULT_NAMESPACES, NAMESPACES, type Namespace } from "../facilities/namespaces/fields.ts";

const noNul = (what: string) => v.check((s: string) => !s.includes("\0"), `${what} contains a NUL byte`);

/**
 * An OS string: a JS string (bytes that are not UTF-8 as U+DC80..U+DCFF, see
 * src/host/bytes.ts), or the bytes themselves as a Uint8Array.
 */
const OsString = v.pipe(
  v.union([v.string(), v.instance(Uint8Array)], "must be a string or a Uint8Array"),
  v.transform((x): string => (typeof x === "string" ? x : osString(x))),
);

const Arg = v.pipe(OsString, noNul("argument"));

const Command = v.pipe(
  v.array(Arg, "the command must be a list of strings"),
  v.minLength(1, "no command given (put it after --)"),
  v.check((a) => (a[0] ?? "") !== "", "the command name is empty"),
);

const NsName = v.picklist(NAMESPACES, `unknown namespace (use ${NAMESPACES.join(", ")})`);

// Linux allows up to 64 bytes; keep to what resolvers accept.
const Hostname = v.pipe(
  v.string(),
  v.minLength(1, "empty hostname"),
  v.maxLength(64, "hostname longer than 64 bytes"),
  v.regex(/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/, "hostname may use only letters, digits, '.' and '-'"),
);

const EnvName = v.pipe(
  v.string(),
  v.regex(/^[^=\0]+$/, "environment variable name must be non-empty and contain no '=' or NUL"),
);

const EnvValue = v.pipe(OsString, noNul("environment value"));

const EnvEntry = v.strictObject({
  name: EnvName,
  /** Absent: pass the caller's value through (if it has one). */
  value: v.optional(EnvValue),
});

/** A list of entries, or an object `{ NAME: value }` (undefined: pass the caller's value through), in its order. */
const EnvInput = v.union(
  [
    v.array(EnvEntry),
    v.pipe(
      v.record(EnvName, v.optional(EnvValue)),
      v.transform((o) => Object.entries(o).map(([name, value]) => (value === undefined ? { name } : { name, value }))),
    ),
  ],
  "env must be a list of { name, value } or an object { NAME: value }",
);

const AbsPath = v.pipe(v.string(), noNul("path"), v.startsWith("/", "must be an absolute path"));

export const Duration = v.pipe(
  v.union([
    v.pipe(v.number(), v.integer("must be whole milliseconds"), v.minValue(0, "must not be negative")),
    v.string(),
  ]),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    if (typeof dataset.value === "number") return dataset.value;
    const ms = parseDuration(dataset.value);
    if (typeof ms === "string") {
      addIssue({ message: ms });
      return NEVER;
    }
    return ms;
  }),
);

/** The core fields: every sandbox has them (the facilities' own come from src/facilities/index.ts). */
const CORE_FIELDS = {
  /** argv of the command; argv[0] is looked up in PATH inside the sandbox when it has no '/'. */
  command: Command,
  /** Namespaces to keep from the host. */
  share: v.optional(v.array(NsName), []),
  /** Namespaces to create beyond the defaults (e.g. time, user). */
  unshare: v.optional(v.array(NsName), []),
  hostname: v.optional(Hostname),
  /** Ordered; later entries win. A list of { name, value }, or an object { NAME: value }. */
  env: v.optional(EnvInput, []),
  /** Keep the caller's whole environment instead of the allowlist. */
  inheritEnv: v.optional(v.boolean(), false),
  /** Working directory of the command (default: the caller's). */
  cwd: v.optional(AbsPath),
  /** Grace between a forwarded terminating signal and killing the whole sandbox. */
  killAfter: v.optional(Duration, 10_000),
} as const;

type EntriesOf<F> = F extends { readonly fields: { readonly entries: infer E } } ? E : unknown;
type Merged<T extends readonly unknown[]> = T extends readonly [infer H, ...infer R]
  ? EntriesOf<H> & Merged<R>
  : unknown;
type FacilityEntries = Merged<typeof FACILITY_LIST>;

/** The schema of a Spec with these facilities' fields (tests give their own list). */
export function specSchema(facilities: readonly Facility[]) {
  const entries: v.ObjectEntries = { ...CORE_FIELDS };
  for (const f of facilities) Object.assign(entries, f.fields?.entries);
  return v.strictObject(entries as typeof CORE_FIELDS & FacilityEntries);
}

export const SpecInputSchema = specSchema(FACILITIES);

export type SpecInput = v.InferInput<typeof SpecInputSchema>;
type Parsed = v.InferOutput<typeof SpecInputSchema>;

export interface Spec extends Hardening {
  readonly command: readonly string[];
  /** true: new; false: the host's; "auto": decided for the host (src/facilities/namespaces/ops.ts). */
  readonly namespaces: Readonly<Record<Namespace, boolean | "auto">>;
  readonly hostname: string | undefined;
  readonly env: readonly { readonly name: string; readonly value?: string }[];
  readonly inheritEnv: boolean;
  readonly cwd: string | undefined;
  readonly killAfterMs: number;
  readonly limits: Limits;
  /** Applied in order, after the default view. */
  readonly mounts: readonly Mount[];
  readonly rootfs: string | undefined;
  readonly cwdMount: CwdMount;
  /** Masked secrets kept visible. */
  readonly unmask: readonly Unmask[];
  /** Landlock around the command (src/facilities/landlock/ops.ts). */
  readonly landlock: LandlockMode;
  /** The network (src/facilities/net/fields.ts). */
  readonly net: Net;
  /** A pty for the command, with its window size (src/facilities/pty/fields.ts); absent: none. */
  readonly pty?: PtySize;
}

/**
 * Cross-field rules; returns the normalized Spec or the first problem as [field, message].
 * cwdMount: the default for the working directory (the library's "ro"; the CLI passes "rw").
 */
export function normalize(
  p: Parsed,
  cwdMount: CwdMount = "ro",
  facilities: readonly Facility[] = FACILITIES,
): Spec | [field: string, message: string] {
  const namespaces: Record<Namespace, boolean | "auto"> = {
    pid: false,
    mount: false,
    uts: false,
    ipc: false,
    net: false,
    cgroup: false,
    user: "auto",
    time: false,
  };
  for (const ns of DEFAULT_NAMESPACES) namespaces[ns] = true;
  for (const ns of p.unshare) {
    if (p.share.includes(ns)) return ["unshare", `namespace "${ns}" is both shared and unshared`];
    namespaces[ns] = true;
  }
  for (const ns of p.share) namespaces[ns] = false;
  if (p.net?.mode === "host") {
    if (p.unshare.includes("net")) return ["net.mode", `"host" contradicts unsharing net`];
    namespaces.net = false;
  }
  if (p.hostname !== undefined && !namespaces.uts) {
    return ["hostname", `setting the hostname needs a new uts namespace (do not ${specField("share", "uts")})`];
  }
  // Each facility's part, in the registry's order.
  const ctx: NormalizeContext = { namespaces, cwdMount };
  const lead: object[] = [];
  const rest: object[] = [];
  for (const f of facilities) {
    if (!f.fields) continue;
    const part = f.fields.normalize(p, ctx);
    if (Array.isArray(part)) return part as [string, string];
    (f.fields.lead ? lead : rest).push(part);
  }
  const parts = Object.assign({}, ...rest) as Record<string, unknown>;
  const spec = Object.assign({}, ...lead, {
    command: p.command,
    namespaces,
    hostname: p.hostname,
    env: p.env.map((e) => (e.value === undefined ? { name: e.name } : { name: e.name, value: e.value })),
    inheritEnv: p.inheritEnv,
    // Without the caller's directory inside, start at the root.
    cwd: p.cwd ?? (namespaces.mount && parts.cwdMount === "none" ? "/" : undefined),
    killAfterMs: p.killAfter,
    ...parts,
  }) as Spec;
  for (const f of facilities) {
    const problem = f.fields?.validate?.(p, spec as Spec & Record<string, unknown>);
    if (problem) return problem;
  }
  return spec;
}
