/**
 * The supervisor: spawns the sandbox init through the shim, writes its
 * identity maps, releases it, and waits for it without blocking the event
 * loop (the record pipe is read asynchronously; the init closes it by exiting).
 */
import { HostError, IsolateError } from "../errors.ts";
import { quoteOs } from "../host/bytes.ts";
import { errnoName, errnoText } from "../host/errno.ts";
import { type Host, probeHost } from "../host/probe.ts";
import { setupBlockedHint, spawnBlockedError } from "../host/userns.ts";
import { compilePlan } from "../plan/compile.ts";
import { describeOp } from "../plan/describe.ts";
import { encodePlan } from "../plan/encode.ts";
import { type Op, op } from "../plan/op.ts";
import { OPS, opName, STAGES } from "../plan/ops.ts";
import { type LandlockReport, landlockReport } from "../setup/landlock.ts";
import { CLONE_FLAG, newNamespaces } from "../setup/namespaces.ts";
import { explainViewErrno } from "../setup/view-describe.ts";
import { loadShim, type Shim, type Spawned, type Waited } from "../shim/load.ts";
import { parseSpec } from "../spec/parse.ts";
import type { Spec, SpecInput } from "../spec/schema.ts";
import { idMapsFor, writeIdMaps } from "./idmap.ts";
import { type LimitTarget, SandboxLimits } from "./limits.ts";
import { decodeRecords, type SandboxRecord } from "./records.ts";
import {
  exitCodeOf,
  NO_LIMITS_REPORT,
  type Reason,
  type Result,
  type SetupFailure,
  type Status,
  statusFromWait,
} from "./result.ts";
import { removeScratch, type ScratchDir, scratchDirs } from "./scratch.ts";
import { SIG_END, SIGKILL, SIGTERM, signalNumber } from "./signals.ts";
import { fdSink, fdStream, planStdio, type StdinSink, type StdioOption } from "./stdio.ts";

export interface SpawnOptions {
  readonly stdin?: StdioOption;
  readonly stdout?: StdioOption;
  readonly stderr?: StdioOption;
}

export interface Sandbox {
  /** Host pid of the sandbox's init (its pid 1). */
  readonly pid: number;
  /** With stdin: "pipe", the command's stdin: write to it, then end() it. */
  readonly stdin: StdinSink | null;
  readonly stdout: ReadableStream<Uint8Array> | null;
  readonly stderr: ReadableStream<Uint8Array> | null;
  /** Resolves once the sandbox is gone (every process of it), with the result. */
  readonly exited: Promise<Result>;
  /**
   * Send a signal to the command (default SIGTERM). If it has not ended
   * after the spec's kill-after grace, the whole sandbox is killed.
   * SIGKILL kills the whole sandbox at once.
   */
  kill(signal?: string | number): void;
}

const CLD_EXITED = 1;
const GO = Uint8Array.of(1);
/** How long the init may take to end its sandbox before it is killed itself. */
const END_GRACE_MS = 1000;

export function spawn(input: SpecInput, opts: SpawnOptions = {}): Sandbox {
  return spawnSpec(parseSpec(input), opts);
}

/** For the CLI: beforeStart runs once the plan is checked, before anything is created. */
export interface SpawnHooks {
  readonly beforeStart?: () => void;
  /** Named sandboxes (src/named/): make a cgroup for accounting when possible. */
  readonly account?: boolean;
  /**
   * Named sandboxes (src/named/), `exec --join`: join these namespaces (CLONE_NEW* flags) of the
   * process `fd` (a pidfd) is before the init is cloned; the spec already shares them (user aside:
   * compiled as new, joined instead of created, its maps the joined sandbox's).
   */
  readonly join?: { readonly fd: number; readonly flags: number; readonly what: string };
  /** Named sandboxes (src/named/): the sandbox was released (after GO). */
  readonly started?: (s: StartedSandbox) => void;
}

/** Named sandboxes: what their state records once the sandbox runs. */
export interface StartedSandbox {
  readonly pid: number;
  readonly ops: readonly Op[];
  readonly host: Host;
  readonly cgroups: readonly string[];
}

