/**
 * The supervisor's side of limits (its hooks: limitsHooks): the sandbox's
 * cgroups (created before spawn, entered before GO), backstops for the
 * wall-clock and CPU-time limits (the sandbox's init enforces both itself:
 * native/init_limits.c), the last check that no result says ok past a limit,
 * and the limit fields of the report. Every cgroup is removed before `ready`
 * rejects or `exited` resolves, on every path (cleanup).
 */

import { detectCgroups } from "../../cgroup/detect.ts";
import { createSandboxCgroups, type SandboxCgroups } from "../../cgroup/sandbox.ts";
import type { CgroupUsage } from "../../cgroup/stats.ts";
import { type CpuCounter, placementError } from "../../cgroup/v1.ts";
import type { Spec } from "../../config/schema.ts";
import { CgroupError, IsolateError, field as specField } from "../../errors.ts";
import type { StartIO } from "../../shim/load.ts";
import type { FacilityHooks, SandboxGroup, WatchTarget } from "../../supervisor/hooks.ts";
import { type LimitsReport, makeResult, type Result } from "../../supervisor/result.ts";
import type { CgroupMount } from "../view/ops.ts";
import { type Limits, needsCgroup } from "./fields.ts";
import { usableCpus, wallLimitMs } from "./ops.ts";

const EINVAL = 22;
/** How far past a limit (ms) the supervisor's backstop acts, if the init has not. */
const BACKSTOP_MS = 1000;
const E2BIG = 7;

/** The limits that were asked for, normalized, without the absent ones. */
export function appliedLimits(l: Limits): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(l)) {
    if (v === undefined || (Array.isArray(v) && v.length === 0)) continue;
    out[k] = v;
  }
  return out;
}

export { usableCpus };

/**
 * When to look at CPU usage next: the soonest moment the sandbox could
 * reach its budget if every usable CPU were busy, within [5ms, 1s].
 */
export function nextCpuCheckMs(limitMs: number, usedMs: number, cpus: number): number {
  return Math.min(1000, Math.max(5, (limitMs - usedMs) / cpus));
}

const ms = (us: number) => Math.round(us) / 1000;

/**
 * CPU time for the report. The init's rusage is exact but misses processes it
 * did not reap (e.g. when the sandbox is killed); the cgroup's total is exact
 * and complete, but its user/system split may be tick-sampled (v1 cpuacct).
 * So: the rusage when it accounts for the cgroup's total, else the cgroup's
 * total split in the best-known proportion.
 */
export function cpuTime(
  rusage: { readonly userMs: number; readonly sysMs: number },
  usage: CgroupUsage | null,
): { userMs: number; sysMs: number } {
  if (!usage || usage.cpuUs === null) return rusage;
  const totalUs = usage.cpuUs;
  if (totalUs <= (rusage.userMs + rusage.sysMs) * 1000) return rusage;
  let u = usage.userUs ?? 0;
  let s = usage.sysUs ?? 0;
  if (u + s === 0) {
    u = rusage.userMs;
    s = rusage.sysMs;
  }
  if (u + s === 0) u = 1;
  return { userMs: ms((totalUs * u) / (u + s)), sysMs: ms((totalUs * s) / (u + s)) };
}

const SHARED_PID_FIX = `run as root, or in a cgroup delegated to this user (systemd-run --user --scope -p Delegate=yes), or drop ${specField("share", "pid")}`;

/** A cgroup that reaches every process of a sandbox sharing the host's pid namespace, or CgroupError. */
function killableGroup(l: Limits): SandboxCgroups {
  let cg: SandboxCgroups;
  try {
    cg = createSandboxCgroups(l);
  } catch (e) {
    // The limit's own error without its subject: here the shared pid namespace is the subject.
    const words = e instanceof IsolateError ? e.words[0] : e instanceof Error ? e.message : String(e);
    const why = words.replace(/^\u{E000}[^\u{E002}]*\u{E002}: cannot be enforced: /u, "");
    throw new CgroupError(
      `${specField("share", "pid")}: no cgroup can end every process of the sandbox: ${why}`,
      SHARED_PID_FIX,
    );
  }
  if (cg.paths.length === 0) {
    void cg.destroy();
    const where = detectCgroups().controllers.freezer;
    const dir = where.version === 0 ? "any cgroup hierarchy" : where.hierarchy.dir;
    throw new CgroupError(
      `${specField("share", "pid")}: no cgroup can end every process of the sandbox: no write access to ${dir}`,
      SHARED_PID_FIX,
    );
  }
  return cg;
}

