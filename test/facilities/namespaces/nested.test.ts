/**
 * --allow-nested: sandboxes inside a sandbox (isolate in isolate, bwrap),
 * each confined, under the outer one's view, filter and limits. Without the
 * flag nesting is refused, and the error names it.
 */
import { describe, expect, setDefaultTimeout } from "bun:test";
import { existsSync } from "node:fs";
import { BIN, IS_ROOT, NOBODY, needs, sh } from "../../helpers/index.ts";
import { withCgroups } from "../../helpers/limits.ts";

// An outer sandbox starting an inner one, and the OOM test, take seconds on a busy machine.
setDefaultTimeout(30_000);

const BWRAP = ["/usr/bin/bwrap", "/bin/bwrap"].find((p) => existsSync(p));
const canUserns = (await sh([...NOBODY, "unshare", "-Ur", "true"])).code === 0;

/**
 * As root (mapped, the default) the command cannot stay uid 0: uid 0 without
 * CAP_SETFCAP could map no uid into a user namespace (src/facilities/identity/ops.ts,
 * NESTED_ID). It runs as 65534 instead, and exec says so in one line.
 */
const NOTE =
  /^isolate: note: --allow-nested: the command runs as uid 65534, not 0: uid 0 without CAP_SETFCAP .*--uid 65534 says so and silences this/;
const cases = [
  { who: "root", pre: [] as string[], outer: ["--allow-nested"], ok: IS_ROOT, note: true },
  {
    who: "root, --user 65534",
    pre: [] as string[],
    outer: ["--allow-nested", "--user", "65534"],
    ok: IS_ROOT,
    note: false,
  },
  { who: "nobody", pre: NOBODY, outer: ["--allow-nested"], ok: true, note: false },
];

/** The outer run's stderr holds nothing but, as root by default, the note. */
function expectQuiet(stderr: string, note: boolean): void {
  if (!note) return void expect(stderr).toBe("");
  const lines = stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(NOTE);
}

const inner = (cmd: string) => [BIN, "exec", "--", "sh", "-c", cmd];

for (const { who, pre, outer, ok, note } of cases) {
  describe(`nested, as ${who}`, () => {
    const t = needs(ok && canUserns, `needs ${who === "root" ? "root and " : ""}unprivileged user namespaces`);
    const run = (args: string[]) => sh([...pre, BIN, "exec", ...args]);

    t("isolate exec --allow-nested -- isolate exec -- id works; the inner sandbox is confined", async () => {
      const r = await run([
        ...outer,
        "--",
        ...inner(
          "id -u; cat /proc/1/cmdline | tr '\\0' ' '; echo; ls /proc | grep -c '^[0-9]'; " +
            "touch /usr/.nested 2>/dev/null || echo ro; grep -E 'CapEff|Seccomp:' /proc/self/status",
        ),
      ]);
      expectQuiet(r.stderr, note);
      expect(r.code).toBe(0);
      const lines = r.stdout.split("\n");
      expect(lines[0]).toBe("65534");
      expect(lines[1]).toStartWith("isolate-init"); // its own pid namespace
      expect(Number(lines[2])).toBeLessThan(6); // ... showing only its own processes
      expect(lines).toContain("ro"); // read-only root
      expect(r.stdout).toContain("CapEff:\t0000000000000000");
      expect(r.stdout).toContain("Seccomp:\t2");
    });

    needs(ok && canUserns && BWRAP !== undefined, "needs bubblewrap (apt-get install bubblewrap)")(
      "bwrap inside isolate works",
      async () => {
        const r = await run([
          ...outer,
          "--",
          BWRAP ?? "bwrap",
          "--unshare-all",
          "--ro-bind",
          "/",
          "/",
          "--dev",
          "/dev",
          "--proc",
          "/proc",
          "sh",
          "-c",
          "ls /proc | grep -c '^[0-9]'",
        ]);
        expectQuiet(r.stderr, note);
        expect(r.code).toBe(0);
        expect(Number(r.stdout.trim())).toBeLessThan(5);
      },
    );

    t("without --allow-nested the inner isolate is refused, and the error names the flag", async () => {
      const r = await run([...outer.filter((a) => a !== "--allow-nested"), "--", ...inner("true")]);
      expect(r.code).toBe(125);
      expect(r.stderr).toContain("--allow-nested");
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    });

    t("nesting cannot undo the outer view: an inner --bind of /usr stays read-only", async () => {
      const r = await run([
        ...outer,
        "--",
        BIN,
        "exec",
        "--bind",
        "/usr:/mnt",
        "--",
        "sh",
        "-c",
        "touch /mnt/.nested 2>&1; echo rc=$?",
      ]);
      expect(r.stdout).toContain("Read-only file system");
      expect(r.stdout).toContain("rc=1");
      expect(existsSync("/usr/.nested")).toBe(false);
    });

    t("nor a nested user namespace's root: the outer's read-only mounts are locked", async () => {
      const r = await run([
        ...outer,
        "--",
        "unshare",
        "-Urm",
        "sh",
        "-c",
        "mount -o remount,rw / 2>/dev/null && echo remounted; mount -o remount,bind,rw /usr 2>/dev/null && echo remounted; " +
          "umount -l /proc 2>/dev/null && echo unmounted; touch /usr/.nested 2>/dev/null || echo ro",
      ]);
      expect(r.stdout.trim()).toBe("ro");
      expect(existsSync("/usr/.nested")).toBe(false);
    });
  });
}

