/** run(): spawn, feed stdin as the command reads it, collect stdout and stderr up to a cap, and wait. */
import { parseSpec } from "../config/parse.ts";
import type { Spec, SpecInput } from "../config/schema.ts";
import { type CheckedSpawnOptions, type InputSource, parseRunOptions, type RunOptions } from "./options.ts";
import { type LimitsReport, makeResult, type Result } from "./result.ts";
import { endSandbox, spawnSpec } from "./sandbox.ts";
import type { StdinSink } from "./stdio.ts";

export type { InputSource, RunOptions };

/** What run() adds to a Result: the output, as text and as bytes. */
export interface RunOutput {
  /** stdout as UTF-8 text; when truncated, cut at the last whole character (never a U+FFFD of the cut). */
  readonly stdout: string;
  readonly stderr: string;
  /** stdout's bytes as they came, up to the cap. */
  readonly stdoutBytes: Uint8Array;
  readonly stderrBytes: Uint8Array;
  /** Whether a stream went past `maxOutputBytes` (or the process-wide OUTPUT_BUDGET). */
  readonly truncated: { readonly stdout: boolean; readonly stderr: boolean };
}

/** The result of run(): a Result (discriminated by `reason`) with the output. */
export type RunResult = Result & RunOutput;

/** Default cap per stream. */
export const DEFAULT_MAX_OUTPUT = 16 << 20;

/**
 * Output that all run() calls of this process may hold at once while their
 * sandboxes run (bytes). A stream that would go past it is cut there, as at
 * its own cap (and with outputLimit "kill", its sandbox ends): many floods
 * at once cannot exhaust the supervisor's memory.
 */
export const OUTPUT_BUDGET = 128 << 20;
let held = 0;

const EMPTY = new Uint8Array(0);
const dec = new TextDecoder();

interface Collected {
  readonly bytes: Uint8Array;
  readonly truncated: boolean;
}

/** Read a stream to its end keeping max bytes; past them, drop the rest, or call onCap and stop reading. */
async function collect(
  stream: ReadableStream<Uint8Array> | null,
  max: number,
  onCap: (() => void) | undefined,
): Promise<Collected> {
  if (!stream) return { bytes: EMPTY, truncated: false };
  const parts: Uint8Array[] = [];
  let kept = 0;
  let truncated = false;
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (truncated) continue;
      const room = Math.max(0, Math.min(max - kept, OUTPUT_BUDGET - held));
      if (value.length > room) {
        truncated = true;
        if (room > 0) parts.push(value.slice(0, room));
        kept += room;
        held += room;
        if (onCap) {
          onCap();
          // Our end closes: the command's next write gets EPIPE.
          await reader.cancel();
          break;
        }
        continue;
      }
      parts.push(value);
      kept += value.length;
      held += value.length;
    }
    const bytes = parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts, kept);
    return { bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), truncated };
  } finally {
    held -= kept;
  }
}

/** The length of the bytes up to their last complete UTF-8 character. */
export function completeUtf8(b: Uint8Array): number {
  let i = b.length - 1;
  while (i >= 0 && b.length - i < 4 && ((b[i] as number) & 0xc0) === 0x80) i--;
  if (i < 0) return b.length;
  const lead = b[i] as number;
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return i + need > b.length ? i : b.length;
}

const text = (c: Collected) => dec.decode(c.truncated ? c.bytes.subarray(0, completeUtf8(c.bytes)) : c.bytes);

/** Write the input as the command reads it, then EOF. A source that fails ends stdin early. */
async function feed(sink: StdinSink, input: InputSource): Promise<void> {
  try {
    if (typeof input === "string" || input instanceof Uint8Array || input instanceof ArrayBuffer) {
      await sink.write(input);
    } else {
      const chunks = input instanceof Blob ? input.stream() : input;
      for await (const chunk of chunks as AsyncIterable<Uint8Array | string>) {
        await sink.write(chunk);
        if (sink.closed) break;
      }
    }
  } catch {
    // the caller's source failed: the command reads EOF
  } finally {
    await sink.end();
  }
}

/**
 * Run a command in a sandbox and wait for it: feed `input`, collect stdout
 * and stderr (up to `maxOutputBytes` each), and resolve with the result.
 * It never throws: bad input and host errors reject the promise (an
 * IsolateError, before anything is created).
 *
 * @example
 * const r = await run({ command: ["sh", "-c", "echo hi; exit 3"] });
 * // r.exitCode 3, r.stdout "hi\n", r.reason "ok"
 *
 * const judged = await run(
 *   { command: ["./solution"], limits: { memory: "256M", timeout: "2s" }, killAfter: "100ms" },
 *   { input: "1 2\n", maxOutputBytes: 1 << 20, outputLimit: "kill" },
 * );
 * // judged.reason "ok" | "timeout" | "cpu-time" | "oom" | "output" | ...
 */
export async function run(input: SpecInput, opts: RunOptions = {}): Promise<RunResult> {
  return runSpec(parseSpec(input), opts);
}

/**
 * run() for a Spec that parseSpec() already checked.
 *
 * @example
 * const r = await runSpec(parseSpec({ command: ["true"] }), { timeout: "1s" });
 */
export async function runSpec(spec: Spec, options: RunOptions = {}): Promise<RunResult> {
  const opts = parseRunOptions(options);
  const max = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
  const spawnOpts: CheckedSpawnOptions = {
    stdin: opts.input !== undefined ? "pipe" : (opts.stdin ?? "null"),
    stdout: "pipe",
    stderr: "pipe",
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.timeout !== undefined ? { timeout: opts.timeout } : {}),
  };
  const sb = spawnSpec(spec, spawnOpts);
  const fed = opts.input !== undefined && sb.stdin ? feed(sb.stdin, opts.input) : undefined;
  let over = false;
  const onCap =
    opts.outputLimit === "kill"
      ? () => {
          over = true;
          endSandbox(sb, "output");
        }
      : undefined;
  const [out, err, result] = await Promise.all([
    collect(sb.stdout, max, onCap),
    collect(sb.stderr, max, onCap),
    sb.exited,
  ]);
  await fed;
  let final: Result = result;
  if (over) {
    // Past the cap is past a limit: never "ok", even when the command ended before the kill landed.
    const fired: LimitsReport["fired"][number][] = [...result.limits.fired, "output"];
    const reason = result.reason === "ok" ? "output" : result.reason;
    final = makeResult({ ...result, reason, limits: { ...result.limits, fired } }, result.error);
  }
  return {
    ...final,
    stdout: text(out),
    stderr: text(err),
    stdoutBytes: out.bytes,
    stderrBytes: err.bytes,
    truncated: { stdout: out.truncated, stderr: err.truncated },
  };
}