/** Named sandboxes: a cgroup for accounting when one can be made here, else none (nothing was asked). */
function accountingGroup(l: Limits): SandboxCgroups | null {
  for (const extra of [["memory", "pids"], []] as const) {
    try {
      const cg = createSandboxCgroups(l, detectCgroups(), extra);
      if (cg.paths.length > 0) return cg;
      void cg.destroy();
    } catch {}
  }
  return null;
}

export class SandboxLimits implements SandboxGroup {
  private timers: ReturnType<typeof setTimeout>[] = [];
  private placedAtClone = false;
  private killing: Promise<void> | undefined;
  private finished: Promise<{ usage: CgroupUsage | null; leftovers: string[] }> | undefined;
  private readonly fired = new Set<"timeout" | "cpu-time">();

  private constructor(
    private readonly limits: Limits,
    private readonly cgroups: SandboxCgroups | null,
  ) {}

  /**
   * Create the cgroups the limits need (throws CgroupError when one cannot be
   * enforced). With its own pid namespace, a sandbox ends whole when its init
   * exits (the kernel kills the rest of the namespace), and the init's reaping
   * accounts for the CPU of every process it had: no cgroup is needed for that.
   * Sharing the host's pid namespace (--share pid), nothing would end a
   * process that left the command's process group (setsid, a double fork): a
   * cgroup is then always made, and every process in it is killed when the
   * run ends, however it ends. Where none can be made, --share pid is refused.
   */
  static prepare(spec: Spec, sharedPid: boolean, account = false): SandboxLimits {
    const l = spec.limits;
    if (needsCgroup(l)) return new SandboxLimits(l, createSandboxCgroups(l));
    if (sharedPid) return new SandboxLimits(l, killableGroup(l));
    // Named sandboxes: cgroups for `isolate ps`/`stats` and `enter`, where the caller may make them.
    if (account) return new SandboxLimits(l, accountingGroup(l));
    return new SandboxLimits(l, null);
  }

  /** Named sandboxes: every cgroup directory of the sandbox. */
  get paths(): readonly string[] {
    return this.cgroups?.paths ?? [];
  }

  /**
   * Run the spawn with the cgroup v2 fd for CLONE_INTO_CGROUP. A kernel
   * without it (before 5.7) refuses the flag: spawn again without it, and
   * attach() places the init by pid before it is released.
   */
  async spawn<T>(fn: (cgroupFd: number) => Promise<T | number>): Promise<T | number> {
    const fd = this.cgroups?.cloneFd ?? -1;
    try {
      let r = await fn(fd);
      this.placedAtClone = fd >= 0;
      if (fd >= 0 && (r === -EINVAL || r === -E2BIG)) {
        r = await fn(-1);
        this.placedAtClone = false;
      }
      return r;
    } finally {
      this.cgroups?.spawned();
    }
  }

  /**
   * Before GO: the init joins the v1 cgroups (and v2 when clone did not place
   * it). The writes wait for an RCU grace period each: io does them off the JS thread.
   */
  async attach(io: StartIO, pid: number): Promise<void> {
    const writes = this.cgroups?.placement(pid, this.placedAtClone) ?? [];
    const failed = await io.writeFiles(writes);
    if (failed) throw placementError(writes[failed.index]?.[0] ?? "cgroup.procs", -failed.rc);
  }

  /** Whether the init enforces a wall-clock or CPU-time limit. */
  get timed(): boolean {
    return wallLimitMs(this.limits) !== undefined;
  }

