/**
 * The seccomp filter in the kernel: a probe calls every syscall the default
 * profile denies with arguments the kernel would reject anyway. Under the
 * filter each fails with EPERM (clone3 with ENOSYS); with the filter off and
 * every capability kept, none does, so EPERM is the filter's doing. Foreign
 * ABIs (i386 through int $0x80, x32) kill the process.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { DENIED } from "../../../src/facilities/seccomp/profiles.ts";
import { syscallNumber } from "../../../src/facilities/seccomp/tables.ts";
import { type Built, buildFixtures, HAVE_GCC, probeResults } from "../../helpers/harden.ts";
import { BIN, IS_ROOT, isolate, needs, tempDir } from "../../helpers/index.ts";

const EPERM = 1;
const ENOSYS = 38;
const EBADF = 9;
const EFAULT = 14;
const SIGSYS_EXIT = 128 + 31;
const X86_64 = process.arch === "x64";

let built: Built;
beforeAll(async () => {
  if (!HAVE_GCC) return;
  built = await buildFixtures(["syscall-probe"]);
  if (X86_64) {
    const statics = await buildFixtures(["foreign-abi"], { static: true });
    Bun.spawnSync(["cp", statics.path("foreign-abi"), built.path("foreign-abi")]);
    statics.remove();
  }
});
afterAll(() => built?.remove());

/** Every denied call the probe made (it covers the whole list, which the first test checks). */
const deniedNames = (m: Map<string, number>) =>
  [...m.keys()].filter((k) => !k.startsWith("allowed:") && k !== "clone3");

function expectBlocked(m: Map<string, number>) {
  for (const name of deniedNames(m)) expect([name, m.get(name)]).toEqual([name, EPERM]);
  expect(m.get("clone3")).toBe(ENOSYS);
  // What the filter lets through fails the ordinary way, or works.
  expect(m.get("allowed:read")).toBe(EBADF);
  for (const n of ["openat", "uname", "getcwd", "name_to_handle_at"])
    expect([n, m.get(`allowed:${n}`)]).toEqual([n, EFAULT]);
  expect(m.get("allowed:socket_unix")).toBe(0);
  expect(m.get("allowed:unshare_files")).toBe(0);
}

const gcc = needs(HAVE_GCC, "gcc, to build the probes");
const gccRoot = needs(HAVE_GCC && IS_ROOT, "gcc and root (to run as root and as nobody)");

