/**
 * The supervisor: spawns the sandbox init through the shim, writes its
 * identity maps, releases it, and waits for it without blocking the event
 * loop (the record pipe is read asynchronously; the init closes it by exiting).
 */

import { parseSpec } from "../config/parse.ts";
import type { Spec, SpecInput } from "../config/schema.ts";
import { HostError, IsolateError, field as specField } from "../errors.ts";
import { FACILITIES } from "../facilities/index.ts";
import type { LandlockReport } from "../facilities/landlock/ops.ts";
import { explainViewErrno } from "../facilities/view/describe.ts";
import { quoteOs } from "../host/bytes.ts";
import { errnoName, errnoText } from "../host/errno.ts";
import { probeHost } from "../host/probe.ts";
import { setupBlockedHint, spawnBlockedError } from "../host/userns.ts";
import { compilePlan } from "../plan/compile.ts";
import { describeOp } from "../plan/describe.ts";
import { encodePlan } from "../plan/encode.ts";
import { type Op, op } from "../plan/op.ts";
import { OPS, opName, STAGES } from "../plan/ops.ts";
import { type Resolved, resolveSandbox } from "../plan/resolve.ts";
import { loadShim, type Shim, type Spawned, type StartIO, startIO, type Waited } from "../shim/load.ts";
import type { Facility, FacilityHooks, SetupContext, WatchTarget } from "./hooks.ts";
import { parseSpawnOptions, type SpawnOptions } from "./options.ts";
import { decodeRecords, type SandboxRecord } from "./records.ts";
import {
  exitCodeOf,
  makeResult,
  NO_LIMITS_REPORT,
  type Reason,
  type Result,
  type SetupFailure,
  type Status,
  setupFailure,
  statusFromWait,
} from "./result.ts";
import { SIG_END, SIGKILL, SIGTERM, signalNumber } from "./signals.ts";
import { fdSink, fdStream, type OwnedStream, planStdio, type StdinSink, type StdioPlan } from "./stdio.ts";

export type { SpawnOptions };

/**
 * A running sandbox. Its fds are all closed once it has ended, whether its
 * streams were read or not (what the pipes still held stays readable).
 * `await using sb = spawn(...)` kills and reaps it when the scope exits.
 */
export interface Sandbox extends AsyncDisposable {
  /**
   * Host pid of the sandbox's init (its pid 1), once `ready` has resolved
   * (the setup runs after spawn() returns); reading it before throws.
   */
  readonly pid: number;
  /**
   * Resolves with the init's host pid once the sandbox is set up and released
   * (its cgroups entered, its id maps written); rejects, as `exited` does, with
   * the error that stopped the setup (an IsolateError, exit code 125).
   */
  readonly ready: Promise<number>;
  /** With stdin: "pipe", the command's stdin: `await write()` (backpressure), then end() it. */
  readonly stdin: StdinSink | null;
  /** With stdout: "pipe", the command's stdout. */
  readonly stdout: ReadableStream<Uint8Array> | null;
  /** With stderr: "pipe", the command's stderr. */
  readonly stderr: ReadableStream<Uint8Array> | null;
  /**
   * With the Spec's `pty`: the pty master, once the command has started (its stdin, stdout
   * and stderr are the slave); null without `pty`, or when the command never started. The
   * fd is the caller's to close (src/supervisor/pty.ts relays it for the CLI).
   */
  readonly terminal: Promise<number | null>;
  /** Resolves once the sandbox is gone (every process of it), with the result; rejects when it never started. */
  readonly exited: Promise<Result>;
  /**
   * Send a signal to the command (default SIGTERM). If it has not ended
   * after the spec's kill-after grace, the whole sandbox is killed.
   * SIGKILL kills the whole sandbox at once. Before `ready`, the signal is
   * sent as soon as the command is released. If it ends the command, the
   * result's reason is "killed", whatever the signal.
   */
  kill(signal?: string | number): void;
  /** Kill the whole sandbox (if it still runs) and wait until it is gone. */
  [Symbol.asyncDispose](): Promise<void>;
}

const CLD_EXITED = 1;
/** The result's landlock part until the landlock facility's finish gives it (src/facilities/landlock/hooks.ts). */
const NO_LANDLOCK_REPORT: LandlockReport = { applied: false, abi: null, restricts: [] };
/** How long the init may take to end its sandbox before it is killed itself. */
const END_GRACE_MS = 1000;
/**
 * How long the end of a run waits for its pipes to drain and close. They are at
 * EOF by then, so this is only reached when a writer outlived the sandbox (or
 * the event loop is very busy); then the fds are closed anyway.
 */