  /** The cgroup file the init reads CPU usage from (with a CPU-time budget). */
  cpuCounter(): CpuCounter | null {
    return this.limits.cpuTimeMs === undefined ? null : (this.cgroups?.cpuCounter() ?? null);
  }

  /**
   * After GO: the backstops. The init ends the sandbox at its limits whatever
   * the event loop does; these act only if the init could not (it is killed
   * with everything else once its own grace and the end's have passed).
   */
  watch(target: WatchTarget, killAfterMs: number): void {
    const { cpuTimeMs } = this.limits;
    const wallMs = wallLimitMs(this.limits);
    if (wallMs !== undefined) {
      this.timers.push(
        setTimeout(
          () => {
            this.fired.add("timeout");
            target.limitReached("timeout", false);
          },
          wallMs + killAfterMs + BACKSTOP_MS,
        ),
      );
    }
    const cg = this.cgroups;
    if (cpuTimeMs !== undefined && cg) {
      const cpus = usableCpus(this.limits);
      const check = () => {
        const usedMs = (cg.cpuUsageUs() ?? 0) / 1000;
        if (usedMs >= cpuTimeMs + BACKSTOP_MS) {
          this.fired.add("cpu-time");
          target.limitReached("cpu-time", false);
          return;
        }
        this.timers.push(setTimeout(check, nextCpuCheckMs(cpuTimeMs + BACKSTOP_MS, usedMs, cpus)));
      };
      this.timers.push(setTimeout(check, nextCpuCheckMs(cpuTimeMs + BACKSTOP_MS, 0, cpus)));
    }
  }

  /** The init reported the limits it enforced that fired. */
  noteFired(reason: "timeout" | "cpu-time"): void {
    this.fired.add(reason);
  }

  /** The hierarchies the sandbox has a cgroup of its own in, as the host mounts them. */
  hierarchies(): CgroupMount[] {
    const paths = this.cgroups?.paths ?? [];
    if (paths.length === 0) return [];
    const layout = detectCgroups();
    const has = (mount: string) => paths.some((p) => p.startsWith(`${mount}/`));
    const out: CgroupMount[] = [];
    if (layout.v2 && has(layout.v2.mount)) out.push({ mount: layout.v2.mount, options: "" });
    for (const h of layout.v1) if (has(h.mount)) out.push({ mount: h.mount, options: h.controllers.join(",") });
    return out;
  }

  /** Whether the sandbox has cgroups (which can end it whole, and count what it used). */
  get grouped(): boolean {
    return this.cgroups !== null;
  }

  /** End every process in the sandbox's cgroups (no-op without them). */
  kill(): void {
    const cg = this.cgroups;
    if (!cg) return;
    const prev = this.killing;
    this.killing = (async () => {
      await prev;
      await cg.kill();
    })();
  }

  /**
   * Resolves once no cgroup kill is in flight. The supervisor awaits it before
   * reaping the init: a v1 kill freezes the group, and the init cannot finish
   * dying until the kill thaws it again.
   */
  settled(): Promise<void> {
    return this.killing ?? Promise.resolve();
  }

  /** Every path, after complete() or instead of it: the watchdogs stopped, the cgroups removed (once). */
  abort(): Promise<unknown> {
    this.stop();
    return this.finish();
  }

