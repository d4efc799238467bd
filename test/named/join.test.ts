/** exec --join NAME:NS: a new sandbox sharing chosen namespaces of a running one (issue 10). */
import { describe, expect, test } from "bun:test";
import { IS_ROOT, marker, pidsWith, SCRATCH, waitFor } from "../helpers/index.ts";
import { SLOW } from "../helpers/limits.ts";
import { nameFor, ps, type User, usersUnderTest } from "../helpers/named.ts";

const users = usersUnderTest();

// A tiny HTTP server on loopback only, inside the sandbox `web`.
const SERVER = `${SCRATCH}/named-join-server.py`;
await Bun.write(
  SERVER,
  [
    "import http.server, socketserver, sys",
    "class H(http.server.BaseHTTPRequestHandler):",
    "    def do_GET(self):",
    "        self.send_response(200); self.end_headers(); self.wfile.write(b'hello-from-web')",
    "    def log_message(self, *a): pass",
    "socketserver.TCPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()",
    "",
  ].join("\n"),
);
const CLIENT = (port: number) =>
  `import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:${port}/', timeout=5).read().decode())`;

describe.each(users.map((u, i) => [u.label, u, 18700 + i] as const))("as %s", (_label, u, port) => {
  test("--join web:net reaches a server bound to 127.0.0.1 inside web; without it, nothing listens", async () => {
    const web = nameFor(u, "web");
    const s = await u.run([
      "exec",
      "--name",
      web,
      "--detach",
      "--ro-bind",
      SERVER,
      "--",
      "python3",
      SERVER,
      String(port),
    ]);
    expect(s.code).toBe(0);
    // up once a joined client gets an answer
    const ok = await waitFor(
      async () => {
        const r = await u.run(["exec", "--join", `${web}:net`, "--", "python3", "-c", CLIENT(port)]);
        return r.code === 0 ? r : undefined;
      },
      10_000,
      200,
    );
    expect(ok?.stdout).toBe("hello-from-web\n");
    // the client has its own pid namespace and hostname: only net (and, for nobody, user) is shared
    const own = await u.run([
      "exec",
      "--join",
      `${web}:net`,
      "--",
      "sh",
      "-c",
      "ps -o args= ax | grep -c [h]ttp.server",
    ]);
    expect(own.stdout.trim()).toBe("0");
    const alone = await u.run(["exec", "--", "python3", "-c", CLIENT(port)]);
    expect(alone.code).not.toBe(0);
    expect(alone.stderr).toContain("Connection refused");
  });

  test("--join refuses what cannot be joined, with the rule", async () => {
    const web = nameFor(u, "webr");
    expect((await u.run(["exec", "--name", web, "--detach", "--", "sleep", "60"])).code).toBe(0);
    for (const [arg, why] of [
      [`${web}:cgroup`, "cgroup cannot be joined: a cgroup namespace is rooted at"],
      [`${web}:net,time`, "time cannot be joined: the kernel lets only a single-threaded process"],
      [`${web}:user`, "user cannot be joined alone"],
      [`${web}:pod`, "pod cannot be joined: no such namespace"],
      [`${web}`, "expected NAME:NS"],
      ["nosuch:net", "no sandbox named nosuch"],
    ] as const) {
      const r = await u.run(["exec", "--join", arg, "--", "true"]);
      expect(r.code).toBe(125);
      expect(r.stderr).toContain(why);
    }
    const sp = await u.run(["exec", "--join", `${web}:pid`, "--share", "pid", "--", "true"]);
    expect(sp.code).toBe(125);
    expect(sp.stderr).toContain("--share pid contradicts");
    const np = await u.run(["exec", "--join", `${web}:net`, "--net", "pasta", "--", "true"]);
    expect(np.code).toBe(125);
    expect(np.stderr).toContain(`--join ${web}:net: --net pasta would give the sandbox a network of its own`);
    const h = await u.run(["exec", "--join", `${web}:uts`, "--hostname", "x", "--", "true"]);
    expect(h.code).toBe(125);
    expect(h.stderr).toContain("would rename");
    const uts = await u.run(["exec", "--join", `${web}:uts,ipc`, "--", "hostname"]);
    expect(uts.code).toBe(0);
  });
});