const STDIO_CLOSE_MS = 5000;

/**
 * End a sandbox for a reason of the caller's (run()'s output cap): the whole
 * sandbox at once, reported with that reason.
 */
export function endSandbox(sb: Sandbox, reason: Reason): void {
  if (sb instanceof Supervised) sb.endFor(reason);
  else sb.kill("SIGKILL");
}

/**
 * Start a sandbox and return its handle at once. Bad input (the Spec, the
 * options) throws here, synchronously (a SpecError), as Bun.spawn does; the
 * setup runs after it returns, and a host that cannot run the sandbox rejects
 * `ready` and `exited` (an IsolateError, nothing left behind). Once the
 * sandbox runs, every failure is in the result (reason "setup" or "exec").
 *
 * @example
 * await using sb = spawn({ command: ["cat"] }, { stdin: "pipe", stdout: "pipe" });
 * await sb.stdin?.write("hello\n");
 * await sb.stdin?.end();
 * console.log(await new Response(sb.stdout).text()); // "hello\n"
 * const r = await sb.exited; // r.reason "ok", r.exitCode 0
 */
export function spawn(input: SpecInput, opts: SpawnOptions = {}): Sandbox {
  return spawnSpec(parseSpec(input), opts);
}

export interface SpawnHooks {
  /** For the CLI: runs once the plan is checked, before anything is created. */
  readonly beforeStart?: (resolved: Resolved) => void;
  /**
   * Clone and write on the calling thread, at once: for the one-shot CLI,
   * where nothing else waits on the event loop and a worker thread would only
   * cost start-up and exit time. The library leaves the JS thread free.
   */
  readonly inline?: boolean;
  /** Named sandboxes (src/named/): make a cgroup for accounting when possible. */
  readonly account?: boolean;
  /**
   * Named sandboxes (src/named/), `exec --join`: join these namespaces (CLONE_NEW* flags) of the
   * process `fd` (a pidfd) is before the init is cloned; the spec already shares them (user aside:
   * compiled as new, joined instead of created, its maps the joined sandbox's).
   */
  readonly join?: {
    readonly fd: number;
    readonly flags: number;
    readonly what: string;
    /** Refuse the resolved sandbox (a SpecError) before anything is made. */
    readonly check?: (r: Resolved) => void;
  };
  /** Named sandboxes (src/named/): the sandbox was released (after GO), before `ready` resolves. */
  readonly started?: (s: StartedSandbox) => void;
  /** Tests: the facilities whose supervisor hooks run, instead of src/facilities/index.ts's. */
  readonly facilities?: readonly Facility[];
}

/** Named sandboxes: what their state records once the sandbox runs. */
export interface StartedSandbox {
  readonly pid: number;
  readonly ops: readonly Op[];
  readonly resolved: Resolved;
  readonly cgroups: readonly string[];
}

/**
 * Sandboxes waiting for their setup's turn. Each one's JS work (host probe,
 * plan, cgroups) runs in a turn of the event loop of its own, so that many
 * spawn() calls at once never hold timers and I/O for all of them. And only
 * a few set up at once (until the init reports the command started): the
 * setup is kernel work that saturates the CPUs, and twenty inits setting up
 * together would starve the event loop that supervises them, and finish no
 * sooner.
 */
const waiting: (() => void)[] = [];
let settingUp = 0;
let turnScheduled = false;
/**
 * One CPU is left to the supervisors and the commands that run: on a 2-CPU
 * machine, 20 spawn() calls with two setups at once held the event loop for
 * 8-10 ms at a time (its thread waiting for a CPU), with one 5-6 ms, for
 * about 5% more time to start them all (bench/eventloop.ts).
 */
const MAX_SETTING_UP = Math.max(1, (navigator.hardwareConcurrency ?? 2) - 1);

function nextTurn(): void {
  turnScheduled = false;
  if (settingUp >= MAX_SETTING_UP) return;
  const go = waiting.shift();
  if (go) {
    settingUp++;
    go();
  }
  scheduleTurn();
}

