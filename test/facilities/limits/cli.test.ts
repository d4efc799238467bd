/**
 * The limit flags through the built binary: the report (--report, --json),
 * malformed values and unenforceable limits (125, nothing run, nothing left),
 * unprivileged callers, and `isolate clean` after a SIGKILLed supervisor.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BIN, IS_ROOT, isolate, marker, needs, pidsWith, sh, tempDir, waitFor } from "../../helpers/index.ts";
import { isolateCgroups, SLOW, withCgroups } from "../../helpers/limits.ts";

const tmp = tempDir("isolate-limits-cli-");
afterAll(() => tmp.remove());

describe("flags and the report", () => {
  withCgroups(
    "--report FILE carries status, reason, times, peaks and the limits applied",
    async () => {
      const report = join(tmp.path, "report.json");
      const r = await isolate([
        "exec",
        "--memory",
        "64M",
        "--pids",
        "64",
        "--cpus",
        "1.5",
        "--cpu-time",
        "10s",
        "--timeout",
        "30s",
        "--rlimit",
        "nofile=16",
        "--report",
        report,
        "--",
        "sh",
        "-c",
        "ulimit -n; ulimit -Hn",
      ]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe("16\n16\n");
      const j = JSON.parse(readFileSync(report, "utf8"));
      expect(j.status).toEqual({ type: "exited", code: 0 });
      expect(j.reason).toBe("ok");
      expect(j.wallMs).toBeGreaterThan(0);
      expect(typeof j.cpu.userMs).toBe("number");
      expect(j.memoryPeakBytes).toBeGreaterThan(0);
      expect(j.pidsPeak).toBeGreaterThanOrEqual(2);
      expect(j.limits.applied).toEqual({
        memory: 64 << 20,
        cpus: 1.5,
        pids: 64,
        rlimits: [{ name: "nofile", resource: 7, soft: 16, hard: 16 }],
        timeoutMs: 30_000,
        cpuTimeMs: 10_000,
      });
      expect(Object.keys(j.limits.cgroup.versions)).toEqual(expect.arrayContaining(["memory", "pids", "cpu"]));
      expect(j.limits.fired).toEqual([]);
      for (const p of j.limits.cgroup.paths) expect(existsSync(p)).toBe(false);
    },
    30_000 * SLOW,
  );

  withCgroups(
    "--json reports an OOM kill as oom on stderr; the exit code stays the command's",
    async () => {
      const r = await isolate(["exec", "--json", "--memory", "32M", "--", "sh", "-c", "exec tail /dev/zero"]);
      expect(r.code).toBe(137);
      const j = JSON.parse(r.stderr.slice(r.stderr.indexOf("{")));
      expect(j.reason).toBe("oom");
      expect(j.limits.fired).toEqual(["memory"]);
    },
    30_000 * SLOW,
  );

  test("--rlimit nofile=16 is seen inside, also without root", async () => {
    const r = await isolate(
      ["exec", "--rlimit", "nofile=16", "--rlimit", "core=0", "--", "sh", "-c", "ulimit -n; ulimit -c"],
      {
        nobody: IS_ROOT,
      },
    );
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("16\n0\n");
  });

  test("--rlimit above the hard limit without privilege is a setup error naming it", async () => {
    const r = await isolate(["exec", "--rlimit", "nofile=unlimited", "--", "true"], { nobody: IS_ROOT });
    expect(r.code).toBe(125);
    expect(r.stderr).toContain("setup: rlimit nofile=unlimited:unlimited: Operation not permitted");
  });

  test("--help lists every limit flag", async () => {
    const r = await isolate(["exec", "--help"]);
    for (const f of ["--memory", "--memory-swap", "--cpus", "--cpu-weight", "--cpuset", "--pids", "--io-weight"]) {
      expect(r.stdout).toContain(f);
    }
    for (const f of ["--io-read-bps", "--io-write-bps", "--rlimit", "--timeout", "--cpu-time"])
      expect(r.stdout).toContain(f);
  });
});

describe("malformed values: 125 before anything is created", () => {
  const bad: [string, string][] = [
    ["--memory", ""],
    ["--memory", "0"],
    ["--memory", "-1"],
    ["--memory", "12abc"],
    ["--memory", "1e9"],
    ["--memory", "18446744073709551617"],
    ["--memory-swap", "1G"],
    ["--cpus", "0"],
    ["--cpus", "abc"],
    ["--cpu-weight", "0"],
    ["--cpuset", "1-0"],
    ["--pids", "0"],
    ["--pids", "-1"],
    ["--pids", "99999999999999999999"],
    ["--io-weight", "0"],
    ["--io-read-bps", "8:0"],
    ["--io-write-bps", "8:0:-1"],
    ["--rlimit", "nofile"],
    ["--rlimit", "nofile=1e9"],
    ["--rlimit", "bogus=1"],
    ["--timeout", "0"],
    ["--timeout", "1e9"],
    ["--cpu-time", "-1s"],
  ];
  for (const [flag, value] of bad) {
    test(`${flag} ${JSON.stringify(value)}`, async () => {
      const touched = join(tmp.path, `ran-${flag.slice(2)}-${bad.findIndex((b) => b[1] === value)}`);
      const r = await isolate(["exec", flag, value, "--", "touch", touched]);
      expect(r.code).toBe(125);
      const lines = r.stderr.trim().split("\n");
      expect(lines.length).toBe(1);
      expect(lines[0]).toStartWith(`isolate: ${flag}`);
      expect(existsSync(touched)).toBe(false);
    });
  }
});

describe("limits fail closed", () => {
  withCgroups(
    "a cpuset the parent does not allow: 125 naming --cpuset, the reason and the fix; nothing left",
    async () => {
      const proc = Bun.spawn([BIN, "exec", "--cpuset", "4000", "--", "true"], { stderr: "pipe", stdout: "pipe" });
      const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
      expect(code).toBe(125);
      expect(stderr).toMatch(
        /^isolate: --cpuset: cannot be enforced: .*cpuset\.cpus.*\(the parent cgroup allows cpus /,
      );
      expect(isolateCgroups([proc.pid])).toEqual([]);
    },
    30_000 * SLOW,
  );

  test("--io-read-bps on something that is not a block device: 125", async () => {
    const r = await isolate(["exec", "--io-read-bps", "/dev/null:1M", "--", "true"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toBe("isolate: --io-read-bps /dev/null: not a block device\n");
  });

  needs(IS_ROOT, "root, to run isolate as nobody")(
    "as nobody with no delegated cgroup, --memory gives 125 with the remedy",
    async () => {
      const r = await isolate(["exec", "--memory", "64M", "--", "touch", join(tmp.path, "nobody-ran")], {
        nobody: true,
      });
      expect(r.code).toBe(125);
      expect(r.stderr).toMatch(/^isolate: --memory: cannot be enforced: no write access to \/sys\/fs\/cgroup\S* \(/);
      expect(r.stderr).toContain("run as root, or delegate");
      expect(r.stderr).toContain("to uid 65534");
      expect(r.stderr.trim().split("\n").length).toBe(1);
      expect(existsSync(join(tmp.path, "nobody-ran"))).toBe(false);
    },
  );

  needs(IS_ROOT, "root, to run isolate as nobody")(
    "as nobody, --timeout alone needs no cgroup and still ends the run",
    async () => {
      const r = await isolate(["exec", "--json", "--timeout", "300ms", "--kill-after", "0", "--", "sleep", "100"], {
        nobody: true,
      });
      expect(r.code).toBe(137);
      expect(JSON.parse(r.stderr).reason).toBe("timeout");
    },
  );
});

describe("isolate clean", () => {
  withCgroups(
    "removes the cgroups of a SIGKILLed supervisor, and only those",
    async () => {
      const mark = marker();
      // In a directory root's mapped default can idmap (the VM lane's TMPDIR is on ext4).
      const live = Bun.spawn([BIN, "exec", "--pids", "10", "--", "sleep", "100"], {
        cwd: tmpdir(),
        stdout: "ignore",
        stderr: "ignore",
      });
      const dead = Bun.spawn(
        [BIN, "exec", "--memory", "64M", "--pids", "10", "--", "sh", "-c", `sleep 100; : ${mark}`],
        {
          cwd: tmpdir(),
          stdout: "ignore",
          stderr: "ignore",
        },
      );
      expect(
        await waitFor(
          () => isolateCgroups([dead.pid]).length >= 1 && isolateCgroups([live.pid]).length >= 1,
          5000 * SLOW,
        ),
      ).toBe(true);
      dead.kill("SIGKILL");
      await dead.exited;
      const left = isolateCgroups([dead.pid]);
      expect(left.length).toBeGreaterThanOrEqual(1);
      // the sandbox itself died with its supervisor
      expect(await waitFor(async () => (await pidsWith(mark)).length === 0, 5000 * SLOW)).toBe(true);

      const dry = await isolate(["clean", "--dry-run"]);
      expect(dry.code).toBe(0);
      for (const p of left) expect(dry.stdout).toContain(`would remove ${p}\n`);
      expect(isolateCgroups([dead.pid])).toEqual(left);

      const clean = await isolate(["clean"]);
      expect(clean.code).toBe(0);
      for (const p of left) expect(clean.stdout).toContain(`removed ${p}\n`);
      expect(isolateCgroups([dead.pid])).toEqual([]);
      // a live supervisor's cgroups are untouched
      expect(isolateCgroups([live.pid]).length).toBeGreaterThanOrEqual(1);
      live.kill("SIGTERM");
      await live.exited;
      expect(await waitFor(() => isolateCgroups([live.pid]).length === 0, 5000 * SLOW)).toBe(true);
    },
    60_000 * SLOW,
  );

  test("with nothing to clean, prints nothing and exits 0", async () => {
    const r = await sh([BIN, "clean", "--dry-run"]);
    expect(r.code).toBe(0);
  });
});