describe("nested, as root", () => {
  needs(IS_ROOT, "needs root")(
    "--allow-nested for a command that would be host root: 125 with the remedy",
    async () => {
      const r = await sh([BIN, "exec", "--userns", "host", "--allow-nested", "--", "true"]);
      expect(r.code).toBe(125);
      expect(r.stderr).toMatch(/^isolate: --allow-nested: the command would run as host root/);
      expect(r.stderr).toContain("drop --userns host");
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    },
  );

  needs(IS_ROOT, "needs root")(
    "--allow-nested --uid 0: 125 naming the kernel's rule (CAP_SETFCAP to map uid 0) and the fix",
    async () => {
      const r = await sh([BIN, "exec", "--allow-nested", "--uid", "0", "--", "true"]);
      expect(r.code).toBe(125);
      expect(r.stderr).toMatch(
        /^isolate: --allow-nested: the command would be uid 0 without capabilities \(--uid 0\), and since Linux 5\.12 only a holder of CAP_SETFCAP may map uid 0 into a new user namespace \(kernel\/user_namespace\.c, verify_root_map\)/,
      );
      expect(r.stderr).toContain("drop --uid 0: the command then runs as 65534");
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      // --uid 65534 is what the default does, without the note.
      const q = await sh([BIN, "exec", "--allow-nested", "--uid", "65534", "--", "id", "-u"]);
      expect(q.stderr).toBe("");
      expect(q.stdout.trim()).toBe("65534");
    },
  );

  needs(IS_ROOT, "needs root")(
    "in unshare -Ur, whose root is host root: --allow-nested is refused (the command would be host root)",
    async () => {
      const r = await sh(["unshare", "-Ur", BIN, "exec", "--allow-nested", "--", BIN, "exec", "--", "id"]);
      expect(r.code).toBe(125);
      expect(r.stderr).toMatch(/^isolate: --allow-nested: the command would run as host root/);
      expect(r.stderr).toContain("maps its root to host root");
    },
  );

  needs(canUserns, "needs unprivileged user namespaces")(
    "in unshare -Ur entered by nobody, isolate (root there) nests: the command is 65534 in a user namespace of its own",
    async () => {
      const r = await sh([
        ...NOBODY,
        "unshare",
        "-Ur",
        BIN,
        "exec",
        "--allow-nested",
        "--",
        ...inner(
          "id -u; cat /proc/1/cmdline | tr '\\0' ' '; echo; touch /usr/.nested 2>/dev/null || echo ro; grep CapEff /proc/self/status",
        ),
      ]);
      expectQuiet(r.stderr, true);
      expect(r.code).toBe(0);
      const lines = r.stdout.split("\n");
      expect(lines[0]).toBe("65534");
      expect(lines[1]).toStartWith("isolate-init");
      expect(lines).toContain("ro");
      expect(r.stdout).toContain("CapEff:\t0000000000000000");
    },
  );

  needs(canUserns, "needs unprivileged user namespaces")(
    "--allow-nested with --uid 0: no nested sandbox could map uid 0, said up front",
    async () => {
      const r = await sh([...NOBODY, BIN, "exec", "--allow-nested", "--uid", "0", "--", "true"]);
      expect(r.code).toBe(125);
      expect(r.stderr).toContain("CAP_SETFCAP");
      expect(r.stderr).toContain("--uid 1000");
    },
  );
});

describe("the outer limits hold for everything nested", () => {
  const t = canUserns ? withCgroups : needs(false, "needs unprivileged user namespaces");

  t("--pids: a fork loop inside the inner sandbox is capped by the outer --pids", async () => {
    const r = await sh([
      BIN,
      "exec",
      "--allow-nested",
      "--pids",
      "16",
      "--json",
      "--",
      BIN,
      "exec",
      "--",
      "sh",
      "-c",
      "i=0; while [ $i -lt 40 ]; do sleep 2 & i=$((i+1)); done 2>/dev/null; wait",
    ]);
    const report = JSON.parse(r.stderr.slice(r.stderr.lastIndexOf('{\n  "status"')));
    expect(report.limits.applied.pids).toBe(16);
    expect(report.limits.pidsRefused).toBeGreaterThan(0);
    expect(report.pidsPeak).toBeLessThanOrEqual(16);
  });

  t("--memory: the inner sandbox's allocation is OOM-killed by the outer --memory", async () => {
    const r = await sh([
      BIN,
      "exec",
      "--allow-nested",
      "--memory",
      "48M",
      "--json",
      "--",
      BIN,
      "exec",
      "--",
      "sh",
      "-c",
      "x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo survived",
    ]);
    expect(r.stdout).not.toContain("survived");
    const report = JSON.parse(r.stderr.slice(r.stderr.lastIndexOf('{\n  "status"')));
    expect(report.limits.applied.memory).toBe(48 * 1024 * 1024);
    expect(report.limits.oomKills).toBeGreaterThan(0);
  });
});
