/**
 * The options of spawn() and run(), checked with valibot like the Spec: an
 * unknown key, a bad stdio value or a cap that is not a whole number of bytes
 * is refused before anything is created, with the field named.
 */
import * as v from "valibot";
import { Duration } from "../config/schema.ts";
import { keyIssue } from "../config/suggest.ts";
import { SpecError } from "../errors.ts";
import type { StdioOption } from "./stdio.ts";

const Stdio = v.union(
  [
    v.picklist(["inherit", "null", "pipe"]),
    v.pipe(v.number(), v.integer(), v.minValue(0, "an fd must not be negative")),
  ],
  'must be "inherit", "null", "pipe" or an fd',
);

const SPAWN_FIELDS = {
  /** Where the command's stdin comes from (spawn's default "inherit"; run's "null"). */
  stdin: v.optional(Stdio),
  stdout: v.optional(Stdio),
  stderr: v.optional(Stdio),
  /** Aborting it kills the whole sandbox; the result then reads reason "killed". */
  signal: v.optional(v.instance(AbortSignal, "must be an AbortSignal")),
  /** A wall-clock limit (ms, or "2s"): the Spec's limits.timeout, whichever is shorter. */
  timeout: v.optional(Duration),
};

export const SpawnOptionsSchema = v.strictObject(SPAWN_FIELDS);

/** What run() feeds to stdin: bytes, text, or a stream of chunks, written as they come with backpressure. */
export type InputSource =
  | string
  | Uint8Array
  | ArrayBuffer
  | Blob
  | ReadableStream<Uint8Array | string>
  | AsyncIterable<Uint8Array | string>;

const isInput = (x: unknown): x is InputSource =>
  typeof x === "string" ||
  x instanceof Uint8Array ||
  x instanceof ArrayBuffer ||
  x instanceof Blob ||
  x instanceof ReadableStream ||
  (typeof x === "object" && x !== null && Symbol.asyncIterator in x);

export const RunOptionsSchema = v.strictObject({
  stdin: SPAWN_FIELDS.stdin,
  signal: SPAWN_FIELDS.signal,
  timeout: SPAWN_FIELDS.timeout,
  input: v.optional(
    v.custom<InputSource>(isInput, "must be a string, Uint8Array, ArrayBuffer, Blob, ReadableStream or async iterable"),
  ),
  maxOutputBytes: v.optional(
    v.pipe(
      v.number("must be a number of bytes"),
      v.integer("must be a whole number of bytes"),
      v.minValue(0, "must not be negative"),
      v.maxValue(2 ** 31, "must be at most 2 GiB"),
    ),
  ),
  outputLimit: v.optional(v.picklist(["truncate", "kill"], 'must be "truncate" or "kill"')),
});

/** Options of spawn() and spawnSpec(). */
export interface SpawnOptions {
  /** "inherit" (default), "null" (/dev/null), "pipe" (sb.stdin) or an fd. */
  readonly stdin?: StdioOption;
  /** "inherit" (default), "null", "pipe" (sb.stdout) or an fd. */
  readonly stdout?: StdioOption;
  /** "inherit" (default), "null", "pipe" (sb.stderr) or an fd. */
  readonly stderr?: StdioOption;
  /** Aborting it kills the whole sandbox (reason "killed"); already aborted: nothing starts. */
  readonly signal?: AbortSignal;
  /** Wall-clock limit, ms or a duration ("2s"): like the Spec's `limits.timeout` (the shorter wins). */
  readonly timeout?: number | string;
}

/** Options of run() and runSpec(). */
export interface RunOptions {
  /** Where stdin comes from (default "null", /dev/null); ignored when `input` is given. */
  readonly stdin?: StdioOption;
  /**
   * Fed to the command's stdin, then EOF: written in chunks as the command
   * reads (never copied whole). Text is sent as UTF-8.
   */
  readonly input?: InputSource;
  /** Bytes kept per stream (a whole number, default 16 MiB); see `outputLimit`. */
  readonly maxOutputBytes?: number;
  /**
   * Past `maxOutputBytes`: "truncate" (default) reads on and drops the rest;
   * "kill" ends the sandbox at once, reported as reason "output".
   */
  readonly outputLimit?: "truncate" | "kill";
  /** As spawn()'s: aborting kills the sandbox, reason "killed". */
  readonly signal?: AbortSignal;
  /** As spawn()'s: a wall-clock limit (the shorter of it and `limits.timeout` wins). */
  readonly timeout?: number | string;
}

function check<T>(schema: v.GenericSchema<unknown, T>, input: unknown, what: string): T {
  const r = v.safeParse(schema, input ?? {});
  if (r.success) return r.output;
  const issue = r.issues[0];
  const key = keyIssue(schema, r.issues);
  if (key) throw new SpecError(`${what}: ${key.message}`, key.hint);
  const path = v.getDotPath(issue);
  throw new SpecError(`${what}${path ? `.${path}` : ""}: ${issue.message}`);
}

export interface CheckedSpawnOptions extends Omit<SpawnOptions, "timeout"> {
  readonly timeout?: number;
}

export function parseSpawnOptions(opts: unknown): CheckedSpawnOptions {
  return check(SpawnOptionsSchema, opts, "spawn options") as CheckedSpawnOptions;
}

export interface CheckedRunOptions extends Omit<RunOptions, "timeout"> {
  readonly timeout?: number;
}

export function parseRunOptions(opts: unknown): CheckedRunOptions {
  return check(RunOptionsSchema, opts, "run options") as CheckedRunOptions;
}
