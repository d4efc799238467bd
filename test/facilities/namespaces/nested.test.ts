/**
 * --allow-nested: sandboxes inside a sandbox (isolate in isolate, bwrap),
 * each confined, under the outer one's view, filter and limits. Without the
 * flag nesting is refused, and the error names it.
 */
import { describe, expect } from "bun:test";
import { existsSync } from "node:fs";
import { BIN, IS_ROOT, NOBODY, needs, sh } from "../../helpers/index.ts";
import { withCgroups } from "../../helpers/limits.ts";

const BWRAP = ["/usr/bin/bwrap", "/bin/bwrap"].find((p) => existsSync(p));
const canUserns = (await sh([...NOBODY, "unshare", "-Ur", "true"])).code === 0;

/** As root the outer command must not be host root (see src/facilities/namespaces/nesting.ts): it runs as nobody. */
const cases = [
  { who: "root", pre: [] as string[], outer: ["--allow-nested", "--user", "65534"], ok: IS_ROOT },
  { who: "nobody", pre: NOBODY, outer: ["--allow-nested"], ok: true },
];

const inner = (cmd: string) => [BIN, "exec", "--", "sh", "-c", cmd];

for (const { who, pre, outer, ok } of cases) {
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
      expect(r.stderr).toBe("");
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
        expect(r.stderr).toBe("");
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
      // Root mapped (the default): uid 0 of its namespace, without CAP_SETFCAP to map itself again.
      const m = await sh([BIN, "exec", "--allow-nested", "--", "true"]);
      expect(m.code).toBe(125);
      expect(m.stderr).toMatch(/^isolate: --allow-nested: the command would be uid 0 without capabilities/);
      expect(r.stderr).toContain("--user");
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
      "--user",
      "65534",
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
      "--user",
      "65534",
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
