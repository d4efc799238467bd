/**
 * --pty: the init opens a pty in the sandbox's own devpts once the view is
 * built (so the command's `tty` is /dev/pts/0 inside, and nothing of the
 * host's devpts is opened) and passes the master to the supervisor; the
 * command, in its new session, takes the slave as its controlling terminal
 * and its stdin, stdout and stderr.
 */

import type { Spec } from "../../config/schema.ts";
import { type Op, op } from "../../plan/op.ts";

/** Sandbox-wide, after the view: the pty, with the window size it starts with. */
export function ptyOpenOps(spec: Spec): Op[] {
  return spec.pty ? [op("ptyOpen", { rows: spec.pty.rows, cols: spec.pty.cols })] : [];
}

/** The command's process, after setsid: its terminal. */
export function ptyAttachOps(spec: Spec): Op[] {
  return spec.pty ? [op("ptyAttach", {})] : [];
}
