/**
 * Resource limits in the Spec: the input schema (valibot) and the normalized
 * form everything downstream reads. Accepted spellings:
 *
 *   memory, memorySwap   size (512M, 1.5G, bytes as a number); at least 1M;
 *                        memorySwap is memory plus swap and needs memory
 *   cpus                 decimal CPUs, 0.01 to 8192 (0.5 = half of one CPU)
 *   cpuWeight, ioWeight  whole number 1..10000 (cgroup v2 weights; 100 is the default share)
 *   cpuset               cpu list: 0, 0-3, 0,2-3
 *   pids                 whole number 2..4194304; every process and thread counts, the init too
 *   ioReadBps/WriteBps   "DEV:RATE" or {device, rate}: DEV is MAJ:MIN or a /dev path, RATE a size per second
 *   rlimits              "NAME=SOFT[:HARD]" or {name, soft, hard}: a number, a size for byte
 *                        limits (fsize, data, stack, core, rss, memlock, as, msgqueue), or
 *                        "unlimited"; HARD defaults to SOFT
 *   timeout, cpuTime     duration (10s, 500ms, milliseconds as a number), more than 0
 *
 * Malformed values ("", 0 where it means nothing, -1, 12abc, 1e9, anything
 * past 2^53) are refused here, before anything is created.
 */
import * as v from "valibot";
import { parseCount, parseCpuList, parseDecimal, parseDuration, parseSize } from "../../config/units.ts";
import { field } from "../../errors.ts";

/** Linux's RLIMIT_* resources, in kernel order (the index is the resource number). */
export const RLIMIT_NAMES = [
  "cpu",
  "fsize",
  "data",
  "stack",
  "core",
  "rss",
  "nproc",
  "nofile",
  "memlock",
  "as",
  "locks",
  "sigpending",
  "msgqueue",
  "nice",
  "rtprio",
  "rttime",
] as const;
export type RlimitName = (typeof RLIMIT_NAMES)[number];
const BYTE_RLIMITS: readonly RlimitName[] = ["fsize", "data", "stack", "core", "rss", "memlock", "as", "msgqueue"];

/** The Spec's limit fields (the CLI's flags for them: flags.ts). */
export type LimitField = keyof LimitsInput;

export const MIN_MEMORY = 1 << 20;
export const MAX_PIDS = 4_194_304;
export const MAX_CPUS = 8192;

export type RlimitValue = number | "unlimited";

export interface Rlimit {
  readonly name: RlimitName;
  /** The RLIMIT_* number. */
  readonly resource: number;
  readonly soft: RlimitValue;
  readonly hard: RlimitValue;
}

export interface IoBps {
  /** MAJ:MIN, or a /dev path resolved when the cgroup is created. */
  readonly device: string;
  readonly bytesPerSecond: number;
}

/** Normalized limits; undefined means "not limited". */
export interface Limits {
  readonly memory: number | undefined;
  readonly memorySwap: number | undefined;
  readonly cpus: number | undefined;
  readonly cpuWeight: number | undefined;
  readonly cpuset: string | undefined;
  readonly pids: number | undefined;
  readonly ioWeight: number | undefined;
  readonly ioReadBps: readonly IoBps[];
  readonly ioWriteBps: readonly IoBps[];
  readonly rlimits: readonly Rlimit[];
  readonly timeoutMs: number | undefined;
  readonly cpuTimeMs: number | undefined;
}

export const NO_LIMITS: Limits = {
  memory: undefined,
  memorySwap: undefined,
  cpus: undefined,
  cpuWeight: undefined,
  cpuset: undefined,
  pids: undefined,
  ioWeight: undefined,
  ioReadBps: [],
  ioWriteBps: [],
  rlimits: [],
  timeoutMs: undefined,
  cpuTimeMs: undefined,
};

type Parse<T> = (text: string) => T | string;

