/**
 * Landlock as a second wall (issue 9), and `--share pid` no longer reaching
 * isolate (issue 8): the built binary, as root and as nobody, each claim shown
 * against the same run with `--landlock off` (what the view alone allows).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { landlockAbi } from "../../../src/shim/landlock-abi.ts";
import { type Built, buildFixtures, HAVE_GCC } from "../../helpers/harden.ts";
import { BIN, IS_ROOT, isolate, NOBODY, needs, sleep, tempDir } from "../../helpers/index.ts";

const ABI = landlockAbi();
const withLandlock = needs(ABI >= 3, "Landlock ABI 3 or later (writes and truncation)");
/** The same, for a test that runs as root or, through setpriv, as nobody: both need root. */
const landlockAs = (ok: boolean) =>
  needs(ABI >= 3 && ok, "Landlock ABI 3 or later, and root (to run as root and as nobody)");
const scopesAs = (ok: boolean) => needs(ABI >= 6 && HAVE_GCC && ok, "Landlock ABI 6 or later, gcc, and root");
const NOBODY_ID = 65534;
const EPERM = 1;

const WHO = [
  { name: "root", nobody: false, ok: IS_ROOT },
  { name: "nobody", nobody: true, ok: IS_ROOT },
] as const;

let fixtures: Built | undefined;
beforeAll(async () => {
  if (HAVE_GCC) fixtures = await buildFixtures(["abstract-unix"]);
});
afterAll(() => fixtures?.remove());

/** A workspace (the cwd) and a directory beside it, both writable by `who` as the mount view alone goes. */
function dirs(nobody: boolean) {
  const t = tempDir("isolate-landlock-");
  chmodSync(t.path, 0o755);
  const cwd = join(t.path, "cwd");
  const other = join(t.path, "other");
  for (const d of [cwd, other]) {
    mkdirSync(d);
    if (nobody) chownSync(d, NOBODY_ID, NOBODY_ID);
  }
  writeFileSync(join(other, "keep"), "content\n");
  if (nobody) chownSync(join(other, "keep"), NOBODY_ID, NOBODY_ID);
  return { cwd, other, remove: t.remove };
}

/** As root, these are about host root (Landlock the second wall behind the view alone): --userns host. */
const hostRoot = (nobody: boolean) => (nobody || !IS_ROOT ? [] : ["--userns", "host"]);

describe("writes: only where the view makes them", () => {
  for (const who of WHO) {
    landlockAs(who.ok)(
      `as ${who.name}, --share mount: a write outside the cwd is EACCES; --landlock off lets the same through`,
      async () => {
        const d = dirs(who.nobody);
        try {
          const script = [
            `echo x > ${d.other}/new; echo create=$?`,
            `truncate -s 0 ${d.other}/keep; echo truncate=$?`,
            `mkdir ${d.other}/sub; echo mkdir=$?`,
            "echo y > ./here; echo cwd=$?",
            `mv ./here ${d.other}/moved; echo move=$?`,
          ].join("; ");
          const on = await isolate(["exec", ...hostRoot(who.nobody), "--share", "mount", "--", "sh", "-c", script], {
            cwd: d.cwd,
            nobody: who.nobody,
          });
          expect(on.code).toBe(0);
          expect(on.stdout).toBe("create=2\ntruncate=1\nmkdir=1\ncwd=0\nmove=1\n");
          expect(on.stderr).toContain("Permission denied");
          expect(existsSync(join(d.other, "new"))).toBe(false);
          expect(existsSync(join(d.other, "sub"))).toBe(false);
          expect(readFileSync(join(d.other, "keep"), "utf8")).toBe("content\n");
          expect(existsSync(join(d.cwd, "here"))).toBe(true);

          const off = await isolate(
            ["exec", ...hostRoot(who.nobody), "--share", "mount", "--landlock", "off", "--", "sh", "-c", script],
            {
              cwd: d.cwd,
              nobody: who.nobody,
            },
          );
          expect(off.stdout).toBe("create=0\ntruncate=0\nmkdir=0\ncwd=0\nmove=0\n");
          expect(existsSync(join(d.other, "new"))).toBe(true);
          expect(readFileSync(join(d.other, "keep"), "utf8")).toBe("");
        } finally {
          d.remove();
        }
      },
    );
  }

  landlockAs(IS_ROOT)("as root, --share mount: no sysctl write through the host's /proc", async () => {
    // kernel.domainname belongs to the sandbox's own uts namespace, and gets its own value back.
    const script = 'v=$(cat /proc/sys/kernel/domainname); echo "$v" > /proc/sys/kernel/domainname; echo $?';
    const on = await isolate(["exec", ...hostRoot(false), "--share", "mount", "--", "sh", "-c", script]);
    expect(on.stdout).toBe("2\n");
    expect(on.stderr).toContain("Permission denied");
    const off = await isolate([
      "exec",
      ...hostRoot(false),
      "--share",
      "mount",
      "--landlock",
      "off",
      "--",
      "sh",
      "-c",
      script,
    ]);
    expect(off.stdout).toBe("0\n");
  });

  for (const who of WHO) {
    landlockAs(who.ok)(`as ${who.name}, the default view still writes where it did`, async () => {
      const d = dirs(who.nobody);
      const up = join(d.other, "up");
      mkdirSync(up);
      const out = join(d.other, "stdout");
      writeFileSync(out, "");
      if (who.nobody) for (const p of [up, out]) chownSync(p, NOBODY_ID, NOBODY_ID);
      const fd = openSync(out, "w");
      try {
        const script = [
          "set -e",
          "echo a > f; mkdir -p d/e; mv f d/e/g; ln -s g d/e/l; rm -r d",
          "echo b > /tmp/t; mkfifo /tmp/p; mkdir /tmp/q; mv /tmp/t /tmp/q/; rm -r /tmp/q /tmp/p",
          "echo c > /var/tmp/v; echo d > /dev/shm/s; rm /dev/shm/s",
          "echo e > /dev/null; head -c1 /dev/zero > /dev/full 2>/dev/null || true",
          "echo f > /tmp/scratch/x; echo g > /tmp/scratch/w/y; echo h > /usr/local/z",
          // stdout is a host file the view does not show: reopening it still works
          "echo out >> /dev/stdout",
        ].join("\n");
        const p = Bun.spawn(
          [
            ...(who.nobody ? NOBODY : []),
            BIN,
            "exec",
            ...hostRoot(who.nobody),
            "--tmpfs",
            "/tmp/scratch",
            "--bind",
            `${d.other}:/tmp/scratch/w`,
            "--overlay",
            `/usr/local:${up}`,
            "--",
            "sh",
            "-c",
            script,
          ],
          { cwd: d.cwd, stdout: fd, stderr: "pipe" },
        );
        const stderr = await new Response(p.stderr).text();
        // --userns host's own warning aside.
        expect(stderr.replace(/^isolate: warning: --userns host: .*\n/, "")).toBe("");
        expect(await p.exited).toBe(0);
        expect(readFileSync(out, "utf8")).toBe("out\n");
        expect(readFileSync(join(d.other, "y"), "utf8")).toBe("g\n");
        expect(readFileSync(join(up, "z"), "utf8")).toBe("h\n");
      } finally {
        closeSync(fd);
        d.remove();
      }
    });
  }
});