export function spawnSpec(spec: Spec, opts: SpawnOptions = {}, hooks: SpawnHooks = {}): Sandbox {
  // The shim first: host facts read from /proc go through it (node:fs costs milliseconds to load).
  const shim = loadShim();
  const host = probeHost();
  let ops = compilePlan(spec, host);
  hooks.beforeStart?.();
  // Cgroups with the limits, before anything else exists (a limit that cannot be enforced stops here).
  const limits = SandboxLimits.prepare(spec, !newNamespaces(spec, host).includes("pid"), hooks.account);
  // With cgroups of its own, the sandbox's /sys/fs/cgroup shows them (a fresh mount in its cgroup namespace);
  // with a CPU-time budget, the init reads the sandbox's cgroup CPU counter.
  const own = limits.hierarchies();
  const counter = limits.cpuCounter();
  if (own.length > 0 || counter !== null) ops = compilePlan(spec, host, own, counter);
  const join = hooks.join;
  if (join) ops = joinedClone(ops, join.flags);
  const plan = encodePlan(ops);
  const scratch = scratchDirs(spec, shim);
  const started = performance.now();
  let spawned: Spawned | number;
  let stdio: ReturnType<typeof planStdio> | undefined;
  try {
    stdio = planStdio(shim, [opts.stdin ?? "inherit", opts.stdout ?? "inherit", opts.stderr ?? "inherit"]);
    const child = stdio.child;
    spawned = limits.spawn((cgroupFd) =>
      join ? spawnJoined(shim, plan, child, cgroupFd, join) : shim.spawn(plan, child, cgroupFd),
    );
  } catch (e) {
    limits.abort();
    removeScratch(shim, scratch);
    throw e;
  } finally {
    for (const fd of stdio?.closeAfterSpawn ?? []) shim.close(fd);
  }
  if (typeof spawned === "number") {
    limits.abort();
    removeScratch(shim, scratch);
    for (const fd of stdio.parent) if (fd !== null) shim.close(fd);
    throw spawnError(shim, plan, -spawned, spec, host);
  }
  const child = spawned;
  try {
    if (newNamespaces(spec, host).includes("user") && !((join?.flags ?? 0) & CLONE_FLAG.user))
      writeIdMaps(shim, child.pid, idMapsFor(spec, host));
    limits.attach(child.pid);
    // The init enforces the time limits: let it act at once however busy the
    // CPUs are (best effort: it needs CAP_SYS_NICE, and v1 cpu cgroups refuse it).
    if (host.root && limits.timed) shim.schedInit(child.pid);
    const rc = shim.write(child.syncFd, GO);
    if (rc < 0) throw new HostError(`release the sandbox: ${errnoText(-rc)}`);
  } catch (e) {
    shim.signal(child.pidfd, SIGKILL);
    shim.close(child.syncFd);
    shim.close(child.recordFd);
    shim.wait(child.pidfd, false);
    shim.close(child.pidfd);
    limits.abort();
    removeScratch(shim, scratch);
    for (const fd of stdio.parent) if (fd !== null) shim.close(fd);
    throw e;
  }
  shim.close(child.syncFd);
  // Named sandboxes: record it (a failure here is the caller's to handle; the sandbox runs on).
  hooks.started?.({ pid: child.pid, ops, host, cgroups: limits.paths });
  return new Supervised(shim, spec, host, ops, child, started, stdio.parent, limits, scratch);
}

class Supervised implements Sandbox, LimitTarget {
  readonly pid: number;
  readonly stdin: StdinSink | null;
  readonly stdout: ReadableStream<Uint8Array> | null;
  readonly stderr: ReadableStream<Uint8Array> | null;
  readonly exited: Promise<Result>;
  private readonly stdinSink: (StdinSink & { close(): void }) | null;
  private done = false;
  private killedFor: Reason | undefined;
  private grace: ReturnType<typeof setTimeout> | undefined;
  private endTimer: ReturnType<typeof setTimeout> | undefined;
  private commandPid: number | undefined;
  private readonly sharedPid: boolean;
  /** Unprivileged, in a new user namespace: a refused setup op may be a knob's doing. */
  private readonly rootless: boolean;
  private readonly landlock: LandlockReport;

  constructor(
    private readonly shim: Shim,
    private readonly spec: Spec,
    host: Host,
    private readonly ops: readonly Op[],
    private readonly child: Spawned,
    private readonly started: number,
    parentEnds: readonly (number | null)[],
    private readonly limits: SandboxLimits,
    private readonly scratch: readonly ScratchDir[],
  ) {
    this.pid = child.pid;
    this.sharedPid = !newNamespaces(spec, host).includes("pid");
    this.rootless = !host.root && newNamespaces(spec, host).includes("user");
    this.landlock = landlockReport(spec, host, ops);
    const out = parentEnds[1];
    const err = parentEnds[2];
    const inp = parentEnds[0];
    this.stdout = out === null || out === undefined ? null : fdStream(shim, out);
    this.stderr = err === null || err === undefined ? null : fdStream(shim, err);
    this.stdinSink = inp === null || inp === undefined ? null : fdSink(shim, inp);
    this.stdin = this.stdinSink;
    this.exited = this.supervise();
    limits.watch(this, spec.killAfterMs);
  }

