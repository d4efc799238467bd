/** exec --join NAME:NS: a new sandbox sharing chosen namespaces of a running one (issue 10). */
import { describe, expect, test } from "bun:test";
import { IS_ROOT, SCRATCH, waitFor } from "../helpers/index.ts";
import { nameFor, type User, usersUnderTest } from "../helpers/named.ts";

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
      [`${web}:mount`, "mount cannot be joined"],
      [`${web}:pid`, "pid cannot be joined"],
      [`${web}`, "expected NAME:NS"],
      ["nosuch:net", "no sandbox named nosuch"],
    ] as const) {
      const r = await u.run(["exec", "--join", arg, "--", "true"]);
      expect(r.code).toBe(125);
      expect(r.stderr).toContain(why);
    }
    const h = await u.run(["exec", "--join", `${web}:uts`, "--hostname", "x", "--", "true"]);
    expect(h.code).toBe(125);
    expect(h.stderr).toContain("would rename");
    const uts = await u.run(["exec", "--join", `${web}:uts,ipc`, "--", "hostname"]);
    expect(uts.code).toBe(0);
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
