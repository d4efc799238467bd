/** Named sandboxes: isolate ps, logs, stop, wait, rm, stats, enter (src/named/, docs/named.md). */

import { parseDuration } from "../../config/units.ts";
import { SpecError } from "../../errors.ts";
import { info, list, remove, type SandboxInfo, stateOf, stop, waitResult } from "../../named/control.ts";
import { fileOf, liveness } from "../../named/state.ts";
import { liveStats } from "../../named/stats.ts";
import { TERMINATING } from "../../supervisor/signals.ts";
import { reportJson, stderr, stdout } from "../output.ts";

/**
 * `isolate COMMAND [flags] NAME`: --help, the flags in `known` (with a value
 * when `known` says so, as `--flag V` or `--flag=V`), and the sandbox's name
 * (required unless `name` is false).
 */
function args(
  command: string,
  argv: readonly string[],
  known: Readonly<Record<string, "bool" | "value">>,
  name = true,
): { help: boolean; flags: Map<string, string>; name: string } {
  const flags = new Map<string, string>();
  const words: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? "";
    if (a === "--help" || a === "-h") {
      help = true;
      continue;
    }
    if (a.startsWith("-") && a !== "-") {
      const eq = a.indexOf("=");
      const flag = eq > 0 ? a.slice(0, eq) : a;
      const kind = Object.hasOwn(known, flag) ? known[flag] : undefined;
      if (!kind) throw new SpecError(`${command}: unknown flag ${flag}`, `see isolate ${command} --help`);
      if (kind === "bool") {
        if (eq > 0) throw new SpecError(`${command}: ${flag} takes no value`);
        flags.set(flag, "");
        continue;
      }
      const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new SpecError(`${command}: ${flag} needs a value`);
      flags.set(flag, v);
      continue;
    }
    words.push(a);
  }
  if (help) return { help, flags, name: "" };
  if (words.length > (name ? 1 : 0)) throw new SpecError(`${command}: unexpected argument ${words[name ? 1 : 0]}`);
  if (name && words[0] === undefined)
    throw new SpecError(`${command}: a sandbox name is required`, `isolate ${command} NAME`);
  return { help, flags, name: words[0] ?? "" };
}

const help = async (command: string) => (await import("../help.ts")).printHelp(command);

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

export async function psMain(argv: readonly string[]): Promise<number> {
  const a = args("ps", argv, { "--json": "bool" }, false);
  if (a.help) return help("ps");
  const all = list();
  if (a.flags.has("--json")) {
    stdout().write(
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
  stdout().write(`${table(rows)}\n`);
  return 0;
}

export async function logsMain(argv: readonly string[]): Promise<number> {
  const a = args("logs", argv, { "--follow": "bool", "-f": "bool" });
  if (a.help) return help("logs");
  const follow = a.flags.has("--follow") || a.flags.has("-f");
  const name = a.name;
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
    while (follow) {
      const l = liveness(stateOf(name));
      await new Promise((r) => setTimeout(r, 100));
      drain();
      if (l === "exited" || l === "dead") break;
    }
  } finally {
    fs.closeSync(fd);
  }
  return 0;
}

export async function stopMain(argv: readonly string[]): Promise<number> {
  const a = args("stop", argv, { "--signal": "value", "--kill-after": "value" });
  if (a.help) return help("stop");
  const signal = a.flags.get("--signal");
  const sig = signal === undefined ? undefined : /^\d+$/.test(signal) ? Number(signal) : signal;
  if (sig !== undefined) {
    try {
      (await import("../../supervisor/signals.ts")).signalNumber(sig);
    } catch {
      throw new SpecError(`--signal: unknown signal ${signal}`);
    }
  }
  const killAfterMs = duration("--kill-after", a.flags.get("--kill-after"));
  const s = await stop(a.name, {
    ...(sig === undefined ? {} : { signal: sig }),
    ...(killAfterMs === undefined ? {} : { killAfterMs }),
  });
  const l = liveness(s);
  if (l === "running" || l === "starting") {
    stderr().write(`isolate: stop ${s.name}: still running\n`);
    return 125;
  }
  return 0;
}

export async function waitMain(argv: readonly string[]): Promise<number> {
  const a = args("wait", argv, {});
  if (a.help) return help("wait");
  const result = await waitResult(a.name);
  stdout().write(reportJson(result));
  return result.exitCode;
}

export async function rmMain(argv: readonly string[]): Promise<number> {
  const a = args("rm", argv, {});
  if (a.help) return help("rm");
  remove(a.name);
  return 0;
}

export async function statsMain(argv: readonly string[]): Promise<number> {
  const a = args("stats", argv, { "--json": "bool", "--interval": "value" });
  if (a.help) return help("stats");
  const json = a.flags.has("--json");
  const name = a.name;
  const every = duration("--interval", a.flags.get("--interval"));
  for (;;) {
    const s = stateOf(name);
    const i = info(s);
    const st = i.state === "running" ? liveStats(s.cgroups) : i.stats;
    if (json) stdout().write(`${JSON.stringify({ name, state: i.state, pid: i.pid, ...st })}\n`);
    else {
      stdout().write(
        `${name} ${i.state} mem ${bytes(st.memoryBytes)} peak ${bytes(st.memoryPeakBytes)} cpu ${st.cpuMs === null ? "-" : `${(st.cpuMs / 1000).toFixed(3)}s`} pids ${st.pids ?? "-"}\n`,
      );
    }
    if (every === undefined || i.state !== "running") return 0;
    await new Promise((r) => setTimeout(r, every));
  }
}

/** isolate enter NAME [--] [CMD...]: the command is untouched. */
export async function enterMain(argv: readonly string[]): Promise<number> {
  if (argv[0] === "--help" || argv[0] === "-h") return help("enter");
  const name = argv[0];
  if (name === undefined || name.startsWith("-")) {
    throw new SpecError("enter: a sandbox name is required", "isolate enter NAME [--] [CMD...]");
  }
  let rest = argv.slice(1);
  if (rest[0] === "--") rest = rest.slice(1);
  const command = rest.length > 0 ? rest : ["/bin/sh"];
  const { enter } = await import("../../named/enter.ts");
  const entered = enter(name, command);
  const forward = (sig: string) => () => entered.kill(sig === "SIGINT" ? 2 : sig === "SIGHUP" ? 1 : 15);
  const handlers = TERMINATING.map((sig) => [sig, forward(sig)] as const);
  for (const [sig, h] of handlers) process.on(sig, h);
  const r = await entered.exited;
  for (const [sig, h] of handlers) process.off(sig, h);
  if (r.error) stderr().write(`isolate: ${r.error}\n`);
  return r.exitCode;
}
