/**
 * Bytes are bytes: argv, environment and paths on Linux are byte strings, not
 * always UTF-8. Bun decodes them into JS strings and replaces every invalid
 * byte with U+FFFD, which loses them. isolate keeps such OS strings as JS
 * strings in the "surrogateescape" convention (as Python does): a byte that is
 * not part of valid UTF-8 becomes the lone surrogate U+DC80..U+DCFF (0x80..0xFF
 * + 0xDC00). Valid UTF-8 never decodes to a lone surrogate, so the round trip
 * is exact, and a string without such bytes is exactly what Bun gives.
 *
 * Everything that leaves isolate as bytes (the plan, host file system calls on
 * paths) goes through osBytes()/osPath(). The raw forms are read from
 * /proc/self/{cmdline,environ,cwd} only when Bun's strings show a U+FFFD,
 * so the common case costs one scan of each string.
 */
import { nodeFs } from "./files.ts";

const enc = new TextEncoder();
/** Made at first use: a default run decodes nothing with it, and the first TextDecoder is costly to make. */
let strictDecoder: TextDecoder | undefined;
const strict = {
  decode(b: Uint8Array): string {
    strictDecoder ??= new TextDecoder("utf-8", { fatal: true });
    return strictDecoder.decode(b);
  },
};
/** A lone surrogate that stands for a byte (U+DC80..U+DCFF). */
const ESCAPED = /[\uDC80-\uDCFF]/;
const REPLACEMENT = "\uFFFD";

/** Length of the valid UTF-8 sequence at b[i], or 0 (Unicode table 3-7). */
function validAt(b: Uint8Array, i: number): number {
  const c = b[i] as number;
  if (c < 0x80) return 1;
  const n = b.length;
  const cont = (j: number, lo = 0x80, hi = 0xbf) => j < n && (b[j] as number) >= lo && (b[j] as number) <= hi;
  if (c >= 0xc2 && c <= 0xdf) return cont(i + 1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    const lo = c === 0xe0 ? 0xa0 : 0x80;
    const hi = c === 0xed ? 0x9f : 0xbf;
    return cont(i + 1, lo, hi) && cont(i + 2) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const lo = c === 0xf0 ? 0x90 : 0x80;
    const hi = c === 0xf4 ? 0x8f : 0xbf;
    return cont(i + 1, lo, hi) && cont(i + 2) && cont(i + 3) ? 4 : 0;
  }
  return 0;
}

/** OS bytes -> a JS string; each byte that is not valid UTF-8 becomes U+DC80..U+DCFF. */
export function osString(b: Uint8Array): string {
  try {
    return strict.decode(b);
  } catch {}
  let out = "";
  let i = 0;
  let start = 0;
  while (i < b.length) {
    const n = validAt(b, i);
    if (n > 0) {
      i += n;
      continue;
    }
    if (i > start) out += strict.decode(b.subarray(start, i));
    out += String.fromCharCode(0xdc00 + (b[i] as number));
    i++;
    start = i;
  }
  if (i > start) out += strict.decode(b.subarray(start, i));
  return out;
}

/**
 * A JS string -> the OS bytes it stands for: UTF-8, except that U+DC80..U+DCFF
 * alone is the byte it escapes. Any other lone surrogate is encoded as U+FFFD
 * (as TextEncoder does).
 */
export function osBytes(s: string): Uint8Array {
  if (!ESCAPED.test(s)) return enc.encode(s);
  const out: number[] = [];
  let start = 0;
  const flush = (end: number) => {
    if (end > start) for (const x of enc.encode(s.slice(start, end))) out.push(x);
  };
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++; // a pair: left to the encoder
      continue;
    }
    if (c >= 0xdc80 && c <= 0xdcff) {
      flush(i);
      out.push(c - 0xdc00);
      start = i + 1;
    }
  }
  flush(s.length);
  return Uint8Array.from(out);
}

/** Whether `s` holds an escaped byte (it is not valid UTF-8 as bytes). */
export const hasEscapes = (s: string): boolean => ESCAPED.test(s);