  private stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
  }

  /** Once: stop the watchdogs, kill what is left, read the counters, remove the cgroups. */
  private finish(): Promise<{ usage: CgroupUsage | null; leftovers: string[] }> {
    this.finished ??= (async () => {
      this.stop();
      const cg = this.cgroups;
      if (!cg) return { usage: null, leftovers: [] };
      try {
        await cg.kill();
        const usage = cg.usage();
        return { usage, leftovers: await cg.destroy() };
      } catch (e) {
        return { usage: null, leftovers: [...cg.paths, String(e)] };
      }
    })();
    return this.finished;
  }

  /** The result with the cgroups' counters, the limits' report, and an OOM told apart from a bare SIGKILL. */
  async complete(result: Result): Promise<Result> {
    const { usage, leftovers } = await this.finish();
    const fired: LimitsReport["fired"][number][] = [];
    if (this.fired.has("timeout")) fired.push("timeout");
    if (this.fired.has("cpu-time")) fired.push("cpu-time");
    if (usage && usage.oomKills > 0) fired.push("memory");
    if (usage && usage.pidsRefused > 0) fired.push("pids");
    const limits: LimitsReport = {
      applied: appliedLimits(this.limits),
      cgroup: this.cgroups ? { versions: { ...this.cgroups.backends }, paths: [...this.cgroups.paths] } : null,
      fired,
      oomKills: usage?.oomKills ?? 0,
      pidsRefused: usage?.pidsRefused ?? 0,
      ...(leftovers.length > 0 ? { leftovers } : {}),
    };
    let reason = result.reason;
    // The OOM killer acted (on the command or any process of it) and nothing else ended the run.
    if (usage && usage.oomKills > 0 && reason === "ok") reason = "oom";
    const cpu = cpuTime(result.cpu, usage);
    // The last guard: no result says ok past a limit, whatever ended the command.
    const wallMs = wallLimitMs(this.limits);
    if (reason === "ok" && wallMs !== undefined && result.wallMs >= wallMs) {
      reason = "timeout";
      if (!fired.includes("timeout")) fired.unshift("timeout");
    }
    // The command's own CPU (what the init reaped), as the init counts the budget: from the
    // command's start, without the sandbox's setup (the cgroup's total includes it).
    const cpuTimeMs = this.limits.cpuTimeMs;
    const commandCpu = result.cpu.userMs + result.cpu.sysMs;
    if (reason === "ok" && cpuTimeMs !== undefined && commandCpu >= cpuTimeMs) {
      reason = "cpu-time";
      if (!fired.includes("cpu-time")) fired.splice(fired.includes("timeout") ? 1 : 0, 0, "cpu-time");
    }
    return makeResult({
      ...result,
      reason,
      cpu,
      memoryPeakBytes: usage?.memoryPeakBytes ?? result.memoryPeakBytes,
      pidsPeak: usage?.pidsPeak ?? result.pidsPeak,
      limits,
    });
  }
}

/**
 * The limits' supervisor hooks: the cgroups before the clone (a limit that
 * cannot be enforced stops the run there), the init placed in them before GO,
 * the backstops while it runs, the report at the end; the cgroups removed on
 * every path.
 */
export function limitsHooks(): FacilityHooks {
  let limits: SandboxLimits | undefined;
  return {
    prepare(ctx) {
      limits = SandboxLimits.prepare(ctx.spec, !ctx.fresh.includes("pid"), ctx.options.account);
      if (limits.grouped) ctx.group = limits;
      // With cgroups of its own, the sandbox's /sys/fs/cgroup shows them (a fresh mount in its cgroup namespace);
      // with a CPU-time budget, the init reads the sandbox's cgroup CPU counter.
      ctx.cgroupMounts = limits.hierarchies();
      ctx.cpuCounter = limits.cpuCounter();
    },
    beforeGo(ctx, child) {
      const l = limits as SandboxLimits;
      return l.attach(ctx.io, child.pid).then(() => {
        // The init enforces the time limits: let it act at once however busy the
        // CPUs are (best effort: it needs CAP_SYS_NICE, and v1 cpu cgroups refuse it).
        if (ctx.host.root && l.timed) ctx.shim.schedInit(child.pid);
      });
    },
    watch(ctx, target) {
      limits?.watch(target, ctx.spec.killAfterMs);
    },
    finish(_ctx, result, ended) {
      const l = limits as SandboxLimits;
      // The init reported the limits it enforced that fired.
      const exit = ended.records.find((r) => r.type === "exit");
      if (exit?.type === "exit") {
        if (exit.fired.timeout) l.noteFired("timeout");
        if (exit.fired.cpuTime) l.noteFired("cpu-time");
      }
      return l.complete(result);
    },
    cleanup() {
      return limits?.abort();
    },
  };
}
