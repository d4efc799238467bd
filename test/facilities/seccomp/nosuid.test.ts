/**
 * The setuid guard and the tracer's skipped call, on the test's BPF
 * interpreter: every mode-setting call with S_ISUID/S_ISGID is EPERM, the
 * ordinary modes pass, the guard sits in every filter and cannot be lifted by
 * --seccomp-allow or a policy file, and number -1 is let through.
 * The same in the kernel: test/trust/nosuid.test.ts.
 */
import { describe, expect, test } from "bun:test";
import { parseSpec } from "../../../src/config/parse.ts";
import { compileSeccomp, DEFAULT_SECCOMP, type SeccompSetting } from "../../../src/facilities/seccomp/compile.ts";
import { nosuidRules } from "../../../src/facilities/seccomp/nosuid.ts";
import { NATIVE, syscallNumber } from "../../../src/facilities/seccomp/tables.ts";
import { runFilter, verdict } from "../../helpers/seccomp-bpf.ts";

const EPERM = 1;
const ENOSYS = 38;
const X86 = NATIVE.arch === "x86_64";
const O_CREAT = 0o100;
const O_TMPFILE = 0o20200000;
const O_WRONLY = 1;
const AT_FDCWD = -100;

function program(s: SeccompSetting = DEFAULT_SECCOMP, xattrWrites = false): Uint8Array {
  const p = compileSeccomp(s, { xattrWrites });
  if (!p) throw new Error("no program");
  return p;
}

const nrOf = (name: string): number => {
  const n = syscallNumber(name) ?? (name === "fchmodat2" ? 452 : name === "setxattrat" ? 463 : undefined);
  if (n === undefined) throw new Error(`no syscall ${name}`);
  return n;
};

const call = (p: Uint8Array, name: string, args: (number | bigint)[] = []) =>
  verdict(runFilter(p, { nr: nrOf(name), arch: NATIVE.auditArch, args }));

/** [name, index of the mode argument, the other arguments] of every call that sets a mode directly. */
const MODE_CALLS: [string, number][] = [
  ...(X86 ? ([["chmod", 1]] as [string, number][]) : []),
  ["fchmod", 1],
  ["fchmodat", 2],
  ["fchmodat2", 2],
  ...(X86
    ? ([
        ["creat", 1],
        ["mknod", 1],
      ] as [string, number][])
    : []),
  ["mknodat", 2],
];

function withMode(index: number, mode: number | bigint): (number | bigint)[] {
  const args: (number | bigint)[] = [AT_FDCWD, 0, 0, 0];
  args[index] = mode;
  return args;
}

const SETTINGS: [string, SeccompSetting][] = [
  ["the default profile", DEFAULT_SECCOMP],
  [
    "--seccomp-allow chmod,fchmod,fchmodat,openat,openat2",
    {
      profile: "default",
      allow: [...(X86 ? ["chmod"] : []), "fchmod", "fchmodat", "openat", "openat2"],
      deny: [],
    },
  ],
  ["--seccomp none --seccomp-deny ptrace", { profile: "none", allow: [], deny: ["ptrace"] }],
  [
    "a policy on base none that allows chmod",
    parseSpec({
      command: ["true"],
      seccomp: { base: "none", rules: [{ syscalls: ["fchmodat", "fchmod", "openat"], action: "allow" }] },
    }).seccomp,
  ],
];

