/**
 * Capabilities, no_new_privs and seccomp as the command sees them, as root
 * and as nobody: all five capability sets empty, NoNewPrivs 1, Seccomp 2,
 * still so after a further exec; setuid and file-capability binaries do not
 * elevate; --cap-add keeps what it names; the init keeps nothing and takes
 * the command's uid (test/trust/init-caps.test.ts has every mode).
 */

import { afterAll, beforeAll, describe, expect } from "bun:test";
import { chmodSync, chownSync, copyFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT_RANGE_BASE } from "../../../src/facilities/identity/ops.ts";
import { LOCKED_DOWN, securityStatus } from "../../helpers/harden.ts";
import { BIN, IS_ROOT, initOf, isolate, NOBODY, needs, sh, sleep, tempDir, waitFor } from "../../helpers/index.ts";

const STATUS_TWICE = ["sh", "-c", 'cat /proc/self/status; echo ===; exec sh -c "cat /proc/self/status"'];

const MODES: { name: string; nobody: boolean; args: string[]; uid: string }[] = [
  { name: "root", nobody: false, args: [], uid: "0" },
  { name: "root --user 65534", nobody: false, args: ["--user", "65534"], uid: "65534" },
  { name: "root --uid 0 (user namespace)", nobody: false, args: ["--uid", "0"], uid: "0" },
  { name: "nobody", nobody: true, args: [], uid: "65534" },
  { name: "nobody --uid 0", nobody: true, args: ["--uid", "0"], uid: "0" },
];

describe("the command holds nothing", () => {
  for (const m of MODES) {
    needs(IS_ROOT, "root (to run as root and as nobody)")(
      `${m.name}: five capability sets empty, NoNewPrivs 1, Seccomp 2, also after exec sh -c`,
      async () => {
        const r = await isolate(["exec", ...m.args, "--", ...STATUS_TWICE], { nobody: m.nobody });
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        const [first, second] = r.stdout.split("===");
        expect(securityStatus(first ?? "")).toEqual(LOCKED_DOWN);
        expect(securityStatus(second ?? "")).toEqual(LOCKED_DOWN);
        expect(/^Uid:\s+(\d+)/m.exec(first ?? "")?.[1]).toBe(m.uid);
      },
    );
  }
});

describe("--cap-add", () => {
  const expectKept = (status: string, mask: string) => {
    const s = securityStatus(status);
    for (const set of ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"]) expect([set, s[set]]).toEqual([set, mask]);
    expect(s.NoNewPrivs).toBe("1");
    expect(s.Seccomp).toBe("2");
  };

  needs(IS_ROOT, "root")("root: keeps the named capability in all five sets, across exec", async () => {
    const r = await isolate(["exec", "--cap-add", "CAP_NET_BIND_SERVICE", "--", ...STATUS_TWICE]);
    expect(r.code).toBe(0);
    const [a, b] = r.stdout.split("===");
    expectKept(a ?? "", "0000000000000400");
    expectKept(b ?? "", "0000000000000400");
  });

  needs(IS_ROOT, "root")("root --user 1000: kept across the uid change and exec", async () => {
    const r = await isolate(["exec", "--user", "1000", "--cap-add", "net_bind_service,net_raw", "--", ...STATUS_TWICE]);
    expect(r.code).toBe(0);
    const [a, b] = r.stdout.split("===");
    expect(/^Uid:\s+1000\s+1000\s+1000\s+1000/m.test(a ?? "")).toBe(true);
    expectKept(a ?? "", "0000000000002400");
    expectKept(b ?? "", "0000000000002400");
  });

  needs(IS_ROOT, "root (to run as nobody)")("nobody: a capability of its own user namespace", async () => {
    const r = await isolate(["exec", "--cap-add", "NET_ADMIN", "--", ...STATUS_TWICE], { nobody: true });
    expect(r.code).toBe(0);
    const [a, b] = r.stdout.split("===");
    expectKept(a ?? "", "0000000000001000");
    expectKept(b ?? "", "0000000000001000");
    // And it works, in the sandbox's own network namespace only.
    const ip = Bun.which("ip");
    if (ip) {
      const up = await isolate(["exec", "--cap-add", "NET_ADMIN", "--", ip, "link", "set", "lo", "mtu", "1500"], {
        nobody: true,
      });
      expect(up.code).toBe(0);
      const denied = await isolate(["exec", "--", ip, "link", "set", "lo", "mtu", "1500"], { nobody: true });
      expect(denied.code).not.toBe(0);
    }
  });

  needs(IS_ROOT, "root")("refused clearly when isolate itself lacks the capability", async () => {
    const r = await sh([
      "setpriv",
      "--bounding-set=-net_raw",
      BIN,
      "exec",
      "--userns",
      "host",
      "--cap-add",
      "NET_RAW",
      "--",
      "true",
    ]);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/^isolate: --cap-add CAP_NET_RAW: .*not in its bounding set/);
    // Without it the same context runs fine, and nothing is kept.
    const ok = await sh([
      "setpriv",
      "--bounding-set=-net_raw",
      BIN,
      "exec",
      "--",
      "grep",
      "CapBnd",
      "/proc/self/status",
    ]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/CapBnd:\s+0000000000000000/);
  });
});