  /** A limit ran out: SIGTERM, then everything after the grace; or everything now. */
  limitReached(reason: Reason, graceful: boolean): void {
    if (this.done) return;
    this.killedFor ??= reason;
    if (!graceful || this.spec.killAfterMs === 0) {
      this.killAll(reason);
      return;
    }
    this.shim.signal(this.child.pidfd, SIGTERM);
    this.grace ??= setTimeout(() => this.killAll(reason), this.spec.killAfterMs);
  }

  kill(signal: string | number = "SIGTERM"): void {
    if (this.done) return;
    const sig = signalNumber(signal);
    if (sig === SIGKILL) {
      this.killAll("killed");
      return;
    }
    this.shim.signal(this.child.pidfd, sig);
    this.grace ??= setTimeout(() => this.killAll("killed"), this.spec.killAfterMs);
  }

  /**
   * End every process of the sandbox now. With its own pid namespace and no
   * cgroup, the init does it: it kills everything in the namespace and reaps
   * it, so the report still counts what the processes used; if it has not
   * ended shortly after, it is killed itself.
   */
  killAll(reason: Reason): void {
    if (this.done) return;
    this.killedFor ??= reason;
    if (!this.sharedPid && !this.limits.grouped && this.endTimer === undefined) {
      this.shim.signal(this.child.pidfd, SIG_END);
      this.endTimer = setTimeout(() => this.forceKill(), END_GRACE_MS);
      return;
    }
    this.forceKill();
  }

  private forceKill(): void {
    if (this.done) return;
    // Without a pid namespace the init's death does not end the command: end its group first.
    if (this.sharedPid && this.commandPid !== undefined) {
      try {
        process.kill(-this.commandPid, SIGKILL);
      } catch {}
    }
    this.shim.signal(this.child.pidfd, SIGKILL);
    this.limits.kill();
  }

  private async supervise(): Promise<Result> {
    let bytes: Uint8Array;
    try {
      bytes = this.sharedPid ? await this.readWatchingStart() : await Bun.file(this.child.recordFd).bytes();
    } finally {
      this.shim.close(this.child.recordFd);
    }
    const records = decodeRecords(bytes);
    // EOF: the init has exited (it alone holds the pipe); reaping is immediate
    // once no cgroup kill holds its last processes frozen.
    await this.limits.settled();
    const waited = this.shim.wait(this.child.pidfd, false);
    this.shim.close(this.child.pidfd);
    this.done = true;
    if (this.grace) clearTimeout(this.grace);
    if (this.endTimer) clearTimeout(this.endTimer);
    removeScratch(this.shim, this.scratch);
    this.stdinSink?.close();
    return this.limits.complete(this.result(records, waited));
  }

