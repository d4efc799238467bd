/**
 * The event loop stays free while sandboxes start (issue 13): 20 spawn()
 * calls at once, with and without a v1 memory cgroup, and a 1 ms timer.
 * Before the worker threads, each clone, id map write and cgroup placement
 * held the JS thread, and the largest gap between ticks was 100-250 ms on
 * this 2-core machine. The target is 5 ms on a quiet machine; these
 * bounds leave room for a loaded shared one, and take the best of a few
 * rounds (a blocked loop is slow in every round, a busy machine in some).
 */
import { expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { measure } from "../../bench/eventloop.ts";
import { detectCgroups } from "../../src/cgroup/detect.ts";
import { run, spawn } from "../../src/index.ts";
import { HAS_STRACE, IS_ROOT, needs, ROOT, tempDir, traced } from "../helpers/index.ts";

const ROUNDS = 3;

async function bestOf(limits: Record<string, unknown> | undefined) {
  await measure(2, limits); // warm
  const rounds = [];
  for (let i = 0; i < ROUNDS; i++) rounds.push(await measure(20, limits));
  const best = Math.min(...rounds.map((r) => r.maxMs));
  const p99 = Math.min(...rounds.map((r) => r.p99Ms));
  return { best, p99, rounds };
}

test("20 concurrent spawn() calls: no long gap between ticks of a 1 ms timer", async () => {
  const { best, p99, rounds } = await bestOf(undefined);
  console.log(`default: max gaps ${rounds.map((r) => r.maxMs.toFixed(1)).join(", ")} ms`);
  expect(best).toBeLessThan(30);
  expect(p99).toBeLessThan(25);
}, 60_000);

const v1Memory = IS_ROOT && detectCgroups().controllers.memory.version === 1;
needs(v1Memory, "a v1 memory hierarchy this process may write (root)")(
  "20 concurrent spawn() calls with --memory 64M: cgroup placement is off the JS thread",
  async () => {
    const { best, p99, rounds } = await bestOf({ memory: "64M" });
    console.log(`--memory 64M: max gaps ${rounds.map((r) => r.maxMs.toFixed(1)).join(", ")} ms`);
    expect(best).toBeLessThan(30);
    expect(p99).toBeLessThan(25);
  },
  60_000,
);

test("spawn() returns at once: pid after ready, setup errors through ready and exited", async () => {
  const sb = spawn({ command: ["true"] }, { stdout: "null" });
  expect(() => sb.pid).toThrow(/ready/);
  const pid = await sb.ready;
  expect(sb.pid).toBe(pid);
  expect((await sb.exited).exitCode).toBe(0);
  // A cwd that does not exist fails the setup: the same error reaches both promises.
  const bad = spawn({ command: ["true"], cwd: "/nonexistent-isolate-perf" }, { stdout: "null" });
  const e1 = await bad.ready.then(
    () => null,
    (e) => e,
  );
  const r = await bad.exited.then(
    (r) => r,
    (e) => e,
  );
  if (e1 === null) expect(r.exitCode).toBe(125);
  else expect(r).toBe(e1);
});

test("kill() before ready reaches the command once it is released", async () => {
  const sb = spawn({ command: ["sleep", "30"] }, { stdout: "null" });
  sb.kill("SIGKILL");
  const r = await sb.exited;
  expect(r.reason).toBe("killed");
  expect(r.wallMs).toBeLessThan(5000);
});

// Field 41 of /proc/PID/stat: 0 SCHED_OTHER, 3 SCHED_BATCH.
const policy = (stat: string) => stat.slice(stat.lastIndexOf(")") + 2).split(" ")[38];
const ownPolicy = policy(readFileSync("/proc/self/stat", "utf8"));

needs(ownPolicy === "0", "this test process runs as SCHED_OTHER")(
  "the worker threads wait as SCHED_BATCH, and the sandbox runs with the caller's policy",
  async () => {
    // spawn() clones on a worker thread (ffi/worker.c): the init and the command inherit its policy.
    const runs = await Promise.all(
      Array.from({ length: 4 }, () => run({ command: ["sh", "-c", "cat /proc/$$/stat /proc/1/stat"] })),
    );
    for (const r of runs) {
      expect(r.exitCode).toBe(0);
      const lines = r.stdout.trim().split("\n");
      expect(lines.length).toBe(2);
      for (const l of lines) expect(policy(l)).toBe("0");
    }
  },
);

// Root runs mapped: its writable binds are idmapped clones the supervisor makes
// (open_tree, mount_setattr). Mount calls wait for the locks every sandbox
// setting up its view takes, so they run on a worker thread of the shim.
needs(IS_ROOT && HAS_STRACE, "root (the mapped root's idmapped binds) and strace")(
  "a mapped root's idmapped bind is made on a worker thread, not on the JS thread",
  async () => {
    const t = tempDir("isolate-idmap-thread-");
    try {
      const script = join(t.path, "spawn.ts");
      const lib = JSON.stringify(join(ROOT, "src", "index.ts"));
      writeFileSync(
        script,
        `import { spawn } from ${lib};\nconst r = await spawn({ command: ["true"], cwdMount: "rw" }).exited;\nconsole.log(process.pid, r.exitCode);\n`,
      );
      // Its working directory is the bind: the scratch disk (ext4) has idmapped mounts on every kernel isolate supports.
      const { ran, calls } = await traced("mount_setattr", [process.execPath, script], { cwd: t.path });
      const [pid, code] = ran.stdout.trim().split(" ");
      expect(code).toBe("0");
      const idmapped = calls.split("\n").filter((l) => l.includes("MOUNT_ATTR_IDMAP"));
      expect(idmapped.length).toBe(1);
      expect(idmapped[0]?.split(" ")[0]).not.toBe(pid);
    } finally {
      t.remove();
    }
  },
);