needs(IS_ROOT && ABI >= 3, "root and Landlock ABI 3")(
  "as root, a cwd under a directory only capabilities can traverse is still writable (the rules are made before they go)",
  async () => {
    const t = tempDir("isolate-landlock-");
    try {
      chownSync(t.path, NOBODY_ID, NOBODY_ID);
      chmodSync(t.path, 0o700);
      const cwd = join(t.path, "cwd");
      mkdirSync(cwd);
      chmodSync(cwd, 0o777);
      // As host root: root mapped cannot reach a cwd under another owner's 0700 dir (docs/hardening.md).
      const r = await isolate(["exec", ...hostRoot(false), "--", "sh", "-c", "touch made; echo $?"], { cwd });
      expect(r.stdout).toBe("0\n");
      expect(existsSync(join(cwd, "made"))).toBe(true);
    } finally {
      t.remove();
    }
  },
);

describe("signals: nothing outside the sandbox, isolate included", () => {
  for (const who of WHO) {
    scopesAs(who.ok)(`as ${who.name}, --share pid: kill of isolate and of a host process is EPERM`, async () => {
      const host = Bun.spawn([...(who.nobody ? NOBODY : []), "sleep", "60"], { stdout: "ignore" });
      try {
        await sleep(50);
        // The command's parent is the init; the init's parent is isolate.
        const script = [
          'I=$(awk "/^PPid:/{print \\$2}" /proc/$PPID/status)',
          'test "$I" -gt 1 && echo isolate-found',
          'kill -STOP "$I"; echo stop=$?',
          'kill -CONT "$I"',
          `kill -TERM ${host.pid}; echo host=$?`,
          "kill -0 $$; echo self=$?",
        ].join("; ");
        const r = await isolate(["exec", "--share", "pid", "--", "sh", "-c", script], { nobody: who.nobody });
        if (who.nobody && r.code === 125) {
          // No cgroup delegated to nobody here: --share pid is refused before anything runs
          // (test/trust/share-pid.test.ts); nothing could signal anything.
          expect(r.stdout).toBe("");
          expect(r.stderr).toMatch(/--share pid: no cgroup can end every process of the sandbox/);
          return;
        }
        expect(r.code).toBe(0);
        expect(r.stdout).toBe("isolate-found\nstop=1\nhost=1\nself=0\n");
        expect(r.stderr).toContain("Operation not permitted");
        expect(host.exitCode).toBeNull(); // still running
      } finally {
        host.kill("SIGKILL");
        await host.exited;
      }
    });
  }

  for (const who of WHO) {
    test(`as ${who.name}, --share pid without the signal scope (--landlock off) is refused with the reason`, async () => {
      const r = await isolate(["exec", ...hostRoot(who.nobody), "--share", "pid", "--landlock", "off", "--", "true"], {
        nobody: who.nobody,
      });
      expect(r.code).toBe(125);
      expect(r.stderr).toContain("isolate: --share pid: ");
      expect(r.stderr).toContain("could signal isolate");
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    });
  }

  needs(IS_ROOT, "root (--user)")(
    "as root, --share pid --landlock off runs when the command is another uid (it cannot signal isolate)",
    async () => {
      const r = await isolate(["exec", "--share", "pid", "--landlock", "off", "--user", "65534", "--", "true"]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
    },
  );
});

describe("abstract unix sockets: not the host's under --share net", () => {
  for (const who of WHO) {
    scopesAs(who.ok)(
      `as ${who.name}: connect to a host abstract socket is EPERM; --landlock off connects`,
      async () => {
        if (!fixtures) throw new Error("the abstract-unix fixture was not built");
        const name = `isolate-landlock-${process.pid}-${who.name}`;
        const listener = Bun.spawn([...(who.nobody ? NOBODY : []), fixtures.path("abstract-unix"), "listen", name], {
          stdout: "pipe",
        });
        try {
          const reader = listener.stdout.getReader();
          const first = await reader.read();
          expect(new TextDecoder().decode(first.value)).toBe("ready\n");
          const client = fixtures.path("abstract-unix");
          const on = await isolate(["exec", "--share", "net", "--", client, "connect", name], { nobody: who.nobody });
          expect(on.stdout).toBe(`errno ${EPERM}\n`);
          const off = await isolate(["exec", "--share", "net", "--landlock", "off", "--", client, "connect", name], {
            nobody: who.nobody,
          });
          expect(off.stdout).toBe("connected hi\n");
        } finally {
          listener.kill("SIGKILL");
          await listener.exited;
        }
      },
    );
  }
});

describe("report, plan, check, flag", () => {
  for (const who of WHO) {
    scopesAs(who.ok)(`as ${who.name}, the report says whether Landlock was applied, with which ABI`, async () => {
      const on = await isolate(["exec", "--json", "--", "true"], { nobody: who.nobody });
      expect(on.code).toBe(0);
      expect(JSON.parse(on.stderr).landlock).toEqual({
        applied: true,
        abi: ABI,
        restricts: ["writes", "truncate", ...(ABI >= 5 ? ["device-ioctl"] : []), "signals", "abstract-unix-sockets"],
      });
      const off = await isolate(["exec", "--json", "--landlock", "off", "--", "true"], { nobody: who.nobody });
      expect(JSON.parse(off.stderr).landlock).toEqual({ applied: false, abi: ABI, restricts: [], reason: "off" });
    });
  }

  withLandlock("isolate plan shows the op with the writable paths; --landlock off leaves it out", async () => {
    const d = dirs(false);
    try {
      const r = await isolate(["plan", "--json", "--tmpfs", "/tmp/scratch", "--", "true"], { cwd: d.cwd });
      const ops = JSON.parse(r.stdout).ops as { op: string; phase: string; what: string; args: { write: string[] } }[];
      const ll = ops.find((o) => o.op === "landlock");
      expect(ll?.phase).toBe("command");
      expect(ll?.args.write).toEqual(expect.arrayContaining([d.cwd, "/tmp", "/var/tmp", "/tmp/scratch"]));
      expect(ll?.args.write).not.toContain("/run");
      expect(ll?.what).toStartWith("landlock: writes only beneath");
      // right after no_new_privs (before the ids and capabilities change), before seccomp
      const at = (name: string) => ops.findIndex((o) => o.op === name);
      expect(at("landlock")).toBe(at("noNewPrivs") + 1);
      expect(at("landlock")).toBeLessThan(at("seccomp"));
      const off = await isolate(["plan", "--json", "--landlock", "off", "--", "true"], { cwd: d.cwd });
      expect((JSON.parse(off.stdout).ops as { op: string }[]).some((o) => o.op === "landlock")).toBe(false);
    } finally {
      d.remove();
    }
  });

  test("isolate check reports Landlock and its ABI", async () => {
    const r = await isolate(["check", "--json"]);
    const report = JSON.parse(r.stdout);
    expect(report.landlock.abi).toBe(ABI > 0 ? ABI : null);
    const item = report.items.find((i: { id: string }) => i.id === "landlock");
    expect(item.value).toContain(ABI > 0 ? `ABI ${ABI}` : "unavailable");
  });

  test("--landlock takes on, off or auto", async () => {
    const r = await isolate(["exec", "--landlock", "maybe", "--", "true"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain("--landlock");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    const on = await isolate(["exec", "--landlock", "on", "--", "true"]);
    expect(on.code).toBe(ABI >= 6 ? 0 : 125);
  });
});
