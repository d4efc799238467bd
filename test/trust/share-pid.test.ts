/**
 * --share pid: nothing outlives the run. Without a pid namespace of its own,
 * a process that leaves the command's process group (setsid, job control, a
 * double fork) would survive the command; the sandbox is then always placed
 * in a cgroup, and every process in it is killed when the run ends. Where no
 * cgroup can be made (unprivileged, nothing delegated), --share pid is
 * refused (125, with the reason and the fix) before anything is created.
 */
import { afterAll, describe, expect } from "bun:test";
import { chmodSync, existsSync } from "node:fs";
import { join } from "node:path";
import { detectCgroups } from "../../src/cgroup/detect.ts";
import {
  BIN,
  IS_ROOT,
  isolate,
  marker,
  needs,
  pidsWith,
  SCRATCH,
  sh,
  sleep,
  tempDir,
  waitFor,
} from "../helpers/index.ts";

const t = tempDir("isolate-share-pid-");
chmodSync(t.path, 0o777);
afterAll(() => t.remove());

/** A copy of sleep whose path carries a marker, so every copy left running can be found. */
async function markedSleep(): Promise<{ path: string; tag: string }> {
  const tag = marker();
  const path = join(t.path, tag);
  await sh(["cp", "/bin/sleep", path]);
  chmodSync(path, 0o755);
  return { path, tag };
}

const ESCAPES: [string, (p: string) => string][] = [
  ["setsid (the issue's reproducer)", (p) => `setsid ${p} 999 & sleep 0.3`],
  ["setsid -f, a double fork into a new session", (p) => `setsid -f ${p} 999; sleep 0.3`],
  ["a process group of its own (setpgid)", (p) => `perl -e 'setpgrp(0, 0); exec @ARGV' ${p} 999 & sleep 0.3`],
  ["a double-forked daemon whose parent exits", (p) => `(setsid sh -c '${p} 999 & exit 0' &); sleep 0.3`],
];

const free = async (tag: string) => {
  const left = await waitFor(async () => (await pidsWith(tag)).length === 0, 3000);
  for (const pid of await pidsWith(tag)) process.kill(pid, "SIGKILL");
  return left;
};

describe("with --share pid, nothing the command started outlives the run", () => {
  for (const [name, script] of ESCAPES) {
    for (const user of [[], ["--user", "65534"]]) {
      needs(IS_ROOT, "root (a cgroup to create)")(`${name}${user.length ? " (--user 65534)" : ""}`, async () => {
        const { path, tag } = await markedSleep();
        const r = await isolate(["exec", "--share", "pid", ...user, "--", "sh", "-c", script(path)], { cwd: SCRATCH });
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        expect(await free(tag)).toBe(true);
      });
    }
  }

  needs(IS_ROOT, "root")("also when a --timeout ends it", async () => {
    const { path, tag } = await markedSleep();
    const t0 = performance.now();
    const r = await isolate(
      ["exec", "--share", "pid", "--timeout", "500ms", "--", "sh", "-c", `setsid ${path} 999 & ${path} 100`],
      {
        cwd: SCRATCH,
      },
    );
    expect(r.code).toBe(143);
    expect(performance.now() - t0).toBeLessThan(8000);
    expect(await free(tag)).toBe(true);
  });

  needs(IS_ROOT, "root")("the sandbox is in a cgroup of its own, gone after the run", async () => {
    const r = await isolate(["exec", "--share", "pid", "--share", "cgroup", "--", "cat", "/proc/self/cgroup"], {
      cwd: SCRATCH,
    });
    expect(r.code).toBe(0);
    const own = await sh(["cat", "/proc/self/cgroup"]);
    // At least one hierarchy places it below the caller's cgroup, in a directory named by isolate.
    const lines = r.stdout.trim().split("\n");
    const placed = lines.filter((l) => /\/isolate-\d+-/.test(l));
    expect(placed.length).toBeGreaterThan(0);
    expect(r.stdout).not.toBe(own.stdout);
    const layout = detectCgroups();
    for (const line of placed) {
      const [, list = "", path = ""] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
      const h = list === "" ? layout.v2 : layout.v1.find((x) => list.split(",").some((c) => x.controllers.includes(c)));
      if (h) expect(existsSync(join(h.mount, path))).toBe(false);
    }
  });
});

describe("with --share pid, a SIGKILL of isolate leaves nothing running either", () => {
  // The init (a child subreaper) gets SIG_END as its parent-death signal and kills what the
  // command left behind, round after round, before it exits: no cgroup sweep is needed for that.
  for (const [name, script] of ESCAPES) {
    for (const user of [[], ["--user", "65534"]]) {
      needs(IS_ROOT, "root (a cgroup to create)")(`${name}${user.length ? " (--user 65534)" : ""}`, async () => {
        const { path, tag } = await markedSleep();
        const proc = Bun.spawn(
          [BIN, "exec", "--share", "pid", ...user, "--", "sh", "-c", `${script(path)}; ${path} 100`],
          { cwd: SCRATCH, stdout: "ignore", stderr: "pipe" },
        );
        // The escaped sleep and the command's own run (and the shell, whose script names them).
        expect(await waitFor(async () => (await pidsWith(tag)).length >= 2, 5000)).toBe(true);
        await sleep(400);
        proc.kill("SIGKILL");
        await proc.exited;
        expect(await free(tag)).toBe(true);
        // isolate's own cgroups are left for the next run or `isolate clean`: remove them now.
        await sh([BIN, "clean"]);
      });
    }
  }
});

describe("where no cgroup can be had, --share pid is refused", () => {
  needs(IS_ROOT, "root (to run as nobody)")(
    "as nobody with no delegated cgroup: 125, the reason and the fix, nothing run",
    async () => {
      const made = join(t.path, "ran");
      const r = await isolate(["exec", "--share", "pid", "--", "touch", made], { nobody: true, cwd: SCRATCH });
      expect(r.code).toBe(125);
      expect(r.stderr).toMatch(/^isolate: .*--share pid: no cgroup can end every process of the sandbox: .+/);
      expect(r.stderr).toContain("drop --share pid");
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(existsSync(made)).toBe(false);
    },
  );
});
