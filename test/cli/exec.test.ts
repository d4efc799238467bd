/** `isolate exec` as users run it: the built binary, its exit codes, messages, signals and death. */
import { describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import {
  BIN,
  IS_ROOT,
  initsOf,
  isolate,
  marker,
  needs,
  pidsWith,
  probe,
  ROOT,
  SCRATCH,
  sh,
  sleep,
  traced,
  waitFor,
} from "../helpers/index.ts";

/** CapEff of a default sandbox as this user: capabilities are dropped once it reads zero. */
const capsInside = async (nobody: boolean) => {
  const r = await isolate(["exec", "--", "grep", "CapEff", "/proc/self/status"], { nobody });
  return r.stdout.trim().split(/\s+/)[1] ?? "";
};
const ROOT_CAPS_DROPPED = IS_ROOT && /^0+$/.test(await capsInside(false));

describe("exit codes and one-line errors", () => {
  test("an unknown flag is 125, named, one line", async () => {
    const r = await isolate(["exec", "--no-such-flag", "--", "true"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toBe("isolate: unknown flag --no-such-flag (see isolate exec --help)\n");
  });

  test("a missing binary is 127, a directory 126, both named", async () => {
    const missing = await isolate(["exec", "--", "no-such-binary-xyz"]);
    expect(missing.code).toBe(127);
    expect(missing.stderr).toBe('isolate: exec "no-such-binary-xyz": command not found in PATH\n');
    const dir = await isolate(["exec", "--", "/usr"]);
    expect(dir.code).toBe(126);
    expect(dir.stderr.trim().split("\n")).toHaveLength(1);
    expect(dir.stderr).toContain('exec "/usr"');
  });

  test("everything after -- is the command: `exec -- --ro-bind` runs a program named --ro-bind", async () => {
    const r = await isolate(["exec", "--", "--ro-bind", "/", "/"]);
    expect(r.code).toBe(127);
    expect(r.stderr).toBe('isolate: exec "--ro-bind": command not found in PATH\n');
  });

  test("a failing setup op gives 125 and names the op", async () => {
    const r = await isolate(["exec", "--chdir", "/nonexistent-dir", "--", "true"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toBe('isolate: setup: chdir "/nonexistent-dir": No such file or directory\n');
  });

  test("bad flags are rejected before any namespace exists (no clone3 at all)", async () => {
    for (const args of [
      ["--hostname", "bad name"],
      ["--share", "nope"],
      ["--kill-after", "12abc"],
      ["--env", "=x"],
    ]) {
      const { ran, calls } = await traced("clone,clone3,unshare", [BIN, "exec", ...args, "--", "true"]);
      expect(ran.code).toBe(125);
      expect(ran.stderr.trim().split("\n")).toHaveLength(1);
      expect(ran.stderr).toStartWith(`isolate: ${args[0]}`);
      expect(calls).not.toMatch(/CLONE_NEW|unshare\(/);
    }
  });

  test("the command's exit code and 128+N for a signal", async () => {
    expect((await isolate(["exec", "--", "sh", "-c", "exit 42"])).code).toBe(42);
    expect((await isolate(["exec", "--", "sh", "-c", "kill -SEGV $$"])).code).toBe(139);
    expect((await isolate(["exec", "--", "sh", "-c", "kill -ABRT $$"])).code).toBe(134);
  });

  test("--json writes the report to stderr", async () => {
    const r = await isolate(["exec", "--json", "--", "sh", "-c", "exit 3"]);
    expect(r.code).toBe(3);
    const report = JSON.parse(r.stderr);
    expect(report).toMatchObject({ status: { type: "exited", code: 3 }, exitCode: 3, reason: "ok" });
    expect(report.wallMs).toBeGreaterThan(0);
  });
});

describe("plan", () => {
  test("prints the normalized spec and the ops, creating nothing", async () => {
    const { ran: r, calls } = await traced("clone,clone3,unshare,mount,memfd_create", [
      BIN,
      "plan",
      "--json",
      "--hostname",
      "h",
      "--",
      "ls",
      "-l",
    ]);
    expect(r.code).toBe(0);
    expect(calls).not.toMatch(/CLONE_NEW|unshare\(|mount\(|memfd_create\(/);
    const plan = JSON.parse(r.stdout);
    expect(plan.spec.command).toEqual(["ls", "-l"]);
    expect(plan.spec.hostname).toBe("h");
    const ops = plan.ops.map((o: { op: string }) => o.op);
    expect(ops[0]).toBe("clone");
    expect(ops).toContain("hostname");
    expect(ops.at(-1)).toBe("exec");
  });
});

describe("signals and death", () => {
  for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
    test(`${sig} sent to isolate reaches the command`, async () => {
      const proc = Bun.spawn(
        [BIN, "exec", "--", "sh", "-c", `trap 'echo got; exit 9' ${sig.slice(3)}; echo ready; sleep 100 & wait`],
        {
          stdout: "pipe",
          stderr: "pipe",
        },
      );
      const reader = proc.stdout.getReader();
      const first = await reader.read();
      expect(new TextDecoder().decode(first.value)).toBe("ready\n");
      proc.kill(sig);
      const code = await proc.exited;
      const rest = await reader.read();
      expect(new TextDecoder().decode(rest.value)).toBe("got\n");
      expect(code).toBe(9);
    });
  }

  test("a command that ignores SIGTERM is killed after --kill-after", async () => {
    const proc = Bun.spawn(
      [BIN, "exec", "--kill-after", "500ms", "--", "sh", "-c", "trap '' TERM; echo ready; while :; do sleep 1; done"],
      {
        stdout: "pipe",
      },
    );
    const reader = proc.stdout.getReader();
    await reader.read();
    const t0 = performance.now();
    proc.kill("SIGTERM");
    const code = await proc.exited;
    const took = performance.now() - t0;
    expect(code).toBe(137);
    expect(took).toBeGreaterThan(450);
    expect(took).toBeLessThan(3000);
  });

  /** A copy of sleep whose path carries the marker, so every sandbox process can be found. */
  async function markedSleep(): Promise<{ path: string; tag: string }> {
    const tag = marker();
    mkdirSync(SCRATCH, { recursive: true });
    const path = join(SCRATCH, tag);
    await sh(["cp", "/bin/sleep", path]);
    return { path, tag };
  }

  test("SIGKILL of isolate during a run leaves no process behind", async () => {
    const { path, tag } = await markedSleep();
    const proc = Bun.spawn([BIN, "exec", "--", "sh", "-c", `${path} 1000 & ${path} 1000 & ${path} 1000`], {
      stdout: "ignore",
    });
    try {
      // isolate and sh (their argv name the path) and three sleeps
      expect(await waitFor(async () => (await pidsWith(tag)).length === 5)).toBe(true);
      expect((await initsOf(proc.pid)).length).toBe(1);
    } finally {
      proc.kill("SIGKILL");
      await proc.exited;
    }
    const left = await waitFor(
      async () => (await pidsWith(tag)).length === 0 && (await initsOf(proc.pid)).length === 0,
      3000,
    );
    await sh(["rm", "-f", path]);
    expect(left).toBe(true);
  });

  needs(IS_ROOT, "root (--user)")(
    "without a pid namespace, and as another uid, the command still dies with isolate",
    async () => {
      // A change of ids clears the parent-death signal; the command must set it again.
      const { path, tag } = await markedSleep();
      const proc = Bun.spawn([BIN, "exec", "--share", "pid", "--user", "65534", "--", path, "1000"], {
        stdout: "ignore",
        cwd: ROOT,
      });
      try {
        expect(await waitFor(async () => (await pidsWith(tag)).length === 2)).toBe(true);
      } finally {
        proc.kill("SIGKILL");
        await proc.exited;
      }
      const gone = await waitFor(async () => (await pidsWith(tag)).length === 0, 3000);
      await sh(["rm", "-f", path]);
      expect(gone).toBe(true);
    },
  );

  test("SIGKILL of isolate while its sandbox is being set up leaves no process behind", async () => {
    const { path, tag } = await markedSleep();
    // Freeze the supervisor the moment its init exists (the init then waits for GO), then kill it.
    const proc = Bun.spawn([BIN, "exec", "--", path, "1000"], { stdout: "ignore", cwd: ROOT });
    const owner = proc.pid;
    const seen = await waitFor(async () => (await initsOf(owner)).length > 0, 5000, 1);
    process.kill(proc.pid, "SIGSTOP");
    expect(seen).toBe(true);
    const commandStarted = (await pidsWith(tag)).length > 0;
    proc.kill("SIGKILL");
    await proc.exited;
    const gone = await waitFor(
      async () => (await initsOf(owner)).length === 0 && (await pidsWith(tag)).length === 0,
      3000,
    );
    await sh(["rm", "-f", path]);
    expect(gone).toBe(true);
    // Informative: the freeze normally lands before the command started.
    if (commandStarted) console.warn("note: the command had already started when isolate was frozen");
  });

  test("SIGKILL of isolate at any moment of its life leaves no process behind", async () => {
    const { path, tag } = await markedSleep();
    const owners: number[] = [];
    for (let delay = 0; delay <= 40; delay += 2) {
      const proc = Bun.spawn([BIN, "exec", "--", path, "1000"], { stdout: "ignore", stderr: "ignore", cwd: ROOT });
      owners.push(proc.pid);
      await sleep(delay);
      proc.kill("SIGKILL");
      await proc.exited;
    }
    const gone = await waitFor(async () => {
      if ((await pidsWith(tag)).length > 0) return false;
      for (const o of owners) if ((await initsOf(o)).length > 0) return false;
      return true;
    }, 5000);
    await sh(["rm", "-f", path]);
    expect(gone).toBe(true);
  });
});

describe("terminal", () => {
  const tiocsti = async (nobody: boolean) => {
    const p = await probe("tiocsti");
    const inside = await sh(["script", "-qec", `${BIN} exec -- ${p}`, "/dev/null"], { nobody });
    const outside = await sh(["script", "-qec", p, "/dev/null"], { nobody });
    return { inside: inside.stdout, outside: outside.stdout };
  };

  test("as nobody, TIOCSTI from inside cannot type into the caller's terminal", async () => {
    const r = await tiocsti(true);
    expect(r.outside).toContain("tiocsti=0 "); // the same probe can inject when not sandboxed
    expect(r.inside).toContain("tiocsti=-1 errno=1");
  });

  needs(ROOT_CAPS_DROPPED, "root sandboxes still hold CAP_SYS_ADMIN (capabilities not dropped yet)")(
    "as root, TIOCSTI from inside cannot type into the caller's terminal",
    async () => {
      const r = await tiocsti(false);
      expect(r.outside).toContain("tiocsti=0 ");
      expect(r.inside).toContain("tiocsti=-1 errno=1");
    },
  );
});

describe("the binary", () => {
  test("runs where /tmp is a noexec tmpfs, and loads nothing from a path", async () => {
    // The binary is copied out first: the clone under test may itself live in /tmp.
    const script = [
      "mkdir -p /run/isolate-noexec-test && mount -t tmpfs tmpfs /run/isolate-noexec-test",
      `cp ${BIN} /run/isolate-noexec-test/isolate`,
      "mount -t tmpfs -o noexec,nosuid,nodev tmpfs /tmp && cd /tmp",
      "TMPDIR=/tmp /run/isolate-noexec-test/isolate exec -- sh -c 'echo ok'",
    ].join(" && ");
    const r = await sh(["unshare", "-m", "--propagation", "private", "sh", "-c", script]);
    // The mount point itself is made on the host's /run: remove it (the tmpfs was private).
    rmSync("/run/isolate-noexec-test", { recursive: true, force: true });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("ok\n");
    expect(r.code).toBe(0);
  });

  test("the shim and the init come from sealed memfds, not files", async () => {
    const proc = Bun.spawn([BIN, "exec", "--", "sleep", "5"], { stdout: "ignore", cwd: ROOT });
    const owner = proc.pid;
    const init = await waitFor(async () => (await initsOf(owner))[0]);
    const maps = readFileSync(`/proc/${proc.pid}/maps`, "utf8");
    proc.kill("SIGKILL");
    await proc.exited;
    expect(maps).toContain("/memfd:isolate-shim (deleted)");
    // Every file mapped is the binary itself, a system library, or a memfd.
    const files = new Set(
      maps
        .split("\n")
        .map((l) => l.split(/\s+/).slice(5).join(" "))
        .filter((f) => f.startsWith("/")),
    );
    for (const f of files)
      expect(f === BIN || /^\/(usr\/)?lib\//.test(f) || f.startsWith("/memfd:isolate-")).toBe(true);
    expect(init).toBeDefined();
  });

  test("as nobody, the default sandbox works", async () => {
    const r = await isolate(["exec", "--hostname", "nb", "--", "sh", "-c", "hostname; ps -e -o pid= | wc -l; id -u"], {
      nobody: true,
    });
    expect(r.stderr).toBe("");
    expect(r.stdout.split("\n").slice(0, 3)).toEqual(["nb", "4", "65534"]); // init, sh, ps, wc
    expect(r.code).toBe(0);
  });
});

void sleep;