/** A value given as a string (parsed with `parse`) or a number, checked by `rule`. */
function numeric(parse: Parse<number>, integer: boolean, rule: (n: number) => string | undefined) {
  return v.pipe(
    v.union([v.number(), v.string()], "must be a number or a string"),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      let n: number;
      if (typeof dataset.value === "number") {
        n = dataset.value;
        if (!Number.isFinite(n) || n > Number.MAX_SAFE_INTEGER) {
          addIssue({ message: `${n} is out of range` });
          return NEVER;
        }
        if (integer && !Number.isInteger(n)) {
          addIssue({ message: `${n} is not a whole number` });
          return NEVER;
        }
      } else {
        const r = parse(dataset.value);
        if (typeof r === "string") {
          addIssue({ message: r });
          return NEVER;
        }
        n = r;
      }
      const bad = n < 0 ? "must not be negative" : rule(n);
      if (bad) {
        addIssue({ message: bad });
        return NEVER;
      }
      return n;
    }),
  );
}

const between = (lo: number, hi: number) => (n: number) =>
  n < lo || n > hi ? `must be between ${lo} and ${hi}` : undefined;
const positive = (what: string) => (n: number) => (n <= 0 ? `${what} must be more than 0` : undefined);

const Memory = numeric(parseSize, true, (n) => (n < MIN_MEMORY ? "must be at least 1M" : undefined));
const Cpus = numeric(parseDecimal, false, (n) =>
  n < 0.01 || n > MAX_CPUS ? `must be between 0.01 and ${MAX_CPUS}` : undefined,
);
const Weight = numeric(parseCount, true, between(1, 10000));
// The sandbox's init is a process of its cgroup too: with 1 the command could never start.
const Pids = numeric(parseCount, true, (n) =>
  n < 2 ? "must be at least 2: the sandbox's init counts as one, the command is the second" : between(2, MAX_PIDS)(n),
);
const Duration = numeric(parseDuration, true, positive("a duration"));

const CpuSet = v.pipe(
  v.string("must be a cpu list string"),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const r = parseCpuList(dataset.value);
    if (typeof r === "string") {
      addIssue({ message: r });
      return NEVER;
    }
    return r.list;
  }),
);

const DEVICE = /^\d+:\d+$/;

function parseIoBps(dev: string, rate: string | number): IoBps | string {
  if (!DEVICE.test(dev) && !dev.startsWith("/")) return `"${dev}" is not a device (use MAJ:MIN or a /dev path)`;
  if (dev.includes("\0")) return "the device path contains a NUL byte";
  let bytes: number | string;
  if (typeof rate === "number") bytes = Number.isSafeInteger(rate) ? rate : `${rate} is not a whole number of bytes`;
  else bytes = parseSize(rate);
  if (typeof bytes === "string") return bytes;
  if (bytes <= 0) return "the rate must be more than 0 bytes per second";
  return { device: dev, bytesPerSecond: bytes };
}

const IoBpsEntry = v.pipe(
  v.union(
    [v.string(), v.strictObject({ device: v.string(), rate: v.union([v.string(), v.number()]) })],
    'must be "DEV:RATE" or {device, rate}',
  ),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    let r: IoBps | string;
    if (typeof dataset.value === "string") {
      const at = dataset.value.lastIndexOf(":");
      const dev = dataset.value.slice(0, Math.max(at, 0));
      r =
        at <= 0 || !(DEVICE.test(dev) || dev.startsWith("/"))
          ? `"${dataset.value}" is not DEV:RATE (e.g. 8:0:10M or /dev/sda:10M)`
          : parseIoBps(dev, dataset.value.slice(at + 1));
    } else r = parseIoBps(dataset.value.device, dataset.value.rate);
    if (typeof r === "string") {
      addIssue({ message: r });
      return NEVER;
    }
    return r;
  }),
);

function parseRlimitValue(name: RlimitName, text: string | number): RlimitValue | string {
  if (text === "unlimited" || text === "infinity") return "unlimited";
  if (typeof text === "number") {
    return Number.isSafeInteger(text) && text >= 0 ? text : `${text} is not a whole number`;
  }
  const n = BYTE_RLIMITS.includes(name) ? parseSize(text) : parseCount(text);
  if (typeof n === "string") return `${n} (use a number${BYTE_RLIMITS.includes(name) ? ", a size" : ""} or unlimited)`;
  return n;
}

const above = (a: RlimitValue, b: RlimitValue) => a !== b && (a === "unlimited" || (b !== "unlimited" && a > b));