function scheduleTurn(): void {
  if (turnScheduled || waiting.length === 0 || settingUp >= MAX_SETTING_UP) return;
  turnScheduled = true;
  setImmediate(nextTurn);
}

/** A slot among the sandboxes setting up; call the answer once the setup is over. */
async function setupTurn(): Promise<() => void> {
  await new Promise<void>((resolve) => {
    waiting.push(resolve);
    scheduleTurn();
  });
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    settingUp--;
    scheduleTurn();
  };
}

/**
 * Start a sandbox. The handle is returned at once, its streams ready to use;
 * the setup runs in phases after it: prepare (host facts, plan, cgroups) ->
 * spawn (the init is cloned and waits) -> before GO (id maps, cgroup
 * placement) -> GO -> watch (limits) -> finish (result, cleanup). The clone
 * and the slow writes run on a worker thread of the shim (native/worker.c), so
 * the event loop stays free however many sandboxes start at once.
 *
 * @example
 * const sb = spawnSpec(parseSpec({ command: ["true"] }));
 * await sb.ready; // the init's host pid
 * const r = await sb.exited;
 */
export function spawnSpec(spec: Spec, options: SpawnOptions = {}, hooks: SpawnHooks = {}): Sandbox {
  const opts = parseSpawnOptions(options);
  if (opts.signal?.aborted) throw opts.signal.reason;
  // The caller's timeout is the Spec's wall-clock limit, enforced by the init like it.
  if (opts.timeout !== undefined && (spec.limits.timeoutMs === undefined || opts.timeout < spec.limits.timeoutMs)) {
    spec = { ...spec, limits: { ...spec.limits, timeoutMs: opts.timeout } };
  }
  // The shim first: host facts read from /proc go through it (node:fs costs milliseconds to load).
  const shim = loadShim();
  const stdio = planStdio(shim, [opts.stdin ?? "inherit", opts.stdout ?? "inherit", opts.stderr ?? "inherit"]);
  const sb = new Supervised(shim, spec, stdio, hooks);
  const signal = opts.signal;
  if (signal) {
    // kill("SIGKILL") also holds before `ready`: the sandbox is killed as soon as it exists.
    const abort = () => sb.kill("SIGKILL");
    signal.addEventListener("abort", abort, { once: true });
    void sb.exited.finally(() => signal.removeEventListener("abort", abort)).catch(() => {});
  }
  return sb;
}

class Supervised implements Sandbox, WatchTarget {
  readonly stdin: StdinSink | null;
  readonly stdout: ReadableStream<Uint8Array> | null;
  readonly stderr: ReadableStream<Uint8Array> | null;
  readonly ready: Promise<number>;
  readonly exited: Promise<Result>;
  readonly terminal: Promise<number | null>;
  private settleTerminal: (fd: number | null) => void = () => {};
  /** --pty: our end of the sync socket, until the init's master has come on it. */
  private ptySync = -1;
  private readonly stdinSink: (StdinSink & { close(): Promise<void> }) | null;
  private readonly outputs: OwnedStream[] = [];
  private readonly io: StartIO;
  private done = false;
  private killedFor: Reason | undefined;
  private grace: ReturnType<typeof setTimeout> | undefined;
  private endTimer: ReturnType<typeof setTimeout> | undefined;
  private commandPid: number | undefined;
  /** Gives back the setup slot (see setupTurn): at the command's start, or the end. */
  private setupDone: () => void = () => {};
  /** Signals asked for before the command was released. */
  private early: number[] = [];
  private started = 0;
  // Set by prepare(), before the clone.
  private ctx!: SetupContext;
  private facilities: FacilityHooks[] = [];
  private plan!: Uint8Array;
  /** What to undo, stacked as it is made; teardown() runs it in reverse, once. */
  private readonly undos: (() => Promise<unknown> | undefined)[] = [];
  private tornDown: Promise<void> | undefined;
  /** A facility's failure before GO (the network's): the run reports it (125). */
  private refused: SetupFailure | undefined;
  private recordsClosed = false;
  private reaped = false;
  private child: Spawned | undefined;
  private sharedPid = false;
  /** Unprivileged, in a new user namespace: a refused setup op may be a knob's doing. */
  private rootless = false;
  /** Root mapped to an unprivileged range (src/facilities/identity/ops.ts): a refused lookup may be a directory it cannot search. */
  private mappedRoot = false;

