/**
 * The Spec's `pty` field: the command runs on a terminal of its own, a fresh
 * pty from the sandbox's devpts (src/facilities/pty/ops.ts, native/op_pty.c); the caller
 * gets its master (Sandbox.terminal; the CLI relays it: src/supervisor/pty.ts).
 *   true             a 24x80 terminal
 *   { rows, cols }   that window size (the CLI gives the caller's terminal's)
 */
import * as v from "valibot";

export interface PtySize {
  readonly rows: number;
  readonly cols: number;
}

/** What a terminal is when nobody says: the VT100's size. */
export const DEFAULT_PTY: PtySize = { rows: 24, cols: 80 };

const Dim = (what: string) =>
  v.pipe(
    v.number(`${what} must be a number`),
    v.integer(`${what} must be a whole number`),
    v.minValue(1, `${what} must be at least 1`),
    v.maxValue(65535, `${what} must be at most 65535`),
  );

const PtyInput = v.union(
  [v.boolean(), v.strictObject({ rows: Dim("pty.rows"), cols: Dim("pty.cols") })],
  "pty must be true, false or { rows, cols }",
);

export const PTY_FIELDS = {
  /** A terminal for the command (true: 24x80, or { rows, cols }). */
  pty: v.optional(PtyInput, false),
} as const;

/** The normalized field (given only when there is a terminal): its window size. */
export function normalizePty(p: true | PtySize): PtySize {
  return p === true ? DEFAULT_PTY : { rows: p.rows, cols: p.cols };
}