describe("the dangerous-syscall probe", () => {
  gcc("covers every call of the default profile this architecture has", async () => {
    const r = await isolate(["exec", "--", built.path("syscall-probe")]);
    const m = probeResults(r.stdout);
    for (const name of DENIED.filter((n) => syscallNumber(n) !== undefined)) expect(m.has(name)).toBe(true);
    for (const ns of ["user", "mount", "pid", "net", "uts", "ipc", "cgroup", "time"]) {
      expect(m.has(`unshare:${ns}`)).toBe(true);
    }
    expect(m.has("socket:vsock") && m.has("socket:alg") && m.has("clone:user")).toBe(true);
  });

  gccRoot("root: every denied call fails with EPERM, clone3 with ENOSYS", async () => {
    const r = await isolate(["exec", "--", built.path("syscall-probe")]);
    expect(r.code).toBe(0);
    expectBlocked(probeResults(r.stdout));
  });

  gccRoot(
    "root, filter off, every capability kept: none of them gives EPERM (so the filter is what refuses)",
    async () => {
      const r = await isolate([
        "exec",
        "--userns",
        "host",
        "--seccomp",
        "none",
        "--cap-add",
        "ALL",
        "--",
        built.path("syscall-probe"),
      ]);
      expect(r.code).toBe(0);
      const m = probeResults(r.stdout);
      const eperm = deniedNames(m).filter((n) => m.get(n) === EPERM);
      expect(eperm).toEqual([]);
      expect(m.get("clone3")).not.toBe(ENOSYS);
      expect(m.size).toBeGreaterThan(60);
    },
  );

  gccRoot("root --uid 0 in a user namespace: blocked the same", async () => {
    const r = await isolate(["exec", "--uid", "0", "--", built.path("syscall-probe")]);
    expectBlocked(probeResults(r.stdout));
  });

  gccRoot("nobody, and nobody --uid 0: blocked the same", async () => {
    for (const args of [[], ["--uid", "0"]]) {
      const r = await isolate(["exec", ...args, "--", built.path("syscall-probe")], { nobody: true });
      expect(r.code).toBe(0);
      expectBlocked(probeResults(r.stdout));
    }
  });

  gccRoot("--seccomp-allow and --seccomp-deny change single calls", async () => {
    const r = await isolate([
      "exec",
      "--seccomp-allow",
      "ptrace,clone3",
      "--seccomp-deny",
      "name_to_handle_at",
      "--",
      built.path("syscall-probe"),
    ]);
    const m = probeResults(r.stdout);
    expect(m.get("ptrace")).toBe(3); // ESRCH: it reached the kernel
    expect(m.get("clone3")).toBe(EFAULT);
    expect(m.get("allowed:name_to_handle_at")).toBe(EPERM);
    expect(m.get("mount")).toBe(EPERM);
  });

  gccRoot("--seccomp FILE: a JSON policy", async () => {
    const t = tempDir();
    try {
      const file = join(t.path, "policy.json");
      writeFileSync(
        file,
        JSON.stringify({
          rules: [
            { syscalls: ["uname"], action: "errno", errno: "EACCES" },
            { syscalls: ["socket"], action: "errno", errno: "EAFNOSUPPORT", args: [{ index: 0, op: "eq", value: 1 }] },
          ],
        }),
      );
      const r = await isolate(["exec", "--seccomp", file, "--", built.path("syscall-probe")]);
      const m = probeResults(r.stdout);
      expect(m.get("allowed:uname")).toBe(13);
      expect(m.get("allowed:socket_unix")).toBe(97);
      expect(m.get("mount")).toBe(EPERM); // base: the default profile
    } finally {
      t.remove();
    }
  });
});

describe("foreign ABIs are killed", () => {
  const abi = needs(HAVE_GCC && X86_64 && IS_ROOT, "x86_64, gcc with static glibc, and root");
  /**
   * Some kernels refuse int $0x80 from 64-bit code before any syscall entry
   * (ia32 emulation off: SIGSEGV, with or without a filter). There the i386
   * call never reaches the filter; what holds is that it never returns.
   */
  const i386Runs = async () =>
    (await isolate(["exec", "--seccomp", "none", "--", built.path("foreign-abi"), "i386"])).code === 0;

  abi("i386 int $0x80 and x32 syscalls end the process with SIGSYS, as root and as nobody", async () => {
    const kernelRunsI386 = await i386Runs();
    for (const nobody of [false, true]) {
      for (const kind of ["i386", "x32"]) {
        const r = await isolate(["exec", "--", built.path("foreign-abi"), kind], { nobody });
        const want = kind === "i386" && !kernelRunsI386 ? 128 + 11 : SIGSYS_EXIT;
        expect([kind, nobody, r.code, r.stdout]).toEqual([kind, nobody, want, ""]);
      }
    }
  });

  abi("without the filter the same calls return (so the probe does make them)", async () => {
    const i386 = await isolate(["exec", "--seccomp", "none", "--", built.path("foreign-abi"), "i386"]);
    if (i386.code !== 128 + 11) {
      expect(i386.code).toBe(0);
      expect(i386.stdout).toMatch(/^i386 getpid: \d+/);
    }
    const x32 = await isolate(["exec", "--seccomp", "none", "--", built.path("foreign-abi"), "x32"]);
    expect(x32.code).toBe(0);
    expect(x32.stdout).toMatch(/^x32 getpid: -?\d+/);
  });
});