  constructor(
    private readonly shim: Shim,
    private spec: Spec,
    stdio: StdioPlan,
    hooks: SpawnHooks,
  ) {
    const [inp, out, err] = stdio.parent;
    const own = (fd: number | null) => {
      if (fd === null) return null;
      const s = fdStream(shim, fd);
      this.outputs.push(s);
      return s.stream;
    };
    this.stdout = own(out);
    this.stderr = own(err);
    this.stdinSink = inp === null ? null : fdSink(shim, inp);
    this.stdin = this.stdinSink;
    this.terminal = new Promise((resolve) => {
      this.settleTerminal = resolve;
    });
    this.io = startIO(shim, hooks.inline === true);
    // The last undo of every path: the streams end (the child's ends are closed: they read EOF).
    this.undos.push(() => this.closeStdio());
    this.ready = this.start(stdio, hooks);
    this.exited = this.ready.then(() => this.supervise());
    // Whoever awaits one of them sees the setup's error; neither is unhandled for it.
    this.ready.catch(() => {});
    this.exited.catch(() => {});
  }

  private get spawned(): Spawned {
    if (!this.child) throw new IsolateError("internal", "the sandbox has not started");
    return this.child;
  }

  get pid(): number {
    if (!this.child) throw new IsolateError("internal", "the sandbox's pid is known once `ready` resolves");
    return this.child.pid;
  }

  /**
   * prepare -> spawn -> before GO -> GO -> watch, each phase running the
   * facilities' hooks (src/facilities/index.ts); on failure, teardown() leaves
   * nothing of what it made.
   */
  private async start(stdio: StdioPlan, hooks: SpawnHooks): Promise<number> {
    let child: Spawned | undefined;
    // The child's ends of its stdio: ours to close once it has them (or never will).
    let childEnds: readonly number[] = stdio.closeAfterSpawn;
    const closeChildEnds = () => {
      for (const fd of childEnds) this.shim.close(fd);
      childEnds = [];
      return undefined;
    };
    this.undos.push(closeChildEnds);
    try {
      if (!hooks.inline) this.setupDone = await setupTurn();
      const ctx = this.prepare(hooks);
      this.started = performance.now();
      let spawned: Spawned | number;
      try {
        const join = hooks.join;
        const { plan } = this;
        const clone = (cgroupFd: number) =>
          join
            ? Promise.resolve(spawnJoined(this.shim, plan, stdio.child, cgroupFd, join))
            : this.io.spawn(plan, stdio.child, cgroupFd);
        spawned = await (ctx.group ? ctx.group.spawn(clone) : clone(-1));
      } finally {
        closeChildEnds();
      }
      if (typeof spawned === "number") throw spawnError(this.shim, this.plan, -spawned, ctx.resolved);
      child = spawned;
      this.undoChild(child);
      try {
        await this.beforeGo(ctx, child);
        if (!this.refused) {
          const rc = this.shim.go(child.syncFd, ctx.goFds);
          if (rc < 0) throw new HostError(`release the sandbox: ${errnoText(-rc)}`);
        }
      } finally {
        for (const fd of ctx.goFds.splice(0)) this.shim.close(fd);
      }
      if (this.spec.pty) this.ptySync = child.syncFd;
      else this.shim.close(child.syncFd);
      this.child = child;
    } catch (e) {
      let err = e;
      if (child) {
        // Near the open-file limit, the init (which starts with a copy of our fd table) died of it:
        // that, not the map or the release, is what failed.
        const fds = fdPressure(this.shim);
        if (fds && e instanceof IsolateError) err = new HostError(`${e.message} (${fds.what})`, fds.hint);
      }
      await this.teardown();
      throw err;
    }
    const ctx = this.ctx;
    // Named sandboxes: record it (the hook never throws; the sandbox runs on).
    hooks.started?.({ pid: child.pid, ops: ctx.ops, resolved: ctx.resolved, cgroups: ctx.group?.paths ?? [] });
    for (const f of this.facilities) f.watch?.(ctx, this);
    for (const sig of this.early.splice(0)) this.kill(sig);
    return child.pid;
  }

