/**
 * Named sandboxes: supervising one in this process, and the detached
 * monitor. No CLI code here (the library ships without src/cli/); the CLI
 * adds its report destinations and argv parsing (src/cli/commands/named-exec.ts).
 *
 * A detached sandbox's monitor is this program run again: the isolate
 * binary (`isolate __monitor`), or, from the library, bun with
 * src/named/monitor-entry.ts. It makes itself a session leader, reads a JSON
 * request on its stdin (strings keep their bytes: src/host/bytes.ts),
 * reserves the name, points its stdout and stderr at NAME.log (the
 * sandbox's too), starts the sandbox, says "ok" (or the error) on fd 3, and
 * supervises it to the end like exec: limits, timeouts, the report.
 */

import type { Spec } from "../config/schema.ts";
import { IsolateError, field as specField } from "../errors.ts";
import { errnoText } from "../host/errno.ts";
import { nodeFs } from "../host/files.ts";
import { loadShim } from "../shim/load.ts";
import type { Result } from "../supervisor/result.ts";
import { type Sandbox, type SpawnHooks, spawnSpec } from "../supervisor/sandbox.ts";
import { TERMINATING } from "../supervisor/signals.ts";
import { type Joined, resolveJoin } from "./join.ts";
import { spawnNamed } from "./spawn.ts";
import { checkName, fileOf, stateRoot } from "./state.ts";

export interface SuperviseOptions {
  /** The sandbox's name; none: an unnamed sandbox (exec --join without --name). */
  readonly name: string | undefined;
  readonly detached: boolean;
  /** `--join NAME:NS[,NS...]` as given. */
  readonly join?: readonly string[];
  /** The CLI's report destinations. */
  readonly hooks?: SpawnHooks;
  /** Told once the sandbox runs (no argument), or why it could not start. */
  readonly ready?: (err?: unknown) => void;
}

/** Run a sandbox (named or joined) under this process to its end, forwarding SIGINT/SIGTERM/SIGHUP. */
export async function superviseNamed(given: Spec, o: SuperviseOptions): Promise<Result> {
  let named: { sandbox: Sandbox; exited: Promise<Result> };
  let joined: Joined | undefined;
  try {
    joined = o.join === undefined ? undefined : resolveJoin(given, o.join);
    const spec = joined?.spec ?? given;
    // One sandbox in this process: set it up inline, as exec does.
    const hooks: SpawnHooks = { ...o.hooks, inline: true, ...(joined ? { join: joined.hook } : {}) };
    if (o.name === undefined) {
      const sandbox = spawnSpec(spec, {}, hooks);
      await sandbox.ready;
      named = { sandbox, exited: sandbox.exited };
    } else {
      named = await spawnNamed(
        spec,
        o.name,
        o.detached,
        o.detached ? { stdin: "null" } : {},
        hooks,
        o.detached ? toLog : undefined,
      );
    }
  } catch (e) {
    o.ready?.(e);
    throw e;
  } finally {
    if (joined) loadShim().close(joined.fd);
  }
  o.ready?.();
  const forward = (sig: string) => () => named.sandbox.kill(sig);
  const handlers = TERMINATING.map((sig) => [sig, forward(sig)] as const);
  for (const [sig, h] of handlers) process.on(sig, h);
  try {
    return await named.exited;
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
  }
}

/** Detached monitor: once the name is ours, stdout and stderr go to its log. */
function toLog(name: string): void {
  const fs = nodeFs();
  const fd = fs.openSync(
    fileOf(name, "log"),
    fs.constants.O_WRONLY |
      fs.constants.O_CREAT |
      fs.constants.O_TRUNC |
      fs.constants.O_APPEND |
      fs.constants.O_NOFOLLOW,
    0o600,
  );
  const shim = loadShim();
  for (const to of [1, 2]) {
    const rc = shim.named.dup2(fd, to);
    if (rc < 0) throw new IsolateError("internal", `monitor: log: ${errnoText(-rc)}`);
  }
  fs.closeSync(fd);
}

export function generatedName(): string {
  const b = crypto.getRandomValues(new Uint8Array(4));
  return `sb-${[...b].map((x) => x.toString(16).padStart(2, "0")).join("")}`;
}

/**
 * Start a monitor (`command`) for `request` (JSON on its stdin) and wait
 * until it says the sandbox runs: "ok", or throws with its error.
 */
export async function launchMonitor(command: readonly string[], name: string, request: unknown): Promise<void> {
  checkName(name);
  stateRoot();
  const proc = Bun.spawn([...command], {
    stdio: ["pipe", "ignore", process.env.ISOLATE_DEBUG ? "inherit" : "ignore", "pipe"],
    env: process.env,
    cwd: process.cwd(),
  });
  proc.stdin.write(JSON.stringify(request));
  await proc.stdin.end();
  const said = await Bun.file(proc.stdio[3] as number).text();
  proc.unref();
  if (said.startsWith("ok")) return;
  if (said.startsWith("error ")) throw new IsolateError("setup", said.slice(6).trimEnd());
  const code = await proc.exited;
  throw new IsolateError("internal", `the monitor of ${name} ended before starting it (status ${code})`);
}

/**
 * The monitor's side: a session of its own, the request from stdin, then
 * `run` (which supervises, calling `tell`'s answer through its ready hook).
 * The exit code is the sandbox's, or 125 when it never started.
 */
export async function monitorMain(
  run: (request: Record<string, unknown>, ready: (err?: unknown) => void) => Promise<number>,
): Promise<number> {
  const shim = loadShim();
  shim.named.setsid();
  let told = false;
  const tell = (text: string) => {
    if (told) return;
    told = true;
    shim.write(3, new TextEncoder().encode(text));
    shim.close(3);
  };
  const why = (e: unknown) =>
    e instanceof IsolateError ? e.text(specField) : e instanceof Error ? e.message : String(e);
  try {
    const request = JSON.parse(await Bun.stdin.text()) as Record<string, unknown>;
    return await run(request, (e) => tell(e === undefined ? "ok\n" : `error ${why(e)}\n`));
  } catch (e) {
    if (!told) {
      tell(`error ${why(e)}\n`);
      return 125;
    }
    throw e;
  }
}