  /** Read the records as they come, to learn the command's pid early (see killAll). */
  private async readWatchingStart(): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [];
    for await (const chunk of Bun.file(this.child.recordFd).stream()) {
      chunks.push(chunk);
      if (this.commandPid === undefined) {
        const s = decodeRecords(Buffer.concat(chunks)).find((r) => r.type === "started");
        if (s?.type === "started") this.commandPid = s.pid;
      }
    }
    return Buffer.concat(chunks);
  }

  /**
   * wallMs: from the clone to the command's end as the init measured it (its
   * exit record), else from just before the spawn to now as the supervisor did.
   */
  private result(records: SandboxRecord[], waited: Waited | null): Result {
    const exit = records.find((r) => r.type === "exit");
    const wallMs = exit?.type === "exit" ? exit.wallUs / 1000 : performance.now() - this.started;
    const errRec = records.find((r) => r.type === "error");
    let status: Status;
    if (exit?.type === "exit") status = statusFromWait(exit.status);
    else if (waited && waited.code === CLD_EXITED) status = { type: "exited", code: waited.status };
    else status = statusFromWait(waited ? waited.status & 0x7f : SIGKILL);

    const error = errRec?.type === "error" ? this.failure(errRec) : undefined;
    const isExec = errRec?.type === "error" && errRec.opcode === OPS.exec.code;
    let reason: Reason = this.killedFor ?? "ok";
    if (exit?.type === "exit") {
      // The init saw the end: a limit it enforced, or an end asked for while the
      // command ran (kill(), SIG_END), or the command's own end before any of those.
      if (exit.fired.timeout) this.limits.noteFired("timeout");
      if (exit.fired.cpuTime) this.limits.noteFired("cpu-time");
      if (exit.fired.timeout) reason = "timeout";
      else if (exit.fired.cpuTime) reason = "cpu-time";
      else if (exit.asked) reason = this.killedFor ?? "killed";
      else reason = "ok";
    }
    let exitCode = exitCodeOf(status);
    if (error && !this.killedFor) {
      reason = isExec ? "exec" : "setup";
      exitCode = isExec ? (error.errno === 2 ? 127 : 126) : 125;
    }
    const base = {
      status,
      exitCode,
      reason,
      wallMs: Math.round(wallMs * 1000) / 1000,
      // The exit record counts every process the init reaped. Without it (the
      // sandbox was killed), the init's own rusage is the only source, and its
      // peak RSS is not the command's: it began life sharing the supervisor's memory.
      cpu: {
        userMs: (exit?.type === "exit" ? exit.userUs : (waited?.userUs ?? 0)) / 1000,
        sysMs: (exit?.type === "exit" ? exit.sysUs : (waited?.sysUs ?? 0)) / 1000,
      },
      memoryPeakBytes: exit?.type === "exit" ? exit.maxRssKiB * 1024 : null,
      pidsPeak: null,
      limits: NO_LIMITS_REPORT,
      landlock: this.landlock,
    };
    return error ? { ...base, error } : base;
  }

  private failure(r: Extract<SandboxRecord, { type: "error" }>): SetupFailure {
    const text = errnoText(r.errno);
    const op = r.index >= 0 ? this.ops[r.index] : undefined;
    if (op?.op === "exec") {
      const name = op.args.argv[0] ?? "";
      const why =
        r.errno === 2 && !name.includes("/")
          ? "command not found in PATH"
          : r.errno === 13
            ? "Permission denied (a directory, or a file without execute permission)"
            : text;
      return fail(r, "exec", `exec ${quoteOs(name)}`, `exec ${quoteOs(name)}: ${why}`);
    }
    if (op) {
      const what = describeOp(op);
      const explained = explainViewErrno(op, r.errno);
      const hint = this.rootless && !explained ? setupBlockedHint(r.errno) : "";
      return fail(r, op.op, what, `setup: ${what}: ${explained ?? text}${hint}`);
    }
    const stage = STAGES[r.opcode] ?? opName(r.opcode) ?? `stage ${r.opcode}`;
    return fail(r, stage, stage, `${stage}: ${text}`);
  }
}

/** Named sandboxes, `exec --join`: the clone creates none of the joined namespaces. */
function joinedClone(ops: Op[], flags: number): Op[] {
  const first = ops[0];
  if (first?.op !== "clone") throw new IsolateError("internal", "a plan opens with clone");
  return [op("clone", { flags: Number(first.args.flags) & ~flags }), ...ops.slice(1)];
}

function spawnJoined(
  shim: Shim,
  plan: Uint8Array,
  child: readonly [number, number, number],
  cgroupFd: number,
  join: NonNullable<SpawnHooks["join"]>,
): Spawned | number {
  const r = shim.named.spawnJoin(plan, child, cgroupFd, join.fd, join.flags);
  if (typeof r === "number" && shim.named.joinRefused()) {
    throw new HostError(`--join ${join.what}: ${errnoText(-r)}`);
  }
  return r;
}

function fail(r: { index: number; errno: number }, op: string, what: string, message: string): SetupFailure {
  return { index: r.index, op, what, errno: r.errno, errnoName: errnoName(r.errno), message };
}

function spawnError(shim: Shim, plan: Uint8Array, errno: number, spec: Spec, host: Host): IsolateError {
  const fresh = newNamespaces(spec, host);
  if (errno === 22) {
    const check = shim.planCheck(plan);
    if (check.code !== 0) {
      return new IsolateError(
        "internal",
        `spawn: plan refused by the shim (code ${check.code} at byte ${check.where})`,
      );
    }
  }
  const blocked = errno === 22 ? undefined : spawnBlockedError(errno, fresh.includes("user"));
  if (blocked) return new HostError(blocked.message, blocked.hint);
  if ((errno === 1 || errno === 13) && fresh.includes("user") && !host.root) {
    return new HostError(
      `spawn: cannot create a user namespace: ${errnoText(errno)}`,
      "unprivileged user namespaces are blocked here; run `isolate check` for the knob that blocks them",
    );
  }
  if (errno === 28) {
    return new HostError(`spawn: ${errnoText(errno)}`, "a namespace limit (user.max_*_namespaces) is reached");
  }
  return new HostError(`spawn: clone: ${errnoText(errno)}`);
}
