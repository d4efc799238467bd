/**
 * The library's manners (issue 12): errors reject, cancellation (AbortSignal,
 * timeout, `await using`), kill() reads "killed", a discriminated Result, env
 * as an object, unknown fields named with the closest one, and no writable
 * working directory by accident.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { IsolateError, type Result, run, type SetupFailure, SpecError, spawn } from "../../src/index.ts";
import { isolate, tempDir } from "../helpers/index.ts";

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("errors", () => {
  test("run() never throws synchronously: a bad spec, bad options and a non-object all reject", async () => {
    const bad: [unknown, unknown][] = [
      [{ command: [] }, {}],
      [null, {}],
      ["sh", {}],
      [{ command: ["true"], limits: { memory: "lots" } }, {}],
      [{ command: ["true"] }, { stdin: "pipe!" }],
      [{ command: ["true"] }, 42],
    ];
    for (const [spec, opts] of bad) {
      let p: Promise<unknown> | undefined;
      expect(() => {
        p = run(spec as never, opts as never);
      }).not.toThrow();
      await expect(p).rejects.toBeInstanceOf(SpecError);
    }
  });

  test("spawn() throws bad input synchronously, as Bun.spawn does, before anything is created", () => {
    expect(() => spawn({ command: [] })).toThrow(SpecError);
    expect(() => spawn({ command: ["true"] }, { stdout: "pipes" as "pipe" })).toThrow(/stdout/);
  });

  test("an unknown key says `unknown field` and suggests the closest one", async () => {
    await expect(run({ command: ["true"], limits: { memroy: "1G" } } as never)).rejects.toThrow(
      "limits: unknown field `memroy`",
    );
    const e = await run({ command: ["true"], hostnme: "x" } as never).catch((x) => x);
    expect(e).toBeInstanceOf(IsolateError);
    expect(e.text()).toBe("unknown field `hostnme` (did you mean `hostname`?)");
    const m = await run({ command: ["true"], mounts: [{ type: "tmpfs", dts: "/x" }] } as never).catch((x) => x);
    expect(m.text()).toBe("mounts: unknown field `dts` (did you mean `dst`?)");
    const o = await run({ command: ["true"] }, { maxOutputByte: 1 } as never).catch((x) => x);
    expect(o.text()).toBe("run options: unknown field `maxOutputByte` (did you mean `maxOutputBytes`?)");
    const far = await run({ command: ["true"], zzzzzz: 1 } as never).catch((x) => x);
    expect(far.text()).toBe("unknown field `zzzzzz`");
  });
});

describe("cancellation", () => {
  test("an AbortSignal kills the whole sandbox: reason killed", async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    const t0 = performance.now();
    const r = await run({ command: ["sh", "-c", "trap '' TERM; sleep 30 & sleep 30"] }, { signal: ac.signal });
    expect(r.reason).toBe("killed");
    expect(performance.now() - t0).toBeLessThan(3000);
  });

  test("an aborted signal starts nothing: run() rejects with its reason, spawn() throws it", async () => {
    const ac = new AbortController();
    ac.abort(new Error("changed my mind"));
    await expect(run({ command: ["true"] }, { signal: ac.signal })).rejects.toThrow("changed my mind");
    expect(() => spawn({ command: ["true"] }, { signal: ac.signal })).toThrow("changed my mind");
  });

  test("timeout in the options is a wall-clock limit like limits.timeout: reason timeout", async () => {
    for (const timeout of [300, "300ms"]) {
      const r = await run({ command: ["sleep", "10"] }, { timeout });
      expect(r.reason).toBe("timeout");
      expect(r.limits.fired).toContain("timeout");
      expect(r.wallMs).toBeLessThan(2000);
    }
    // The shorter of the two wins.
    const r = await run({ command: ["sleep", "10"], limits: { timeout: "10s" } }, { timeout: 200 });
    expect(r.reason).toBe("timeout");
    expect(r.wallMs).toBeLessThan(2000);
  });

  test("`await using` kills and reaps the sandbox when the scope exits", async () => {
    let pid = 0;
    let exited: Promise<Result> | undefined;
    {
      await using sb = spawn({ command: ["sleep", "100"] }, { stdout: "pipe" });
      pid = await sb.ready;
      exited = sb.exited;
      expect(alive(pid)).toBe(true);
    }
    expect(alive(pid)).toBe(false);
    const r = await exited;
    expect(r?.reason).toBe("killed");
  });
});

describe("kill() and the result", () => {
  test("kill() with any signal that ends the command reads killed, even when it exits 0", async () => {
    const sb = spawn({ command: ["sh", "-c", "trap 'exit 0' USR1; while :; do sleep 0.05; done"] });
    await Bun.sleep(300);
    sb.kill("SIGUSR1");
    const r = await sb.exited;
    expect(r.status).toEqual({ type: "exited", code: 0 });
    expect(r.reason).toBe("killed");
    const t = spawn({ command: ["sleep", "100"] });
    t.kill("SIGTERM");
    expect((await t.exited).reason).toBe("killed");
  });

  test("a kill() after the command ended on its own changes nothing", async () => {
    const sb = spawn({ command: ["true"] });
    const r = await sb.exited;
    sb.kill("SIGKILL");
    expect(r.reason).toBe("ok");
  });

  test("narrowing on reason gives the setup failure; on status.type the signal", async () => {
    const r = await run({ command: ["/nonexistent/cmd"] });
    if (r.reason === "setup" || r.reason === "exec") {
      const e: SetupFailure = r.error; // no `?`: the type says it is there
      expect(e.errnoName).toBe("ENOENT");
    } else throw new Error(`expected exec, got ${r.reason}`);
    const s = await run({ command: ["sh", "-c", "kill -USR2 $$"] });
    if (s.status.type === "signaled") expect(s.status.name).toBe("SIGUSR2");
    else throw new Error("expected a signal");
  });
});

describe("env and the working directory", () => {
  test("env takes a plain object as well as a list, bytes included", async () => {
    const r = await run({
      command: ["sh", "-c", 'echo "$FOO $BAR"'],
      env: { FOO: "bar", BAR: new Uint8Array([0x62, 0x61, 0x7a]) },
    });
    expect(r.stdout).toBe("bar baz\n");
    const l = await run({ command: ["sh", "-c", 'echo "$FOO"'], env: [{ name: "FOO", value: "x" }] });
    expect(l.stdout).toBe("x\n");
    await expect(run({ command: ["true"], env: { "A=B": "x" } })).rejects.toThrow(/env/);
  });

  test("the library shares the caller's directory read-only by default: the command starts there, cannot write it", async () => {
    const dir = tempDir();
    const prev = process.cwd();
    try {
      writeFileSync(join(dir.path, "judge.txt"), "answers\n");
      process.chdir(dir.path);
      const r = await run({
        command: ["sh", "-c", "pwd; cat judge.txt; echo evil > judge.txt || echo refused; touch new"],
      });
      expect(r.stdout).toBe(`${dir.path}\nanswers\nrefused\n`);
      expect(existsSync(join(dir.path, "new"))).toBe(false);
      expect(await Bun.file(join(dir.path, "judge.txt")).text()).toBe("answers\n");
      // Writable only when asked for.
      const w = await run({ command: ["touch", "new"], cwdMount: "rw" });
      expect(w.exitCode).toBe(0);
      expect(existsSync(join(dir.path, "new"))).toBe(true);
    } finally {
      process.chdir(prev);
      dir.remove();
    }
  });

  test("the CLI keeps its documented default: the current directory read-write", async () => {
    const dir = tempDir();
    try {
      const r = await isolate(["exec", "--", "touch", "made-by-cli"], { cwd: dir.path });
      expect(r.code).toBe(0);
      expect(existsSync(join(dir.path, "made-by-cli"))).toBe(true);
      const plan = await isolate(["plan", "--", "true"], { cwd: dir.path });
      expect(plan.stdout + plan.stderr).toContain(dir.path);
    } finally {
      dir.remove();
    }
  });
});