  /**
   * Host facts, the plan, and what the facilities make before the clone (a
   * limit that cannot be enforced stops here). The facilities' cleanups are
   * stacked before any check or prepare runs: a prepare that fails half-way is undone too.
   */
  private prepare(hooks: SpawnHooks): SetupContext {
    const { shim, spec: given } = this;
    const host = probeHost();
    const resolved = resolveSandbox(given, host);
    hooks.join?.check?.(resolved);
    let ops = compilePlan(resolved, [], null, hooks.facilities);
    hooks.beforeStart?.(resolved);
    const fresh = resolved.namespaces;
    const ctx: SetupContext = {
      shim,
      io: this.io,
      host,
      options: hooks,
      spec: given,
      resolved,
      fresh,
      cgroupMounts: [],
      cpuCounter: null,
      group: null,
      ops,
      goFds: [],
      refuse: (failure) => {
        this.refused ??= failure;
      },
    };
    this.ctx = ctx;
    const facilities = (hooks.facilities ?? FACILITIES).flatMap((f) => (f.hooks ? [f.hooks()] : []));
    this.facilities = facilities;
    for (const f of facilities) {
      const cleanup = f.cleanup;
      if (cleanup) this.undos.push(() => cleanup.call(f, ctx));
    }
    for (const f of facilities) f.check?.(ctx);
    for (const f of facilities) f.prepare?.(ctx);
    const spec = ctx.spec;
    this.spec = spec;
    if (spec !== given) ctx.resolved = resolveSandbox(spec, host);
    if (spec !== given || ctx.cgroupMounts.length > 0 || ctx.cpuCounter !== null) {
      ops = compilePlan(ctx.resolved, ctx.cgroupMounts, ctx.cpuCounter, hooks.facilities);
    }
    if (hooks.join) ops = joinedClone(ops, hooks.join.flags);
    ctx.ops = ops;
    this.plan = encodePlan(ops);
    this.sharedPid = !fresh.includes("pid");
    this.rootless = !host.root && fresh.includes("user");
    this.mappedRoot = ctx.resolved.identity.mappedRoot;
    return ctx;
  }

  /**
   * The init waits for GO: the facilities' hooks in order (its identity maps,
   * a mapped root's bind mounts for GO, its cgroups, its scheduling, the
   * network). Only a hook's promise is awaited; one that refuses the sandbox
   * (the network) ends the phase: the init is killed unreleased.
   */
  private async beforeGo(ctx: SetupContext, child: Spawned): Promise<void> {
    for (const f of this.facilities) {
      const p = f.beforeGo?.(ctx, child);
      if (p) await p;
      if (this.refused) {
        this.shim.signal(child.pidfd, SIGKILL);
        return;
      }
    }
  }

  /**
   * Until the normal end has reaped it: on teardown, the init is killed (it
   * may wait for GO) and reaped, and our ends of it are closed.
   */
  private undoChild(child: Spawned): void {
    this.undos.push(() => {
      if (this.reaped) return undefined;
      this.reaped = true;
      this.shim.signal(child.pidfd, SIGKILL);
      if (this.child !== child) this.shim.close(child.syncFd);
      if (!this.recordsClosed) this.shim.close(child.recordFd);
      this.shim.wait(child.pidfd, false);
      this.shim.close(child.pidfd);
      return undefined;
    });
  }

  /**
   * The one cleanup path, for every end: a failure before the clone, before
   * GO, the normal end (after the facilities' finish), a kill. Runs once: the
   * undo stack in reverse (the init, the facilities' cleanups, the streams),
   * and resolves when what they return has settled.
   */
  private teardown(): Promise<void> {
    this.tornDown ??= (async () => {
      this.ended();
      this.takeTerminal();
      this.setupDone();
      const pending: Promise<unknown>[] = [];
      for (let undo = this.undos.pop(); undo; undo = this.undos.pop()) {
        try {
          const p = undo();
          if (p) pending.push(p.catch(() => {}));
        } catch {}
      }
      await Promise.all(pending);
    })();
    return this.tornDown;
  }

  /** The sandbox is gone (or never ran): nothing may signal it any more. */
  private ended(): void {
    this.done = true;
    if (this.grace) clearTimeout(this.grace);
    if (this.endTimer) clearTimeout(this.endTimer);
  }

  /** A limit ran out: SIGTERM, then everything after the grace; or everything now. */
  limitReached(reason: Reason, graceful: boolean): void {
    if (this.done) return;
    this.killedFor ??= reason;
    if (!graceful || this.spec.killAfterMs === 0) {
      this.killAll(reason);
      return;
    }
    this.shim.signal(this.spawned.pidfd, SIGTERM);
    this.grace ??= setTimeout(() => this.killAll(reason), this.spec.killAfterMs);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.kill("SIGKILL");
    await this.exited.catch(() => {});
  }

