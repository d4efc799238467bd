/**
 * `isolate enter NAME [CMD...]`: run CMD inside a running named sandbox.
 *
 * The shim spawns an init in enter mode (native/shim.c isolate_enter): no new
 * namespace; placed in the sandbox's cgroups (v2 at clone, v1 by pid before
 * GO); after GO it joins every namespace of the sandbox's init with one
 * setns(pidfd, flags), takes its own ids and confinement from the sandbox's
 * plan, and forks CMD into the sandbox's pid namespace, where the command
 * half of the sandbox's plan runs (setsid, rlimits, ids, no_new_privs,
 * Landlock, capabilities, seccomp) before exec. No JS runs after clone.
 * The command half comes from NAME.plan in the caller's state directory
 * (never from a path a sandbox can write).
 */
import { HostError, SpecError } from "../errors.ts";
import { quoteOs } from "../host/bytes.ts";
import { errnoText } from "../host/errno.ts";
import { encodePlan } from "../plan/encode.ts";
import { op } from "../plan/op.ts";
import { STAGES } from "../plan/ops.ts";
import { loadShim, O_RDONLY, type Spawned } from "../shim/load.ts";
import { decodeRecords } from "../supervisor/records.ts";
import { exitCodeOf, type Status, statusFromWait } from "../supervisor/result.ts";
import { SIGKILL } from "../supervisor/signals.ts";
import { fdSink, fdStream, planStdio, type StdinSink, type StdioOption } from "../supervisor/stdio.ts";
import { liveness, type NamedState, openInit, readPlan, readState } from "./state.ts";

const O_DIRECTORY = 0o200000;
const EINVAL = 22;
const E2BIG = 7;
const CLD_EXITED = 1;
const GO = Uint8Array.of(1);
const HEADER = 16;

export interface Entered {
  readonly pid: number;
  /** With "pipe": the command's stdin (write, then end()), stdout, stderr. */
  readonly stdin: StdinSink | null;
  readonly stdout: ReadableStream<Uint8Array> | null;
  readonly stderr: ReadableStream<Uint8Array> | null;
  readonly exited: Promise<EnterResult>;
  kill(signal?: number): void;
}

export interface EnterResult {
  readonly status: Status;
  readonly exitCode: number;
  /** Why isolate could not run the command (exit 125, 126 or 127), if it could not. */
  readonly error?: string;
}

export interface EnterOptions {
  readonly stdin?: StdioOption;
  readonly stdout?: StdioOption;
  readonly stderr?: StdioOption;
}

/** The running sandbox's state, or a SpecError saying why it cannot be entered. */
export function runningState(name: string): NamedState {
  const s = readState(name);
  if (!s) throw new SpecError(`${name}: no such sandbox`, "see isolate ps");
  const l = liveness(s);
  if (l !== "running" || !s.init || !s.enter) throw new SpecError(`${name}: not running (${l})`);
  return s;
}

/** The stored command half with CMD's exec appended. */
function enterPlan(prefix: Uint8Array, s: NamedState, command: readonly string[]): Uint8Array {
  const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  const count = view.getUint32(12, true);
  const execOp = encodePlan([op("exec", { path: s.enter?.path ?? "", argv: command, env: s.enter?.env ?? [] })]);
  const body = execOp.subarray(HEADER);
  const plan = new Uint8Array(prefix.length + body.length);
  plan.set(prefix);
  plan.set(body, prefix.length);
  const out = new DataView(plan.buffer);
  out.setUint32(8, plan.length, true);
  out.setUint32(12, count + 1, true);
  return plan;
}