describe("the setuid guard", () => {
  for (const [what, setting] of SETTINGS) {
    test(`${what}: S_ISUID, S_ISGID on every mode-setting call is EPERM; ordinary modes pass`, () => {
      const p = program(setting);
      // On the default profile a call newer than the headers is ENOSYS anyway (fchmodat2 on older headers).
      const based =
        setting.profile === "default" || (typeof setting.profile === "object" && setting.profile.base === "default");
      const okVerdict = (name: string) => (based && nrOf(name) > NATIVE.max ? { errno: ENOSYS } : "allow");
      for (const [name, i] of MODE_CALLS) {
        for (const bad of [0o4755, 0o2755, 0o6755, 0o4000, 0o2000, 0o104755 /* S_IFREG|04755 */]) {
          expect([name, bad.toString(8), call(p, name, withMode(i, bad))]).toEqual([
            name,
            bad.toString(8),
            { errno: EPERM },
          ]);
        }
        // High word garbage is ignored by the kernel (mode_t is 32-bit), and by the filter.
        expect(call(p, name, withMode(i, 0xffffffff00000000n | 0o755n))).toEqual(okVerdict(name));
        expect(call(p, name, withMode(i, 0xffffffff00000000n | 0o4755n))).toEqual({ errno: EPERM });
        for (const ok of [0, 0o755, 0o644, 0o1777, 0o777, 0o600]) {
          expect([name, ok.toString(8), call(p, name, withMode(i, ok))]).toEqual([
            name,
            ok.toString(8),
            okVerdict(name),
          ]);
        }
      }
      // open/openat: only when the call creates (O_CREAT or O_TMPFILE), where the mode counts.
      const opens: [string, number, number][] = [
        ["openat", 2, 3],
        ...(X86 ? ([["open", 1, 2]] as [string, number, number][]) : []),
      ];
      for (const [name, fi, mi] of opens) {
        const args = (flags: number, mode: number) => {
          const a: number[] = [AT_FDCWD, 0, 0, 0];
          a[fi] = flags;
          a[mi] = mode;
          return a;
        };
        expect(call(p, name, args(O_CREAT | O_WRONLY, 0o4755))).toEqual({ errno: EPERM });
        expect(call(p, name, args(O_TMPFILE | O_WRONLY, 0o2755))).toEqual({ errno: EPERM });
        expect(call(p, name, args(O_CREAT | O_WRONLY, 0o755))).toBe("allow");
        expect(call(p, name, args(O_TMPFILE | O_WRONLY, 0o600))).toBe("allow");
        // Without O_CREAT the mode is ignored by the kernel: garbage there is no reason to refuse.
        expect(call(p, name, args(O_WRONLY, 0o6777))).toBe("allow");
      }
      // openat2's mode is behind a pointer: ENOSYS, callers fall back to openat.
      expect(call(p, "openat2", [AT_FDCWD, 0, 0, 24])).toEqual({ errno: ENOSYS });
    });
  }

  test("xattr writes pass unless CAP_SETFCAP is kept; then every one is EPERM", () => {
    const names = ["setxattr", "lsetxattr", "fsetxattr", "setxattrat"].filter(
      (n) => syscallNumber(n) !== undefined || n === "setxattrat",
    );
    const plain = program();
    for (const n of names) expect([n, call(plain, n)]).toEqual([n, n === "setxattrat" ? { errno: ENOSYS } : "allow"]);
    const setfcap = program(DEFAULT_SECCOMP, true);
    for (const n of names) expect([n, call(setfcap, n)]).toEqual([n, { errno: EPERM }]);
    expect(call(setfcap, "getxattr")).toBe("allow");
  });

  test("the guard's rules name only calls this architecture has", () => {
    for (const r of nosuidRules({ xattrWrites: true })) expect(r.nrs.length).toBe(1);
    expect(nosuidRules().length).toBe(X86 ? 10 : 6);
  });
});

describe("a call a tracer skipped (number -1)", () => {
  test("is let through in every filter, not killed as a foreign ABI; x32 numbers still are", () => {
    for (const [what, setting] of SETTINGS) {
      const p = program(setting);
      expect([what, verdict(runFilter(p, { nr: -1, arch: NATIVE.auditArch }))]).toEqual([what, "allow"]);
      if (NATIVE.abiBit) {
        const x32 = NATIVE.abiBit | nrOf("getpid");
        expect([what, verdict(runFilter(p, { nr: x32, arch: NATIVE.auditArch }))]).toEqual([what, "kill"]);
        expect(verdict(runFilter(p, { nr: -2, arch: NATIVE.auditArch }))).toBe("kill");
      }
    }
  });
});
