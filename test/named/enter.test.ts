/** isolate enter NAME: setns into a running sandbox, then its command half (issue 10). */
import { describe, expect, test } from "bun:test";
import { IS_ROOT, needs } from "../helpers/index.ts";
import { nameFor, ps, type User, usersUnderTest } from "../helpers/named.ts";

const users = usersUnderTest();

const STATUS = "grep -E '^(NoNewPrivs|Seccomp|CapEff|CapBnd|Uid):' /proc/self/status";

describe.each(users.map((u) => [u.label, u] as const))("as %s", (_label, u) => {
  test("enter sees the sandbox's /proc, hostname, files, identity and confinement", async () => {
    const name = nameFor(u, "view");
    const script = `echo data > /tmp/made-inside; ${STATUS} > /tmp/status; ulimit -n > /tmp/nofile; sleep 60`;
    const started = await u.run([
      "exec",
      "--name",
      name,
      "--detach",
      "--hostname",
      "boxview",
      "--rlimit",
      "nofile=77",
      "--",
      "sh",
      "-c",
      script,
    ]);
    expect(started.stderr).toBe("");
    expect(started.code).toBe(0);
    await Bun.sleep(300);
    const e = await u.run([
      "enter",
      name,
      "--",
      "sh",
      "-c",
      `hostname; cat /tmp/made-inside; cat /proc/1/cmdline | tr '\\0' ' '; echo; ps -o args= ax | grep -c 'sleep 60'; ulimit -n; ${STATUS} > /tmp/mine; cmp /tmp/status /tmp/mine && echo same-status; cat /tmp/nofile`,
    ]);
    expect(e.stderr).toBe("");
    expect(e.code).toBe(0);
    const lines = e.stdout.split("\n");
    expect(lines[0]).toBe("boxview");
    expect(lines[1]).toBe("data");
    expect(lines[2]).toContain("isolate-init");
    expect(Number(lines[3])).toBeGreaterThanOrEqual(1);
    expect(lines[4]).toBe("77");
    expect(e.stdout).toContain("same-status");
    expect(lines[6]).toBe("77");
    // the host does not see the file: it was made in the sandbox's own /tmp
    expect(await Bun.file("/tmp/made-inside").exists()).toBe(false);
  });

  test("enter's exit codes are exec's: own, 127, 126, 128+N; a shell when no command", async () => {
    const name = nameFor(u, "codes");
    expect((await u.run(["exec", "--name", name, "--detach", "--", "sleep", "60"])).code).toBe(0);
    expect((await u.run(["enter", name, "--", "sh", "-c", "exit 7"])).code).toBe(7);
    const nf = await u.run(["enter", name, "--", "no-such-command-here"]);
    expect(nf.code).toBe(127);
    expect(nf.stderr).toContain("command not found");
    expect((await u.run(["enter", name, "--", "/etc/hostname"])).code).toBe(126);
    expect((await u.run(["enter", name, "--", "sh", "-c", "kill -KILL $$"])).code).toBe(137);
    const shell = await u.run(["enter", name]);
    expect(shell.code).toBe(0);
    const gone = await u.run(["enter", "no-such-sandbox", "--", "true"]);
    expect(gone.code).toBe(125);
    expect(gone.stderr).toContain("no such sandbox");
    expect((await u.run(["stop", name, "--kill-after", "1s"])).code).toBe(0);
    const ended = await u.run(["enter", name, "--", "true"]);
    expect(ended.code).toBe(125);
    expect(ended.stderr).toContain("not running");
  });
});

needs(IS_ROOT, "root: a --pids cgroup")("a fork bomb through enter is held by the sandbox's --pids", async () => {
  const u = users[0] as User;
  const name = nameFor(u, "bomb");
  expect((await u.run(["exec", "--name", name, "--detach", "--pids", "16", "--", "sleep", "60"])).code).toBe(0);
  const bomb = await u.run(
    ["enter", name, "--", "sh", "-c", "i=0; while [ $i -lt 64 ]; do sleep 30 & i=$((i+1)); done; wait"],
    { timeoutMs: 40_000 },
  );
  // sh cannot fork past the limit
  expect(bomb.stderr.toLowerCase()).toMatch(/fork|resource temporarily unavailable/);
  const [e] = (await ps(u)).filter((x) => x.name === name);
  expect(e?.stats.pids ?? 99).toBeLessThanOrEqual(16);
  const st = await u.run(["stats", name, "--json"]);
  expect(JSON.parse(st.stdout).pids).toBeLessThanOrEqual(16);
});
