/** Named, detached sandboxes: their lifetime, their monitor, their state (issue 10). */
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { IS_ROOT, marker, needs, pidsWith, waitFor } from "../helpers/index.ts";
import { ON_VMLANE, SLOW } from "../helpers/limits.ts";
import { alive, cgroupsOf, nameFor, ps, stateFiles, type User, user, usersUnderTest } from "../helpers/named.ts";

const users = usersUnderTest();

describe.each(users.map((u) => [u.label, u] as const))("as %s", (_label, u) => {
  test("a detached sandbox survives the CLI, its monitor reaps it and keeps the report and the log", async () => {
    const name = nameFor(u, "det");
    // Under the VM lane's emulation a start takes seconds: the command outlasts the bound there too.
    const sleep = ON_VMLANE ? 10 : 1.5;
    const t0 = Date.now();
    const r = await u.run([
      "exec",
      "--name",
      name,
      "--detach",
      "--",
      "sh",
      "-c",
      `echo out; echo err >&2; sleep ${sleep}; exit 3`,
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${name}\n`);
    // isolate returned while the command still runs
    expect(Date.now() - t0).toBeLessThan(1500 * SLOW);
    const [e] = (await ps(u)).filter((x) => x.name === name);
    expect(e?.state).toBe("running");
    expect(e?.pid).toBeGreaterThan(0);
    const monitor = e?.monitorPid ?? 0;
    expect(alive(monitor)).toBe(true);
    const w = await u.run(["wait", name]);
    expect(w.code).toBe(3);
    const report = JSON.parse(w.stdout);
    expect(report.exitCode).toBe(3);
    expect(report.reason).toBe("ok");
    const logs = await u.run(["logs", name]);
    expect(logs.stdout).toContain("out\n");
    expect(logs.stdout).toContain("err\n");
    // the monitor ends once it has written the report
    expect(await waitFor(() => !alive(monitor), 5000)).toBe(true);
    const [after] = (await ps(u)).filter((x) => x.name === name);
    expect(after?.state).toBe("exited");
    expect(after?.exitCode).toBe(3);
    expect((await u.run(["rm", name])).code).toBe(0);
    expect(stateFiles(u).filter((f) => f.startsWith(`${name}.`))).toEqual([]);
  });

  test("the monitor keeps the limits: a detached --timeout ends it, the report says so", async () => {
    const name = nameFor(u, "limit");
    expect(
      (
        await u.run([
          "exec",
          "--name",
          name,
          "--detach",
          "--timeout",
          "1s",
          "--kill-after",
          "200ms",
          "--",
          "sleep",
          "30",
        ])
      ).code,
    ).toBe(0);
    const w = await u.run(["wait", name]);
    const report = JSON.parse(w.stdout);
    expect(report.reason).toBe("timeout");
    expect(report.limits.fired).toContain("timeout");
    expect(w.code).toBe(report.exitCode);
    expect(report.wallMs).toBeLessThan(5000);
  });

  test("exec without --name writes no state", async () => {
    const dir = u.stateDir.replace(/\/isolate$/, "");
    const fresh = user(u.uid);
    try {
      const r = await fresh.run(["exec", "--", "true"]);
      expect(r.code).toBe(0);
      expect(existsSync(fresh.stateDir)).toBe(false);
      expect(dir).not.toBe(fresh.stateDir);
    } finally {
      await fresh.cleanup();
    }
  });

  test("stats --interval prints until the sandbox ends", async () => {
    const name = nameFor(u, "stats");
    expect((await u.run(["exec", "--name", name, "--detach", "--", "sleep", "1"])).code).toBe(0);
    const st = await u.run(["stats", name, "--json", "--interval", "200ms"]);
    expect(st.code).toBe(0);
    const lines = st.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines[0].state).toBe("running");
    expect(lines.at(-1).state).toBe("exited");
    if (u.uid === 0) expect(lines[0].cpuMs).not.toBeNull();
  });

  test("logs --follow prints until the sandbox ends", async () => {
    const name = nameFor(u, "follow");
    expect((await u.run(["exec", "--name", name, "--detach", "--", "sh", "-c", "echo a; sleep 1; echo b"])).code).toBe(
      0,
    );
    const f = await u.run(["logs", "--follow", name]);
    expect(f.code).toBe(0);
    expect(f.stdout).toBe("a\nb\n");
  });

  test("a name is taken while it runs and until rm; a bad name is refused before anything starts", async () => {
    const name = nameFor(u, "taken");
    expect((await u.run(["exec", "--name", name, "--detach", "--", "sleep", "30"])).code).toBe(0);
    const again = await u.run(["exec", "--name", name, "--", "true"]);
    expect(again.code).toBe(125);
    expect(again.stderr).toContain("running");
    const rm = await u.run(["rm", name]);
    expect(rm.code).toBe(125);
    expect(rm.stderr).toContain("still running");
    expect((await u.run(["stop", name, "--kill-after", "1s"])).code).toBe(0);
    const ended = await u.run(["exec", "--name", name, "--", "true"]);
    expect(ended.code).toBe(125);
    expect(ended.stderr).toContain(`isolate rm ${name}`);
    for (const bad of ["", "-x", "a/b", "../x", "x".repeat(64), "a b"]) {
      const r = await u.run(["exec", "--name", bad, "--", "true"]);
      expect(r.code).toBe(125);
      expect(r.stderr).toContain("not a valid sandbox name");
    }
  });

  test("two exec --name with the same name at once: exactly one starts", async () => {
    const name = nameFor(u, "race");
    const rs = await Promise.all(
      Array.from({ length: 4 }, () => u.run(["exec", "--name", name, "--detach", "--", "sleep", "30"])),
    );
    expect(rs.filter((r) => r.code === 0).length).toBe(1);
    expect(rs.filter((r) => r.code === 125).length).toBe(3);
    expect((await ps(u)).filter((x) => x.name === name && x.state === "running").length).toBe(1);
  });

  test("a foreground exec --name is listed while it runs and joinable", async () => {
    const name = nameFor(u, "fg");
    const fg = u.run(["exec", "--name", name, "--", "sleep", String(2 * SLOW)]);
    const listed = await waitFor(
      async () => (await ps(u)).find((x) => x.name === name && x.state === "running"),
      5000 * SLOW,
    );
    expect(listed).toBeTruthy();
    const e = await u.run(["enter", name, "--", "cat", "/proc/1/cmdline"]);
    expect(e.code).toBe(0);
    expect(e.stdout).toContain("isolate-init");
    expect((await fg).code).toBe(0);
  });

  test("stop sends the signal, then ends everything after the grace; wait gives the report", async () => {
    const name = nameFor(u, "stop");
    // ignores SIGTERM: only the kill-after grace ends it
    expect((await u.run(["exec", "--name", name, "--detach", "--", "sh", "-c", "trap '' TERM; sleep 60"])).code).toBe(
      0,
    );
    const t0 = Date.now();
    const s = await u.run(["stop", name, "--kill-after", "500ms"]);
    expect(s.code).toBe(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(450);
    expect(Date.now() - t0).toBeLessThan(5000);
    const w = await u.run(["wait", name]);
    expect(JSON.parse(w.stdout).reason).toBe("killed");
    expect(w.code).toBe(137);
  });
});

needs(IS_ROOT, "root: SIGKILL of another user's monitor, cgroups")(
  "SIGKILL of the monitor ends the sandbox, and clean removes everything",
  async () => {
    const u = users[0] as User;
    const name = nameFor(u, "orphan");
    const tag = marker();
    expect(
      (await u.run(["exec", "--name", name, "--detach", "--pids", "50", "--", "sh", "-c", `sleep 300; : ${tag}`])).code,
    ).toBe(0);
    const [e] = (await ps(u)).filter((x) => x.name === name);
    const monitor = e?.monitorPid ?? 0;
    expect(monitor).toBeGreaterThan(0);
    expect((await pidsWith(tag)).length).toBeGreaterThan(0);
    expect(cgroupsOf(monitor).length).toBeGreaterThan(0);
    process.kill(monitor, "SIGKILL");
    expect(await waitFor(async () => (await pidsWith(tag)).length === 0, 5000)).toBe(true);
    const [dead] = (await ps(u)).filter((x) => x.name === name);
    expect(dead?.state).toBe("dead");
    const c = await u.run(["clean"]);
    expect(c.code).toBe(0);
    expect(c.stdout).toContain(`removed sandbox ${name}`);
    expect((await ps(u)).filter((x) => x.name === name)).toEqual([]);
    expect(stateFiles(u).filter((f) => f.startsWith(`${name}.`))).toEqual([]);
    expect(cgroupsOf(monitor)).toEqual([]);
  },
);