function parseRlimit(name: string, soft: string | number, hard: string | number | undefined): Rlimit | string {
  const resource = (RLIMIT_NAMES as readonly string[]).indexOf(name);
  if (resource < 0) return `unknown resource "${name}" (use ${RLIMIT_NAMES.join(", ")})`;
  const n = name as RlimitName;
  const s = parseRlimitValue(n, soft);
  if (typeof s === "string" && s !== "unlimited") return `${name}: ${s}`;
  const h = hard === undefined ? s : parseRlimitValue(n, hard);
  if (typeof h === "string" && h !== "unlimited") return `${name}: ${h}`;
  if (above(s, h)) return `${name}: the soft limit ${s} is above the hard limit ${h}`;
  return { name: n, resource, soft: s, hard: h };
}

const RlimitEntry = v.pipe(
  v.union(
    [
      v.string(),
      v.strictObject({
        name: v.string(),
        soft: v.union([v.string(), v.number()]),
        hard: v.optional(v.union([v.string(), v.number()])),
      }),
    ],
    'must be "NAME=SOFT[:HARD]" or {name, soft, hard}',
  ),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    let r: Rlimit | string;
    if (typeof dataset.value === "string") {
      const m = /^([a-z]+)=([^:]+)(?::([^:]+))?$/.exec(dataset.value);
      r = m ? parseRlimit(m[1] ?? "", m[2] ?? "", m[3]) : `"${dataset.value}" is not NAME=SOFT[:HARD] (e.g. nofile=64)`;
    } else r = parseRlimit(dataset.value.name, dataset.value.soft, dataset.value.hard);
    if (typeof r === "string") {
      addIssue({ message: r });
      return NEVER;
    }
    return r;
  }),
);

export const LimitsInputSchema = v.strictObject({
  memory: v.optional(Memory),
  memorySwap: v.optional(Memory),
  cpus: v.optional(Cpus),
  cpuWeight: v.optional(Weight),
  cpuset: v.optional(CpuSet),
  pids: v.optional(Pids),
  ioWeight: v.optional(Weight),
  ioReadBps: v.optional(v.array(IoBpsEntry), []),
  ioWriteBps: v.optional(v.array(IoBpsEntry), []),
  rlimits: v.optional(v.array(RlimitEntry), []),
  timeout: v.optional(Duration),
  cpuTime: v.optional(Duration),
});

export type LimitsInput = v.InferInput<typeof LimitsInputSchema>;
type ParsedLimits = v.InferOutput<typeof LimitsInputSchema>;

/** Cross-field rules; the normalized limits or [field, message]. */
export function normalizeLimits(p: ParsedLimits | undefined): Limits | [field: string, message: string] {
  if (!p) return NO_LIMITS;
  if (p.memorySwap !== undefined) {
    if (p.memory === undefined)
      return ["limits.memorySwap", `needs ${field("limits.memory")} (it is memory plus swap)`];
    if (p.memorySwap < p.memory)
      return ["limits.memorySwap", `must not be below ${field("limits.memory")} (it is memory plus swap)`];
  }
  // A later rlimit of the same resource replaces an earlier one.
  const rl = new Map<RlimitName, Rlimit>();
  for (const r of p.rlimits) {
    rl.delete(r.name);
    rl.set(r.name, r);
  }
  return {
    memory: p.memory,
    memorySwap: p.memorySwap,
    cpus: p.cpus,
    cpuWeight: p.cpuWeight,
    cpuset: p.cpuset,
    pids: p.pids,
    ioWeight: p.ioWeight,
    ioReadBps: p.ioReadBps,
    ioWriteBps: p.ioWriteBps,
    rlimits: [...rl.values()],
    timeoutMs: p.timeout,
    cpuTimeMs: p.cpuTime,
  };
}

/** Whether any limit needs a cgroup (rlimits and the wall-clock timeout do not). */
export function needsCgroup(l: Limits): boolean {
  return (
    l.memory !== undefined ||
    l.memorySwap !== undefined ||
    l.cpus !== undefined ||
    l.cpuWeight !== undefined ||
    l.cpuset !== undefined ||
    l.pids !== undefined ||
    l.ioWeight !== undefined ||
    l.ioReadBps.length > 0 ||
    l.ioWriteBps.length > 0 ||
    l.cpuTimeMs !== undefined
  );
}
