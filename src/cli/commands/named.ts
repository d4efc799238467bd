/** Named sandboxes: isolate ps, logs, stop, wait, rm, stats, enter (src/named/). */
import { type ArgsDef, type CommandDef, defineCommand } from "citty";
import { SpecError } from "../../errors.ts";
import { info, list, remove, type SandboxInfo, stateOf, stop, waitResult } from "../../named/control.ts";
import { fileOf, liveness } from "../../named/state.ts";
import { liveStats } from "../../named/stats.ts";
import { parseDuration } from "../../spec/units.ts";
import { TERMINATING } from "../../supervisor/signals.ts";
import { reportJson } from "../output.ts";

const nameArg = { name: { type: "positional", description: "the sandbox's name", required: true } } as const;

function duration(flag: string, text: unknown): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDuration(String(text));
  if (typeof ms === "string") throw new SpecError(`${flag}: ${ms}`);
  return ms;
}

function age(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

function bytes(n: number | null): string {
  if (n === null) return "-";
  if (n < 1 << 20) return `${Math.round(n / 1024)}K`;
  if (n < 1 << 30) return `${(n / (1 << 20)).toFixed(1)}M`;
  return `${(n / (1 << 30)).toFixed(2)}G`;
}

function stateText(i: SandboxInfo): string {
  if (i.state !== "exited") return i.state;
  const st = i.result?.status;
  if (st?.type === "signaled") return `exited (${st.name})`;
  return `exited (${i.exitCode ?? "?"})`;
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length))) ?? [];
  return rows
    .map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c] ?? 0))).join("  "))
    .join("\n");
}

export const psCommand = defineCommand({
  meta: { name: "ps", description: "list your named sandboxes: state, pid, age, memory, CPU, processes, command" },
  args: { json: { type: "boolean", description: "as JSON" } } as ArgsDef,
  run({ args }) {
    const all = list();
    if (args.json) {
      process.stdout.write(
        `${JSON.stringify(
          all.map(({ result: _r, ...rest }) => rest),
          null,
          2,
        )}\n`,
      );
      return 0;
    }
    const rows = [["NAME", "STATE", "PID", "AGE", "MEM", "PEAK", "CPU", "PIDS", "COMMAND"]];
    for (const i of all) {
      rows.push([
        i.name,
        stateText(i),
        i.pid === null ? "-" : String(i.pid),
        age(i.ageMs),
        bytes(i.stats.memoryBytes),
        bytes(i.stats.memoryPeakBytes),
        i.stats.cpuMs === null ? "-" : `${(i.stats.cpuMs / 1000).toFixed(2)}s`,
        i.stats.pids === null ? "-" : String(i.stats.pids),
        i.command.join(" "),
      ]);
    }
    process.stdout.write(`${table(rows)}\n`);
    return 0;
  },
});