  /** run()'s output cap: the whole sandbox now, reported with that reason. */
  endFor(reason: Reason): void {
    if (this.child) this.killAll(reason);
    else this.kill("SIGKILL");
  }

  kill(signal: string | number = "SIGTERM"): void {
    if (this.done) return;
    const sig = signalNumber(signal);
    if (!this.child) {
      this.early.push(sig);
      return;
    }
    if (sig === SIGKILL) {
      this.killAll("killed");
      return;
    }
    this.shim.signal(this.spawned.pidfd, sig);
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
    if (!this.sharedPid && !this.ctx.group && this.endTimer === undefined) {
      this.shim.signal(this.spawned.pidfd, SIG_END);
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
    this.shim.signal(this.spawned.pidfd, SIGKILL);
    this.ctx.group?.kill();
  }

  private async supervise(): Promise<Result> {
    try {
      let bytes: Uint8Array;
      try {
        // .stream() reads on the event loop; .bytes() would start a thread pool.
        bytes = await this.readRecords();
      } finally {
        this.shim.close(this.spawned.recordFd);
        this.recordsClosed = true;
        this.setupDone();
      }
      const records = decodeRecords(bytes);
      this.takeTerminal();
      // EOF: the init has exited (it alone holds the pipe); reaping is immediate
      // once no cgroup kill holds its last processes frozen.
      const group = this.ctx.group;
      if (group) await group.settled();
      const waited = await this.io.wait(this.spawned.pidfd);
      this.shim.close(this.spawned.pidfd);
      this.reaped = true;
      this.ended();
      // The facilities' parts of the result (the network's report, the cgroups' counters and limits).
      const ended = { records, waited };
      let result = this.result(records, waited);
      for (const f of this.facilities) {
        if (!f.finish) continue;
        const r = f.finish(this.ctx, result, ended);
        result = r instanceof Promise ? await r : r;
      }
      return result;
    } finally {
      await this.teardown();
    }
  }

  /**
   * The sandbox is gone, and with it every writer of its pipes: what they
   * still hold moves into the streams, and every fd of ours is closed, read
   * or not. Bounded: a writer that somehow survived cannot hold up the result
   * (its streams then end with what they hold, and their fds are closed).
   */
  private async closeStdio(): Promise<void> {
    const all = Promise.all([this.stdinSink?.close(), ...this.outputs.map((o) => o.finish())]);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = await Promise.race([
      all.then(() => false),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(true), STDIO_CLOSE_MS))),
    ]);
    clearTimeout(timer);
    // No fd of ours outlives the result, whoever still holds the pipes' other ends.
    if (late) await Promise.all(this.outputs.map((o) => o.abandon()));
  }

  /**
   * --pty: the master the init sent before it started the command (or nothing, when it
   * failed first); our end of the sync socket closes either way.
   */
  private takeTerminal(): void {
    if (this.ptySync < 0) {
      this.settleTerminal(null);
      return;
    }
    const fd = this.shim.tty.recvPty(this.ptySync);
    this.shim.close(this.ptySync);
    this.ptySync = -1;
    this.settleTerminal(fd >= 0 ? fd : null);
  }

  /** Read the records as they come; sharing the host's pid namespace, learn the command's pid early (see killAll). */
  private async readRecords(): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [];
    for await (const chunk of Bun.file(this.spawned.recordFd).stream()) {
      chunks.push(chunk);
      if (this.commandPid === undefined) {
        const s = decodeRecords(chunks.length === 1 ? chunk : Buffer.concat(chunks)).find((r) => r.type === "started");
        if (s?.type === "started") {
          this.commandPid = s.pid;
          this.takeTerminal();
          this.setupDone();
          for (const f of this.facilities) f.started?.(this.ctx);
        }
      }
    }
    return chunks.length === 1 ? (chunks[0] as Uint8Array) : Buffer.concat(chunks);
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

    const error = this.refused ? this.refused : errRec?.type === "error" ? this.failure(errRec) : undefined;
    const isExec = errRec?.type === "error" && errRec.opcode === OPS.exec.code;
    let reason: Reason = this.killedFor ?? "ok";
    if (exit?.type === "exit") {
      // The init saw the end: a limit it enforced, or an end asked for while the
      // command ran (kill(), SIG_END), or the command's own end before any of those.
      if (exit.fired.timeout) reason = "timeout";
      else if (exit.fired.cpuTime) reason = "cpu-time";
      else if (exit.asked) reason = this.killedFor ?? "killed";
      else reason = "ok";
    }
    let exitCode = exitCodeOf(status);
    if (this.refused && !this.killedFor) {
      reason = "setup";
      exitCode = 125;
    } else if (error && !this.killedFor) {
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
      // The facilities' parts (src/facilities/*/hooks.ts, finish) replace these.
      limits: NO_LIMITS_REPORT,
      landlock: NO_LANDLOCK_REPORT,
      network: { mode: this.spec.net.mode, published: [] },
    };
    return makeResult(base, error);
  }

  private failure(r: Extract<SandboxRecord, { type: "error" }>): SetupFailure {
    const text = errnoText(r.errno);
    const op = r.index >= 0 ? this.ctx.ops[r.index] : undefined;
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
      let hint = this.rootless && !explained ? setupBlockedHint(r.errno) : "";
      if (r.errno === 13 && !explained && this.mappedRoot) {
        hint = ` (root runs mapped to an unprivileged range: it cannot search another owner's directory above this path; make it searchable (o+x), or run with ${specField("userns", "host")} or ${specField("user")} UID)`;
      }
      return fail(r, op.op, what, `setup: ${what}: ${explained ?? text}${hint}`);
    }
    const stage = STAGES[r.opcode] ?? opName(r.opcode) ?? `stage ${r.opcode}`;
    return fail(r, stage, stage, `${stage}: ${text}`);
  }
}