describe.each(users.map((u) => [u.label, u] as const))("as %s", (_label, u) => {
  test("--join pw:pid: the command sees pw's processes, its init is not pid 1, and it leaves nothing behind", async () => {
    const tag = marker();
    const pw = nameFor(u, "pw");
    expect((await u.run(["exec", "--name", pw, "--detach", "--", "sh", "-c", `sleep 300; : ${tag}-web`])).code).toBe(0);
    // pid 1 is pw's init; the command's init is another process of that namespace
    const seen = await u.run([
      "exec",
      "--join",
      `${pw}:pid`,
      "--",
      "sh",
      "-c",
      "ps -o pid=,args= ax; echo; tr '\\0' ' ' </proc/1/cmdline",
    ]);
    expect(seen.stderr).toBe("");
    expect(seen.code).toBe(0);
    expect(seen.stdout).toContain(`${tag}-web`);
    const inits = seen.stdout.split("\n").filter((l) => /^\s*\d+ isolate-init/.test(l));
    expect(inits.length).toBe(2);
    expect(inits[0]).toMatch(/^\s*1 /);
    expect(seen.stdout.trimEnd().endsWith("isolate-init")).toBe(true);
    // without --join: a pid namespace of its own, pw's processes are not there
    const alone = await u.run(["exec", "--", "sh", "-c", "ps -o args= ax"]);
    expect(alone.stdout).not.toContain(tag);
    // what the joined command leaves running (in the background, in a session of its own) ends with it
    const left = await u.run([
      "exec",
      "--join",
      `${pw}:pid`,
      "--",
      "sh",
      "-c",
      `sleep 300 ${tag}-bg & setsid sleep 300 ${tag}-sid & sleep 0.3; echo started`,
    ]);
    expect(left.code).toBe(0);
    expect(left.stdout).toBe("started\n");
    expect(await waitFor(async () => (await pidsWith(`${tag}-`)).length === 1, 5000 * SLOW)).toBe(true);
    const inside = await u.run(["enter", pw, "--", "ps", "-o", "args=", "ax"]);
    expect(inside.stdout).toContain(`${tag}-web`);
    expect(inside.stdout).not.toContain(`${tag}-bg`);
    expect(inside.stdout).not.toContain(`${tag}-sid`);
  });

  test("--join mw:mount,pid runs in mw's view; enter of a sandbox started so joins it too; view flags are refused", async () => {
    const tag = marker();
    const mw = nameFor(u, "mw");
    expect(
      (await u.run(["exec", "--name", mw, "--detach", "--", "sh", "-c", `echo ${tag} > /tmp/mark; sleep 300`])).code,
    ).toBe(0);
    // mw's /tmp (a tmpfs of its own view) holds the mark once its command has run
    const seen = await waitFor(
      async () => {
        const r = await u.run(["exec", "--join", `${mw}:mount,pid`, "--", "cat", "/tmp/mark"]);
        return r.code === 0 ? r : undefined;
      },
      5000 * SLOW,
      100,
    );
    expect(seen?.stdout).toBe(`${tag}\n`);
    const w = await u.run([
      "exec",
      "--join",
      `${mw}:mount,pid`,
      "--",
      "sh",
      "-c",
      "pwd; echo joined > /tmp/from-joined; touch /usr/isolate-joined-x 2>/dev/null || echo read-only",
    ]);
    expect(w.stdout).toBe("/\nread-only\n");
    expect((await u.run(["enter", mw, "--", "cat", "/tmp/from-joined"])).stdout).toBe("joined\n");
    const cd = await u.run(["exec", "--join", `${mw}:mount,pid`, "--chdir", "/etc", "--", "pwd"]);
    expect(cd.stdout).toBe("/etc\n");
    // without --join: a view of its own
    const alone = await u.run(["exec", "--", "cat", "/tmp/mark"]);
    expect(alone.code).toBe(1);
    // a named sandbox started in mw's view: enter joins what it joined
    const mj = nameFor(u, "mj");
    expect(
      (await u.run(["exec", "--name", mj, "--detach", "--join", `${mw}:mount,pid`, "--", "sleep", "300"])).code,
    ).toBe(0);
    expect((await u.run(["enter", mj, "--", "cat", "/tmp/mark"])).stdout).toBe(`${tag}\n`);
    for (const [args, why] of [
      [["--join", `${mw}:mount`], "joining mount needs pid too"],
      [["--join", `${mw}:mount,pid`, "--tmpfs", "/mnt"], "the view is"],
      [["--join", `${mw}:mount,pid`, "--ro-bind", "/etc:/mnt"], "would change it"],
    ] as const) {
      const r = await u.run(["exec", ...args, "--", "true"]);
      expect(r.code).toBe(125);
      expect(r.stderr).toContain(why);
    }
  });

  test("a sandbox in pw's pid namespace ends when pw ends", async () => {
    const tag = marker();
    const pw = nameFor(u, "pwend");
    const pj = nameFor(u, "pj");
    expect((await u.run(["exec", "--name", pw, "--detach", "--", "sleep", "300"])).code).toBe(0);
    const j = await u.run([
      "exec",
      "--name",
      pj,
      "--detach",
      "--join",
      `${pw}:pid`,
      "--",
      "sh",
      "-c",
      `sleep 300; : ${tag}`,
    ]);
    expect(j.stderr).toBe("");
    expect(j.code).toBe(0);
    // running once its init is: the command follows
    expect(await waitFor(async () => (await pidsWith(tag)).length === 1, 5000 * SLOW)).toBe(true);
    expect((await u.run(["stop", pw, "--kill-after", "1s"])).code).toBe(0);
    expect(await waitFor(async () => (await pidsWith(tag)).length === 0, 5000 * SLOW)).toBe(true);
    const done = await waitFor(
      async () => (await ps(u)).find((e) => e.name === pj && e.state === "exited"),
      10_000 * SLOW,
    );
    expect(done?.exitCode).toBe(137);
  });
});

test.if(IS_ROOT)("as nobody, joining net joins web's user namespace: another identity is refused", async () => {
  const u = users[1] as User;
  const web = nameFor(u, "webid");
  expect((await u.run(["exec", "--name", web, "--detach", "--", "sleep", "60"])).code).toBe(0);
  const r = await u.run(["exec", "--join", `${web}:net`, "--uid", "0", "--", "true"]);
  expect(r.code).toBe(125);
  expect(r.stderr).toContain("identity");
});