describe("escapes that need the kernel surface fail", () => {
  const cases: { name: string; args: string[]; nobody: boolean }[] = [
    { name: "root", args: [], nobody: false },
    { name: "root --uid 0", args: ["--uid", "0"], nobody: false },
    { name: "nobody", args: [], nobody: true },
    { name: "nobody --uid 0", args: ["--uid", "0"], nobody: true },
  ];
  for (const c of cases) {
    needs(IS_ROOT, "root (to run as root and as nobody)")(
      `${c.name}: nested unshare -U, mount -o remount,rw /, umount /proc all fail`,
      async () => {
        const script = [
          "unshare -U true 2>/dev/null; echo unshare=$?",
          "unshare -Ur true 2>/dev/null; echo unshare_r=$?",
          "mount -o remount,rw / 2>/dev/null; echo remount=$?",
          "umount /proc 2>/dev/null; echo umount=$?",
          "umount -l /proc 2>/dev/null; echo umount_lazy=$?",
          "test -r /proc/self/status; echo proc_still_there=$?",
        ].join("; ");
        const r = await isolate(["exec", ...c.args, "--", "sh", "-c", script], { nobody: c.nobody });
        expect(r.code).toBe(0);
        const got = Object.fromEntries(
          r.stdout
            .trim()
            .split("\n")
            .map((l) => l.split("=")),
        );
        expect(got.unshare).not.toBe("0");
        expect(got.unshare_r).not.toBe("0");
        expect(got.remount).not.toBe("0");
        expect(got.umount).not.toBe("0");
        expect(got.umount_lazy).not.toBe("0");
        expect(got.proc_still_there).toBe("0");
      },
    );
  }

  test("the sandbox cannot run isolate inside it: clone3 is filtered, and the error names the filter", async () => {
    // What a user of isolate inside a seccomp-filtered container sees.
    const r = await isolate(["exec", ...(IS_ROOT ? ["--user", "65534"] : []), "--", BIN, "exec", "--", "true"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/isolate: spawn: .*seccomp filter/);
    // Inside an isolate sandbox the remedy is the outer run's flag (test/facilities/namespaces/nested.test.ts).
    expect(r.stderr).toMatch(/give the outer isolate --allow-nested/);
  });
});

describe("processes outside the sandbox", () => {
  const outside = needs(HAVE_GCC && IS_ROOT, "gcc and root");
  outside("cannot be signalled or ptraced from inside", async () => {
    const victim = Bun.spawn(["sleep", "60"], { stdout: "ignore" });
    try {
      const probe = built.path("syscall-probe");
      const run = async (args: string[], nobody: boolean) => {
        const r = await isolate(["exec", ...args, "--", probe, "ptrace", String(victim.pid)], { nobody });
        expect(r.code).toBe(0);
        return Object.fromEntries(probeResults(r.stdout));
      };
      const ESRCH = 3;
      // In its own pid namespace the host's processes have no pid at all.
      expect(await run([], false)).toEqual({ ptrace_attach: EPERM, kill0: ESRCH });
      expect(await run([], true)).toEqual({ ptrace_attach: EPERM, kill0: ESRCH });
      // Sharing the host's pid namespace: another uid, no capability, no ptrace.
      // As nobody, --share pid needs a cgroup to end the sandbox with: with none delegated it is
      // refused before anything runs (test/trust/share-pid.test.ts).
      const shared = await isolate(
        ["exec", "--share", "pid", "--", built.path("syscall-probe"), "ptrace", String(victim.pid)],
        {
          nobody: true,
        },
      );
      expect(shared.code).toBe(125);
      expect(shared.stdout).toBe("");
      expect(await run(["--share", "pid", "--user", "65534"], false)).toEqual({ ptrace_attach: EPERM, kill0: EPERM });
      expect(victim.exitCode).toBeNull();
    } finally {
      victim.kill("SIGKILL");
      await victim.exited;
    }
  });
});