function fail(r: { index: number; errno: number }, op: string, what: string, message: string): SetupFailure {
  return setupFailure({ index: r.index, op, what, errno: r.errno, errnoName: errnoName(r.errno) }, message);
}

/** Named sandboxes, `exec --join`: the clone creates none of the joined namespaces. */
function joinedClone(ops: Op[], flags: number): Op[] {
  const first = ops[0];
  if (first?.op !== "clone") throw new IsolateError("internal", "a plan opens with clone");
  return [op("clone", { flags: Number(first.args.flags) & ~flags }), ...ops.slice(1)];
}

/** Named sandboxes, `exec --join`: on the calling thread (the joiner needs its pidfd in our table). */
function spawnJoined(
  shim: Shim,
  plan: Uint8Array,
  child: readonly [number, number, number],
  cgroupFd: number,
  join: NonNullable<SpawnHooks["join"]>,
): Spawned | number {
  const r = shim.named.spawnJoin(plan, child, cgroupFd, join.fd, join.flags);
  if (typeof r === "number" && shim.named.joinRefused())
    throw new HostError(`${specField("join", join.what)}: ${errnoText(-r)}`);
  return r;
}

const EMFILE = 24;
const ENFILE = 23;
const FD_HINT = "raise the open-file limit (ulimit -n) or run fewer sandboxes at once";

/** Whether this process is near its open-file limit: then the sandbox's init was too. */
function fdPressure(shim: Shim): { what: string; hint: string } | undefined {
  const limits = shim.readFile("/proc/self/limits");
  const soft = typeof limits === "string" ? /^Max open files\s+(\d+)/m.exec(limits)?.[1] : undefined;
  if (soft === undefined) return;
  let open = 0;
  try {
    // node:fs only on this error path: loading it costs every run milliseconds.
    open = (require("node:fs") as typeof import("node:fs")).readdirSync("/proc/self/fd").length;
  } catch {
    return { what: "out of file descriptors", hint: FD_HINT };
  }
  // The init opens a few dozen fds of its own while it sets up (the plan, /proc, mount fds).
  if (open + 64 < Number(soft)) return;
  return { what: `the sandbox's init ran out of file descriptors: ${open} of ${soft} in use`, hint: FD_HINT };
}

function spawnError(shim: Shim, plan: Uint8Array, errno: number, resolved: Resolved): IsolateError {
  const { host } = resolved;
  if (errno === EMFILE || errno === ENFILE) {
    return new HostError(
      `spawn: out of file descriptors creating the sandbox's pipes and memfds: ${errnoText(errno)}`,
      errno === EMFILE ? FD_HINT : "the system-wide file table is full (fs.file-max)",
    );
  }
  const fresh = resolved.namespaces;
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
