/**
 * The Spec: the one description of a sandbox. CLI flags, profile files and
 * library calls all produce a SpecInput; parseSpec() validates it with
 * valibot and normalizes it. Nothing downstream reads anything else.
 */
import * as v from "valibot";
import { field as specField } from "../errors.ts";
import { LANDLOCK_FIELDS, type LandlockMode } from "../facilities/landlock/fields.ts";
import { type Limits, LimitsInputSchema, normalizeLimits } from "../facilities/limits/fields.ts";
import { NET_FIELDS, type Net, normalizeNet } from "../facilities/net/fields.ts";
import { HARDENING_FIELDS, type Hardening, normalizeHardening } from "../facilities/privileges/fields.ts";
import { normalizePty, PTY_FIELDS, type PtySize } from "../facilities/pty/fields.ts";
import { CWD_MOUNTS, type CwdMount, type Mount, MountInputSchema, normalizeView } from "../facilities/view/fields.ts";
import { parseUnmask, type Unmask } from "../facilities/view/secret-fields.ts";
import { osString } from "../host/bytes.ts";
import { parseDuration } from "./units.ts";

/**
 * The namespaces a Spec may `share` (keep the host's) or `unshare` (create).
 *
 * @example
 * run({ command: ["ip", "addr"], share: ["net"] }); // the host's network
 */
export const NAMESPACES = ["pid", "mount", "uts", "ipc", "net", "cgroup", "user", "time"] as const;
export type Namespace = (typeof NAMESPACES)[number];

/** New by default; `user` ("auto") too, except for root outside the initial user namespace or with --user (src/facilities/namespaces/ops.ts). */
export const DEFAULT_NAMESPACES: readonly Namespace[] = ["pid", "mount", "uts", "ipc", "net", "cgroup"];

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

/** An entry of the masked-secrets list (`~/.ssh`) or a path it stands for (`/root/.ssh`). */
const UnmaskIn = v.pipe(
  v.string(),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const u = parseUnmask(dataset.value);
    if (typeof u === "string") {
      addIssue({ message: u });
      return NEVER;
    }
    return u;
  }),
);

export const SpecInputSchema = v.strictObject({
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
  /** Resource limits, rlimits and time limits (spellings in src/facilities/limits/fields.ts). */
  limits: v.optional(LimitsInputSchema),
  /** Capabilities, identity, user namespace maps, seccomp (hardening.ts). */
  ...HARDENING_FIELDS,
  /** Landlock: "auto" (default), "on" or "off" (src/facilities/landlock/fields.ts). */
  ...LANDLOCK_FIELDS,
  /** The filesystem view beyond the default one, in order (src/facilities/view/fields.ts). */
  mounts: v.optional(v.array(MountInputSchema), []),
  /** A directory to use instead of the host's / as the read-only base. */
  rootfs: v.optional(v.string()),
  /**
   * The caller's directory inside: "rw", "ro" or "none". Default: "ro" from the library,
   * "rw" from the CLI (it passes the default to parseSpec), "none" with rootfs.
   */
  cwdMount: v.optional(v.picklist(CWD_MOUNTS, `must be one of ${CWD_MOUNTS.join(", ")}`)),
  /** Credential stores to leave visible (src/facilities/view/secret-fields.ts lists what is masked by default). */
  unmask: v.optional(v.array(UnmaskIn), []),
  /** The network: none (default), host, or pasta (src/facilities/net/fields.ts). */
  ...NET_FIELDS,
  /** A terminal for the command (src/facilities/pty/fields.ts). */
  ...PTY_FIELDS,
});

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
export function normalize(p: Parsed, cwdMount: CwdMount = "ro"): Spec | [field: string, message: string] {
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
  const limits = normalizeLimits(p.limits);
  if (Array.isArray(limits)) return limits;
  const h = normalizeHardening(p, p.share.includes("user"));
  if (Array.isArray(h)) return h;
  if (h.needsUserNs) namespaces.user = true;
  if (h.hardening.userns === "host") {
    if (p.unshare.includes("user"))
      return [
        "userns",
        `${specField("userns", "host")} keeps the host's user namespace: drop ${specField("unshare", "user")}`,
      ];
    namespaces.user = false;
  }
  const view = normalizeView(p, cwdMount);
  if ("error" in view) return view.error;
  const net = normalizeNet(p.net, namespaces.net === false, namespaces.mount === true);
  if (Array.isArray(net)) return net;
  if (!namespaces.mount && (view.mounts.length > 0 || view.rootfs !== undefined || p.cwdMount !== undefined)) {
    return [
      "share",
      `the filesystem view (mounts, rootfs, cwd) needs a new mount namespace (do not ${specField("share", "mount")})`,
    ];
  }
  return {
    ...h.hardening,
    command: p.command,
    namespaces,
    hostname: p.hostname,
    env: p.env.map((e) => (e.value === undefined ? { name: e.name } : { name: e.name, value: e.value })),
    inheritEnv: p.inheritEnv,
    // Without the caller's directory inside, start at the root.
    cwd: p.cwd ?? (namespaces.mount && view.cwdMount === "none" ? "/" : undefined),
    killAfterMs: p.killAfter,
    landlock: p.landlock,
    ...view,
    unmask: p.unmask,
    limits,
    net,
    ...(p.pty === false ? {} : { pty: normalizePty(p.pty) }),
  };
}