export const logsCommand = defineCommand({
  meta: { name: "logs", description: "print a detached sandbox's output (stdout and stderr)" },
  args: { ...nameArg, follow: { type: "boolean", alias: "f", description: "keep printing until it ends" } } as ArgsDef,
  async run({ args }) {
    const name = String(args.name);
    stateOf(name);
    const fs = (await import("node:fs")).default;
    let fd: number;
    try {
      fd = fs.openSync(fileOf(name, "log"), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    } catch {
      throw new SpecError(`${name}: no log`, "only a detached sandbox (--detach) has one");
    }
    const buf = Buffer.alloc(65536);
    const drain = () => {
      for (;;) {
        const n = fs.readSync(fd, buf, 0, buf.length, null);
        if (n <= 0) return;
        fs.writeSync(1, buf.subarray(0, n));
      }
    };
    try {
      drain();
      while (args.follow) {
        const l = liveness(stateOf(name));
        await new Promise((r) => setTimeout(r, 100));
        drain();
        if (l === "exited" || l === "dead") break;
      }
    } finally {
      fs.closeSync(fd);
    }
    return 0;
  },
});

export const stopCommand = defineCommand({
  meta: { name: "stop", description: "stop a named sandbox: a signal, then everything after a grace" },
  args: {
    ...nameArg,
    signal: { type: "string", description: "the signal sent first (default SIGTERM)", valueHint: "SIG" },
    "kill-after": {
      type: "string",
      description: "end everything if still running after D (default 10s)",
      valueHint: "D",
    },
  } as ArgsDef,
  async run({ args }) {
    const signal = args.signal === undefined ? undefined : String(args.signal);
    if (signal !== undefined) {
      try {
        (await import("../../supervisor/signals.ts")).signalNumber(/^\d+$/.test(signal) ? Number(signal) : signal);
      } catch {
        throw new SpecError(`--signal: unknown signal ${signal}`);
      }
    }
    const killAfterMs = duration("--kill-after", args["kill-after"]);
    const s = await stop(String(args.name), {
      ...(signal === undefined ? {} : { signal: /^\d+$/.test(signal) ? Number(signal) : signal }),
      ...(killAfterMs === undefined ? {} : { killAfterMs }),
    });
    const l = liveness(s);
    if (l === "running" || l === "starting") {
      process.stderr.write(`isolate: stop ${s.name}: still running\n`);
      return 125;
    }
    return 0;
  },
});

export const waitCommand = defineCommand({
  meta: { name: "wait", description: "wait for a named sandbox to end; print its report; exit with its code" },
  args: nameArg as ArgsDef,
  async run({ args }) {
    const result = await waitResult(String(args.name));
    process.stdout.write(reportJson(result));
    return result.exitCode;
  },
});

export const rmCommand = defineCommand({
  meta: { name: "rm", description: "remove an ended sandbox's state (a running one is refused)" },
  args: nameArg as ArgsDef,
  run({ args }) {
    remove(String(args.name));
    return 0;
  },
});

export const statsCommand = defineCommand({
  meta: { name: "stats", description: "live figures of a named sandbox from its cgroups" },
  args: {
    ...nameArg,
    json: { type: "boolean", description: "as JSON (one object per line with --interval)" },
    interval: { type: "string", description: "print again every D until it ends", valueHint: "D" },
  } as ArgsDef,
  async run({ args }) {
    const name = String(args.name);
    const every = duration("--interval", args.interval);
    for (;;) {
      const s = stateOf(name);
      const i = info(s);
      const st = i.state === "running" ? liveStats(s.cgroups) : i.stats;
      if (args.json) process.stdout.write(`${JSON.stringify({ name, state: i.state, pid: i.pid, ...st })}\n`);
      else {
        process.stdout.write(
          `${name} ${i.state} mem ${bytes(st.memoryBytes)} peak ${bytes(st.memoryPeakBytes)} cpu ${st.cpuMs === null ? "-" : `${(st.cpuMs / 1000).toFixed(3)}s`} pids ${st.pids ?? "-"}\n`,
        );
      }
      if (every === undefined || i.state !== "running") return 0;
      await new Promise((r) => setTimeout(r, every));
    }
  },
});

/** isolate enter NAME [--] [CMD...]: scans its own argv (the command is untouched). */
export const enterCommand: CommandDef = {
  meta: { name: "enter", description: "run CMD (default: a shell) inside a running named sandbox" },
  args: {
    ...nameArg,
    command: { type: "positional", description: "the command and its arguments (after --)", required: false },
  } as ArgsDef,
  async run({ rawArgs, cmd }) {
    if (rawArgs[0] === "--help" || rawArgs[0] === "-h") {
      const { usage } = await import("../usage.ts");
      return usage(cmd);
    }
    const name = rawArgs[0];
    if (name === undefined || name.startsWith("-")) throw new SpecError("enter: a sandbox name is required");
    let rest = rawArgs.slice(1);
    if (rest[0] === "--") rest = rest.slice(1);
    const command = rest.length > 0 ? rest : ["/bin/sh"];
    const { enter } = await import("../../named/enter.ts");
    const entered = enter(name, command);
    const forward = (sig: string) => () => entered.kill(sig === "SIGINT" ? 2 : sig === "SIGHUP" ? 1 : 15);
    const handlers = TERMINATING.map((sig) => [sig, forward(sig)] as const);
    for (const [sig, h] of handlers) process.on(sig, h);
    const r = await entered.exited;
    for (const [sig, h] of handlers) process.off(sig, h);
    if (r.error) process.stderr.write(`isolate: ${r.error}\n`);
    return r.exitCode;
  },
};

export const monitorCommand: CommandDef = {
  meta: { name: "__monitor", description: "(internal) the monitor of a detached sandbox" },
  async run() {
    return (await import("../../named/cli-exec.ts")).monitorMain();
  },
};
