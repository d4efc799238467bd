/**
 * `isolate exec --pty`: the caller's side of the sandbox's terminal. The
 * caller's terminal (stdin) goes into raw mode, so that every key reaches the
 * pty as the byte it is (Ctrl-C is \x03, and the pty's line discipline makes it
 * SIGINT for the command's foreground job, not for isolate); its window size
 * is the pty's at the start (in the plan: the command never sees another) and
 * follows SIGWINCH. Bytes go both ways as they are. Without a terminal on
 * stdin nothing changes modes, and the end of stdin is the pty's EOF character.
 * The caller's settings come back on every way out: the command's end, an
 * error, a forwarded SIGINT/SIGTERM/SIGHUP, and the process's own exit.
 */

import type { PtySize } from "../facilities/pty/fields.ts";
import type { Shim } from "../shim/load.ts";

/** The caller's window size: of stdin, else stdout, when one of them is a terminal. */
export function callerSize(shim: Shim): PtySize | undefined {
  for (const fd of [0, 1]) {
    const ws = shim.tty.winsize(fd);
    if (typeof ws !== "number" && ws.rows > 0 && ws.cols > 0) return ws;
  }
  return undefined;
}

/** How long the output may take to drain once the sandbox is gone (the pty hangs up then). */
const DRAIN_MS = 500;

/** The caller's terminal in raw mode until restore() (idempotent; also at process exit). */
export function rawTerminal(shim: Shim, fd: number): { restore(): void } {
  const got = shim.tty.get(fd);
  if (typeof got === "number") return { restore() {} };
  const saved = got.saved;
  let raw = shim.tty.set(fd, saved, true) === 0;
  const restore = () => {
    if (!raw) return;
    raw = false;
    shim.tty.set(fd, saved, false);
    process.off("exit", restore);
  };
  if (raw) process.on("exit", restore);
  return { restore };
}

/**
 * Relay between the caller's stdin/stdout and the pty master until the
 * command's side hangs up, or `ended` resolves (the sandbox is gone) and the
 * output has drained. The master is closed at the end.
 */
export async function relayTerminal(shim: Shim, master: number, ended: Promise<unknown>): Promise<void> {
  const tty = await import("node:tty");
  const fs = await import("node:fs");
  const term = rawTerminal(shim, 0);
  const inputIsTty = typeof shim.tty.winsize(0) !== "number";
  const onWinch = () => {
    const ws = callerSize(shim);
    if (ws) shim.tty.resize(master, ws.rows, ws.cols);
  };
  process.on("SIGWINCH", onWinch);
  // Input: written in order, off the event loop (a command that does not read fills the pty).
  let writing: Promise<void> = Promise.resolve();
  let closed = false;
  const put = (chunk: Uint8Array) => {
    writing = writing.then(
      () =>
        new Promise<void>((resolve) => {
          if (closed) return resolve();
          fs.write(master, chunk, () => resolve());
        }),
    );
  };
  const onData = (chunk: Uint8Array) => put(chunk);
  const onEnd = () => {
    // Not a terminal: its end is what a user types for it (a canonical pty's EOF character).
    if (!inputIsTty) writing = writing.then(() => void (closed || shim.tty.eof(master)));
  };
  const stdin = process.stdin;
  stdin.on("data", onData);
  stdin.on("end", onEnd);
  stdin.on("error", () => {});
  const out = new tty.ReadStream(master);
  const hungUp = new Promise<void>((resolve) => {
    out.on("data", (chunk: Uint8Array) => {
      process.stdout.write(chunk);
    });
    // EIO: every holder of the slave has closed it.
    out.on("error", () => resolve());
    out.on("end", () => resolve());
    out.on("close", () => resolve());
  });
  try {
    await Promise.race([hungUp, ended.then(() => Promise.race([hungUp, Bun.sleep(DRAIN_MS)]))]);
  } finally {
    closed = true;
    process.off("SIGWINCH", onWinch);
    stdin.off("data", onData);
    stdin.off("end", onEnd);
    stdin.pause();
    stdin.destroy();
    term.restore();
    out.destroy();
    await writing;
    // tty.ReadStream closes the fd it was given on destroy; close it ourselves only if it did not.
    if (shim.fdOk(master)) shim.close(master);
  }
}

/** The CLI's Spec with --pty: the window size is the caller's terminal's, when it has one. */
export function withCallerSize<S extends { readonly pty?: PtySize }>(shim: Shim, spec: S): S {
  if (!spec.pty) return spec;
  const ws = callerSize(shim);
  return ws ? { ...spec, pty: { rows: Math.min(ws.rows, 65535), cols: Math.min(ws.cols, 65535) } } : spec;
}