describe("setuid and file-capability binaries do not elevate", () => {
  let dir: { path: string; remove: () => void };
  beforeAll(() => {
    dir = tempDir("isolate-suid-");
    chmodSync(dir.path, 0o755);
    copyFileSync("/usr/bin/id", join(dir.path, "id"));
    chownSync(join(dir.path, "id"), 0, 0);
    chmodSync(join(dir.path, "id"), 0o4755);
    copyFileSync("/usr/bin/cat", join(dir.path, "cat"));
    chmodSync(join(dir.path, "cat"), 0o755);
  });
  afterAll(() => dir.remove());

  needs(IS_ROOT, "root (to make a setuid-root file)")("a setuid-root copy of id stays the caller", async () => {
    const id = join(dir.path, "id");
    // The copy does elevate outside isolate: otherwise this test could not fail.
    const outside = await sh([...NOBODY, id, "-u"]);
    expect(outside.stdout.trim()).toBe("0");
    for (const args of [
      ["--user", "65534"],
      ["--user", "65534", "--seccomp", "none"],
    ]) {
      const r = await isolate(["exec", ...args, "--", id, "-u"]);
      expect([args.join(" "), r.code, r.stdout.trim()]).toEqual([args.join(" "), 0, "65534"]);
    }
    const asNobody = await isolate(["exec", "--", id, "-u"], { nobody: true });
    expect(asNobody.stdout.trim()).toBe("65534");
    // Root without a user namespace: root it stays, with nothing.
    const root = await isolate(["exec", "--", "sh", "-c", `${id} -u; grep CapEff /proc/self/status`]);
    expect(root.stdout).toMatch(/^0\nCapEff:\s+0000000000000000/);
  });

  needs(IS_ROOT && Bun.which("setcap") !== null, "root and setcap (libcap2-bin)")(
    "a copy of cat with cap_dac_read_search cannot read /etc/shadow",
    async () => {
      const cat = join(dir.path, "cat");
      const set = await sh(["setcap", "cap_dac_read_search+ep", cat]);
      expect(set.code).toBe(0);
      const outside = await sh([...NOBODY, cat, "/etc/shadow"]);
      expect(outside.code).toBe(0);
      // Unmasked: masked, it would read empty whatever the capability did.
      const r = await isolate(["exec", "--user", "65534", "--unmask", "/etc/shadow", "--", cat, "/etc/shadow"]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/Permission denied|Operation not permitted/);
    },
  );
});

describe("the init", () => {
  needs(IS_ROOT, "root")("keeps nothing, and takes the command's uid when it runs as another", async () => {
    // Root runs mapped by default: the command, and so the init, is the range's first uid on the host.
    for (const [args, eff, uid] of [
      [[], "0000000000000000", String(ROOT_RANGE_BASE)],
      [["--userns", "host"], "0000000000000000", "0"],
      [["--user", "65534"], "0000000000000000", "65534"],
    ] as const) {
      const p = Bun.spawn([BIN, "exec", ...args, "--", "sleep", "30"], { stdout: "ignore", stderr: "pipe" });
      try {
        const init = await initOf(p.pid);
        expect(init).toBeGreaterThan(0);
        // The init drops its capabilities right after starting the command.
        const status = await waitFor(() => {
          const s = securityStatus(readFileSync(`/proc/${init}/status`, "utf8"));
          return s.NoNewPrivs === "1" && s.CapBnd === eff ? s : undefined;
        });
        expect(status).toMatchObject({ CapEff: eff, CapPrm: eff, CapBnd: eff, CapInh: eff, NoNewPrivs: "1" });
        expect(readFileSync(`/proc/${init}/status`, "utf8")).toMatch(new RegExp(`^Uid:\\s+${uid}\\s`, "m"));
      } finally {
        p.kill("SIGKILL");
        await p.exited;
      }
    }
  });

  needs(IS_ROOT, "root")("forwards SIGTERM to a command running as another uid", async () => {
    const p = Bun.spawn([BIN, "exec", "--user", "65534", "--kill-after", "60s", "--", "sleep", "60"], {
      stdout: "ignore",
      stderr: "pipe",
    });
    await initOf(p.pid);
    await sleep(300);
    const t0 = performance.now();
    p.kill("SIGTERM");
    const code = await p.exited;
    expect(code).toBe(143);
    expect(performance.now() - t0).toBeLessThan(5000);
  });
});
