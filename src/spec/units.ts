/**
 * The spellings isolate accepts for sizes and durations, everywhere
 * (flags, profile files, library strings).
 *
 *   duration  NUMBER[UNIT]   UNIT: ms, s, m, h; no unit means seconds
 *             e.g. 500ms, 10s, 1.5s, 2m, 30
 *   size      NUMBER[UNIT]   UNIT: k, m, g, t (powers of 1024, case-insensitive,
 *             optional trailing "b" or "ib"); no unit means bytes
 *             e.g. 512M, 1.5G, 64m, 4096
 * NUMBER is plain decimal: no sign, no exponent, no hex, no spaces.
 */

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;
const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SIZE = /^(\d+(?:\.\d+)?)([kmgt]?)(i?b)?$/i;
const SIZE_SHIFT: Record<string, number> = { "": 0, k: 10, m: 20, g: 30, t: 40 };

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