/** The length in bytes `s` has on the OS side. */
export const osByteLength = (s: string): number => (ESCAPED.test(s) ? osBytes(s).length : Buffer.byteLength(s));

/** A path for node:fs: the string itself, or its bytes when it holds escaped bytes. */
export function osPath(s: string): string | Buffer {
  return ESCAPED.test(s) ? Buffer.from(osBytes(s)) : s;
}

/** A NUL-separated list (/proc/self/cmdline, /proc/self/environ) as OS strings. */
export function splitNul(b: Uint8Array): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < b.length; i++) {
    if (b[i] !== 0) continue;
    out.push(osString(b.subarray(start, i)));
    start = i + 1;
  }
  if (start < b.length) out.push(osString(b.subarray(start)));
  return out;
}

/**
 * What Bun shows of an OS string, for comparing: each escaped byte read as
 * U+FFFD, and runs of U+FFFD as one (Bun may replace an invalid sequence with
 * one or several).
 */
const lossy = (s: string) => s.replace(/[\uDC80-\uDCFF\uFFFD]+/g, REPLACEMENT);

function readProc(path: string): Uint8Array | undefined {
  try {
    return nodeFs().readFileSync(path);
  } catch {
    return undefined;
  }
}

/**
 * The program's arguments after the script (process.argv.slice(2)), byte for
 * byte. Bun's own strings unless one shows a U+FFFD; then the tail of
 * /proc/self/cmdline, when it matches what Bun saw.
 */
export function rawArgs(argv: readonly string[] = process.argv): string[] {
  const args = argv.slice(2);
  if (!args.some((a) => a.includes(REPLACEMENT))) return args;
  const b = readProc("/proc/self/cmdline");
  if (!b) return args;
  const all = splitNul(b);
  const raw = all.slice(Math.max(0, all.length - args.length));
  const same = raw.length === args.length && raw.every((r, i) => lossy(r) === lossy(args[i] ?? ""));
  return same ? raw : args;
}

let environ: (readonly [string, string])[] | undefined;

/** /proc/self/environ: the environment the process started with, as OS strings. */
function startEnv(): readonly (readonly [string, string])[] {
  if (!environ) {
    environ = [];
    for (const entry of splitNul(readProc("/proc/self/environ") ?? new Uint8Array())) {
      const eq = entry.indexOf("=");
      if (eq > 0) environ.push([entry.slice(0, eq), entry.slice(eq + 1)]);
    }
  }
  return environ;
}

/**
 * One entry of the environment, byte for byte: as Bun gives it unless its
 * name or value shows a U+FFFD; then as in /proc/self/environ (the
 * environment the process started with), when that still matches it.
 */
export function osEnvEntry(name: string, value: string): readonly [string, string] {
  if (!name.includes(REPLACEMENT) && !value.includes(REPLACEMENT)) return [name, value];
  const n = lossy(name);
  const v = lossy(value);
  return startEnv().find(([k, x]) => lossy(k) === n && lossy(x) === v) ?? [name, value];
}

/** The variables Bun leaves out of process.env: those whose name is not UTF-8. Reads /proc/self/environ. */
export function unnamedEnv(): readonly (readonly [string, string])[] {
  return startEnv().filter(([k]) => ESCAPED.test(k));
}

/** The working directory, byte for byte (Bun's process.cwd() is lossy). */
export function rawCwd(): string {
  const cwd = process.cwd();
  if (!cwd.includes(REPLACEMENT)) return cwd;
  try {
    const b = nodeFs().readlinkSync("/proc/self/cwd", { encoding: "buffer" });
    const s = osString(b);
    return s.startsWith("/") && !s.endsWith(" (deleted)") ? s : cwd;
  } catch {
    return cwd;
  }
}

/** `s` quoted for a message: JSON, with each escaped byte shown as \xHH. */
export function quoteOs(s: string): string {
  return JSON.stringify(s).replace(/\\udc([89a-f][0-9a-f])/g, "\\x$1");
}