export function enter(name: string, command: readonly string[], opts: EnterOptions = {}): Entered {
  if (command.length === 0) throw new SpecError("enter: no command");
  const shim = loadShim();
  const s = runningState(name);
  const prefix = readPlan(name);
  if (!prefix || prefix.length < HEADER) throw new HostError(`${name}: its plan is missing from the state`);
  const plan = enterPlan(prefix, s, command);
  const check = shim.planCheck(plan);
  if (check.code !== 0) throw new HostError(`${name}: its stored plan is refused (code ${check.code})`);

  const target = openInit(s);
  if (target === null) throw new SpecError(`${name}: not running (its init has ended)`);
  const isV2 = (dir: string) => typeof shim.readFile(`${dir}/cgroup.controllers`) === "string";
  const v2 = s.cgroups.filter(isV2);
  const v1 = s.cgroups.filter((d) => !isV2(d));
  let cgFd = -1;
  let stdio: ReturnType<typeof planStdio> | undefined;
  let spawned: Spawned | number;
  try {
    if (v2[0] !== undefined) {
      cgFd = shim.open(v2[0], O_RDONLY | O_DIRECTORY);
      if (cgFd < 0) throw new HostError(`enter ${name}: open its cgroup ${v2[0]}: ${errnoText(-cgFd)}`);
    }
    stdio = planStdio(shim, [opts.stdin ?? "inherit", opts.stdout ?? "inherit", opts.stderr ?? "inherit"]);
    spawned = shim.named.enter(plan, stdio.child, cgFd, target);
    if (cgFd >= 0 && (spawned === -EINVAL || spawned === -E2BIG)) {
      spawned = shim.named.enter(plan, stdio.child, -1, target);
      v1.unshift(...v2);
    }
  } finally {
    if (cgFd >= 0) shim.close(cgFd);
    shim.close(target);
    for (const fd of stdio?.closeAfterSpawn ?? []) shim.close(fd);
  }
  if (typeof spawned === "number") {
    for (const fd of stdio.parent) if (fd !== null) shim.close(fd);
    throw new HostError(`enter ${name}: spawn: ${errnoText(-spawned)}`);
  }
  const child = spawned;
  try {
    // The sandbox's cgroups hold what runs through enter (its limits, its accounting).
    for (const dir of v1) {
      const rc = shim.writeFile(`${dir}/cgroup.procs`, String(child.pid));
      if (rc < 0) throw new HostError(`enter ${name}: join its cgroup ${dir}: ${errnoText(-rc)}`);
    }
    const rc = shim.write(child.syncFd, GO);
    if (rc < 0) throw new HostError(`enter ${name}: release: ${errnoText(-rc)}`);
  } catch (e) {
    shim.signal(child.pidfd, SIGKILL);
    shim.close(child.syncFd);
    shim.close(child.recordFd);
    shim.wait(child.pidfd, false);
    shim.close(child.pidfd);
    throw e;
  }
  shim.close(child.syncFd);
  const [inp, out, err] = stdio.parent;
  const stdinSink = inp === null ? null : fdSink(shim, inp);
  const stdout = out === null ? null : fdStream(shim, out);
  const stderr = err === null ? null : fdStream(shim, err);
  let done = false;
  const exited = (async (): Promise<EnterResult> => {
    const bytes = await Bun.file(child.recordFd).bytes();
    shim.close(child.recordFd);
    const waited = shim.wait(child.pidfd, false);
    done = true;
    shim.close(child.pidfd);
    // Every writer is gone: what the pipes hold moves into the streams, and our fds close.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all([stdinSink?.close(), stdout?.finish(), stderr?.finish()]),
      new Promise((r) => {
        timer = setTimeout(r, 1000);
      }),
    ]);
    clearTimeout(timer);
    const records = decodeRecords(bytes);
    const exit = records.find((r) => r.type === "exit");
    const err = records.find((r) => r.type === "error");
    let status: Status;
    if (exit?.type === "exit") status = statusFromWait(exit.status);
    else if (waited && waited.code === CLD_EXITED) status = { type: "exited", code: waited.status };
    else status = statusFromWait(waited ? waited.status & 0x7f : SIGKILL);
    let exitCode = exitCodeOf(status);
    if (err?.type === "error") {
      const opName = err.index >= 0 ? s.enter?.ops[err.index] : undefined;
      const text = errnoText(err.errno);
      if (opName === "exec") {
        const file = command[0] ?? "";
        exitCode = err.errno === 2 ? 127 : 126;
        const why = err.errno === 2 && !file.includes("/") ? "command not found in PATH" : text;
        return { status, exitCode, error: `enter ${name}: exec ${quoteOs(file)}: ${why}` };
      }
      const what = opName ?? STAGES[err.opcode] ?? `stage ${err.opcode}`;
      return { status, exitCode: 125, error: `enter ${name}: ${what}: ${text}` };
    }
    return { status, exitCode };
  })();
  return {
    pid: child.pid,
    stdin: stdinSink,
    stdout: stdout?.stream ?? null,
    stderr: stderr?.stream ?? null,
    exited,
    kill(signal = 15) {
      if (!done) shim.signal(child.pidfd, signal);
    },
  };
}
