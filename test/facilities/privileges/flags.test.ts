/** The hardening flags of the built binary: bad input refused before anything starts, and the plan in words. */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { compileSeccomp, DEFAULT_SECCOMP } from "../../../src/facilities/seccomp/compile.ts";
import { IS_ROOT, isolate, needs, tempDir } from "../../helpers/index.ts";

describe("bad hardening flags: 125, one line naming the flag", () => {
  const cases: [string[], RegExp][] = [
    [
      ["--cap-add", "CAP_FLY"],
      /^isolate: --cap-add "CAP_FLY": unknown capability \(use a name like CAP_NET_BIND_SERVICE, or ALL\)\n$/,
    ],
    [["--user", "alice"], /^isolate: --user "alice": use UID or UID:GID/],
    [["--uid", "x"], /^isolate: --uid "x": an id must be a number/],
    [["--uid", "4294967295"], /^isolate: --uid: an id must be at most 4294967294/],
    [["--userns", "maybe"], /^isolate: --userns "maybe": use "auto"/],
    [
      ["--userns", "auto", "--map-uid", "0:1000:1"],
      /^isolate: --userns: --userns auto and explicit --map-uid\/--map-gid exclude each other/,
    ],
    [["--map-uid", "0:1000"], /^isolate: --map-uid "0:1000": use IN:OUT:COUNT/],
    [["--map-uid", "0:1000:1", "--uid", "7"], /^isolate: --uid: uid 7 is not inside any --map-uid range/],
    [["--uid", "0", "--share", "user"], /^isolate: --uid: needs a new user namespace \(do not --share user\)/],
    [
      ["--seccomp-allow", "nope"],
      /^isolate: --seccomp-allow "nope": unknown syscall on \w+ \(use a name from the kernel headers, or a number\)\n$/,
    ],
    [
      ["--seccomp-deny", "ptrace", "--seccomp-allow", "ptrace"],
      /^isolate: --seccomp-allow: ptrace is both allowed and denied/,
    ],
    [
      ["--seccomp", "/nonexistent/policy.json"],
      /^isolate: --seccomp \/nonexistent\/policy.json: cannot read it \(ENOENT\)/,
    ],
  ];
  for (const [args, re] of cases) {
    test(args.join(" "), async () => {
      const r = await isolate(["exec", ...args, "--", "true"]);
      expect(r.code).toBe(125);
      expect(r.stderr).toMatch(re);
      expect(r.stderr.trim().split("\n").length).toBe(1);
    });
  }

  test("--seccomp FILE: not JSON, or not a valid policy", async () => {
    const t = tempDir();
    try {
      const notJson = join(t.path, "a.json");
      writeFileSync(notJson, "{ rules: ");
      const a = await isolate(["exec", "--seccomp", notJson, "--", "true"]);
      expect(a.code).toBe(125);
      expect(a.stderr).toMatch(/^isolate: --seccomp .*a\.json: not valid JSON/);
      const bad = join(t.path, "b.json");
      writeFileSync(bad, JSON.stringify({ rules: [{ syscalls: ["openat", "frobnicate"], action: "errno" }] }));
      const b = await isolate(["exec", "--seccomp", bad, "--", "true"]);
      expect(b.code).toBe(125);
      expect(b.stderr).toMatch(/^isolate: --seccomp "frobnicate": unknown syscall on /);
    } finally {
      t.remove();
    }
  });

  needs(IS_ROOT, "root (to run as nobody)")(
    "nobody sharing every namespace cannot empty the bounding set: refused",
    async () => {
      const r = await isolate(["exec", "--share", "pid,mount,uts,ipc,net,cgroup,user", "--", "true"], { nobody: true });
      expect(r.code).toBe(125);
      expect(r.stderr).toMatch(/^isolate: --share user: .*bounding set .*\(drop --share user\)/);
    },
  );
});

describe("isolate plan shows the hardening ops", () => {
  test("default: no_new_privs, empty bounding set, locked securebits, no capabilities, seccomp last before exec", async () => {
    const r = await isolate(["plan", "--", "true"]);
    expect(r.code).toBe(0);
    const ops = r.stdout.split("ops:\n")[1]?.trim().split("\n") ?? [];
    // The landlock op (where the kernel has it) sits between caps and seccomp: test/facilities/landlock/cli.test.ts.
    // The identity ops (root runs mapped to uid 0 of its own namespace) sit among them.
    const identity = (w: string) => w.startsWith("supplementary groups:") || /^uid \d+, gid \d+$/.test(w);
    const words = ops
      .map((l) => l.replace(/^\s*\d+\s+\w+\s+/, ""))
      .filter((w) => !w.startsWith("landlock: ") && !identity(w));
    expect(words.slice(-6)).toEqual([
      "set no_new_privs",
      "capability bounding set: keep none",
      "lock securebits 0x2f (no root privileges on exec)",
      "capabilities: keep none",
      expect.stringMatching(/^seccomp filter \(\d+ instructions\)$/),
      'exec "true"',
    ]);
    // As root it also takes the command's ids (root runs mapped: uid 0 of its namespace).
    expect(words.some((w) => w.startsWith("the init keeps capabilities: none"))).toBe(true);
    // The keyring op runs before the filter.
    expect(words.indexOf("new session keyring")).toBeLessThan(words.findIndex((w) => w.startsWith("seccomp")));
  });

  needs(IS_ROOT, "root")("--user and --cap-add in words", async () => {
    const r = await isolate(["plan", "--user", "1000:1001", "--cap-add", "NET_RAW", "--seccomp", "none", "--", "true"]);
    expect(r.stdout).toContain("supplementary groups: 1001");
    expect(r.stdout).toContain("uid 1000, gid 1001");
    expect(r.stdout).toContain("capabilities: keep CAP_NET_RAW");
    expect(r.stdout).toContain("the init keeps capabilities: CAP_KILL");
    expect(r.stdout).not.toContain("seccomp filter");
  });
});

test("isolate plan --json carries the seccomp program as base64, the same bytes the library compiles", async () => {
  const r = await isolate(["plan", "--json", "--", "true"]);
  expect(r.code).toBe(0);
  const plan = JSON.parse(r.stdout) as { ops: { op: string; args: Record<string, unknown> }[] };
  const sec = plan.ops.find((o) => o.op === "seccomp");
  expect(sec).toBeDefined();
  const b64 = (sec?.args.filter as { base64: string } | undefined)?.base64;
  const expected = Buffer.from(compileSeccomp(DEFAULT_SECCOMP) ?? []).toString("base64");
  expect(b64).toBe(expected);
  expect(plan.ops.find((o) => o.op === "caps")?.args).toEqual({ keep: 0 });
});
