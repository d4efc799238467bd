/** run(): spawn, collect stdout and stderr up to a bound, and wait. */
import { parseSpec } from "../spec/parse.ts";
import type { Spec, SpecInput } from "../spec/schema.ts";
import type { Result } from "./result.ts";
import { type SpawnOptions, spawnSpec } from "./sandbox.ts";

export interface RunOptions {
  /** Where stdin comes from (default /dev/null); ignored when `input` is given. */
  readonly stdin?: SpawnOptions["stdin"];
  /** Bytes fed to the command's stdin, then EOF. */
  readonly input?: string | Uint8Array;
  /** Bytes kept per stream; the rest is read and dropped. Default 16 MiB. */
  readonly maxOutputBytes?: number;
}

export interface RunResult extends Result {
  readonly stdout: string;
  readonly stderr: string;
  readonly truncated: { readonly stdout: boolean; readonly stderr: boolean };
}

const DEFAULT_MAX = 16 << 20;

async function collect(
  stream: ReadableStream<Uint8Array> | null,
  max: number,
): Promise<{ text: string; truncated: boolean }> {
  if (!stream) return { text: "", truncated: false };
  const parts: Uint8Array[] = [];
  let kept = 0;
  let seen = 0;
  for await (const chunk of stream) {
    seen += chunk.length;
    if (kept < max) {
      const take = chunk.subarray(0, max - kept);
      parts.push(take);
      kept += take.length;
    }
  }
  return { text: Buffer.concat(parts).toString("utf8"), truncated: seen > kept };
}

export function run(input: SpecInput, opts: RunOptions = {}): Promise<RunResult> {
  return runSpec(parseSpec(input), opts);
}

export async function runSpec(spec: Spec, opts: RunOptions = {}): Promise<RunResult> {
  const max = opts.maxOutputBytes ?? DEFAULT_MAX;
  const stdin = opts.input !== undefined ? "pipe" : (opts.stdin ?? "null");
  const sb = spawnSpec(spec, { stdin, stdout: "pipe", stderr: "pipe" });
  if (opts.input !== undefined && sb.stdin) {
    sb.stdin.write(opts.input);
    void sb.stdin.end();
  }
  const [out, err, result] = await Promise.all([collect(sb.stdout, max), collect(sb.stderr, max), sb.exited]);
  return { ...result, stdout: out.text, stderr: err.text, truncated: { stdout: out.truncated, stderr: err.truncated } };
}
