/**
 * The spellings isolate accepts for sizes, durations and counts, everywhere
 * (flags, profile files, library strings).
 *
 *   duration  NUMBER[UNIT]   UNIT: ms, s, m, h; no unit means seconds
 *             e.g. 500ms, 10s, 1.5s, 2m, 30
 *   size      NUMBER[UNIT]   UNIT: k, m, g, t (powers of 1024, case-insensitive,
 *             optional trailing "b" or "ib"); no unit means bytes
 *             e.g. 512M, 1.5G, 64m, 4096
 *   count     a whole decimal number: 64
 *   decimal   a plain decimal number: 0.5, 1.5, 2
 *   cpu list  CPU numbers and ranges: 0, 0-3, 0,2-3
 * NUMBER is plain decimal: no sign, no exponent, no hex, no spaces. Values
 * that do not fit a safe integer (2^53) are refused as too large, so nothing
 * wraps past 2^64.
 */

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;
const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SIZE = /^(\d+(?:\.\d+)?)([kmgt]?)(i?b)?$/i;
const SIZE_SHIFT: Record<string, number> = { "": 0, k: 10, m: 20, g: 30, t: 40 };
const COUNT = /^\d+$/;
const DECIMAL = /^\d+(?:\.\d+)?$/;
const CPU_LIST = /^\d+(?:-\d+)?(?:,\d+(?:-\d+)?)*$/;

/** Milliseconds for a duration string, or an error text. */
export function parseDuration(text: string): number | string {
  const m = DURATION.exec(text);
  if (!m) return `"${text}" is not a duration (use e.g. 500ms, 10s, 2m)`;
  const ms = Math.round(Number(m[1]) * (DURATION_MS[m[2] ?? "s"] ?? 1000));
  if (!Number.isSafeInteger(ms)) return `"${text}" is too large`;
  return ms;
}

/** Bytes for a size string, or an error text. */
export function parseSize(text: string): number | string {
  const m = SIZE.exec(text);
  if (!m || (m[3] && !m[2] && m[3].toLowerCase() === "ib"))
    return `"${text}" is not a size (use e.g. 512M, 1.5G, 4096)`;
  const bytes = Number(m[1]) * 2 ** (SIZE_SHIFT[(m[2] ?? "").toLowerCase()] ?? 0);
  if (!Number.isSafeInteger(Math.floor(bytes))) return `"${text}" is too large`;
  return Math.floor(bytes);
}

/** A whole number for a count string, or an error text. */
export function parseCount(text: string): number | string {
  if (!COUNT.test(text)) return `"${text}" is not a whole number`;
  const n = Number(text);
  if (!Number.isSafeInteger(n)) return `"${text}" is too large`;
  return n;
}

/** A number for a plain decimal string (e.g. 0.5), or an error text. */
export function parseDecimal(text: string): number | string {
  if (!DECIMAL.test(text)) return `"${text}" is not a decimal number (use e.g. 0.5, 2)`;
  const n = Number(text);
  if (!Number.isFinite(n) || n > Number.MAX_SAFE_INTEGER) return `"${text}" is too large`;
  return n;
}

/** The highest CPU number a cpu list may name (the kernel's NR_CPUS ceiling). */
export const MAX_CPU = 8191;

/** A normalized cpu list (e.g. "0-1,3"), or an error text. */
export function parseCpuList(text: string): { list: string; cpus: number[] } | string {
  if (!CPU_LIST.test(text)) return `"${text}" is not a cpu list (use e.g. 0, 0-3, 0,2-3)`;
  const cpus = new Set<number>();
  for (const part of text.split(",")) {
    const [a, b = a] = part.split("-").map(Number) as [number, number?];
    if (a > MAX_CPU || b > MAX_CPU) return `"${text}" names a cpu above ${MAX_CPU}`;
    if (b < a) return `"${text}": the range ${part} runs backwards`;
    for (let c = a; c <= b; c++) cpus.add(c);
  }
  const sorted = [...cpus].sort((x, y) => x - y);
  const ranges: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === (sorted[j] ?? 0) + 1) j++;
    ranges.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return { list: ranges.join(","), cpus: sorted };
}
