/** JSON seccomp policies (--seccomp FILE): validation and meaning, on the test's BPF interpreter. */
import { describe, expect, test } from "bun:test";
import { parseSpec } from "../../../src/config/parse.ts";
import { compileSeccomp } from "../../../src/facilities/seccomp/compile.ts";
import { NATIVE, syscallNumber } from "../../../src/facilities/seccomp/tables.ts";
import { runFilter, verdict } from "../../helpers/seccomp-bpf.ts";

const EPERM = 1;
const EACCES = 13;
const ENOSYS = 38;

function filterOf(policy: unknown): Uint8Array {
  const spec = parseSpec({ command: ["true"], seccomp: policy });
  const p = compileSeccomp(spec.seccomp);
  if (!p) throw new Error("no program");
  return p;
}

const call = (p: Uint8Array, name: string, args: (number | bigint)[] = []) =>
  verdict(runFilter(p, { nr: syscallNumber(name) ?? -1, arch: NATIVE.auditArch, args }));

describe("policy files", () => {
  test("an empty policy is the default profile", () => {
    const p = filterOf({});
    expect(call(p, "mount")).toEqual({ errno: EPERM });
    expect(call(p, "clone3")).toEqual({ errno: ENOSYS });
    expect(call(p, "read")).toBe("allow");
  });

  test("rules come before the base profile, first match wins", () => {
    const p = filterOf({
      rules: [
        { syscalls: ["mount"], action: "errno", errno: "EACCES" },
        { syscalls: ["getpid", "getppid"], action: "errno", errno: 99 },
        { syscalls: ["getpid"], action: "allow" },
        { syscalls: ["ptrace"], action: "allow" },
        { syscalls: ["uname"], action: "kill" },
        { syscalls: ["getuid"], action: "log" },
      ],
    });
    expect(call(p, "mount")).toEqual({ errno: EACCES });
    expect(call(p, "getpid")).toEqual({ errno: 99 });
    expect(call(p, "getppid")).toEqual({ errno: 99 });
    expect(call(p, "ptrace")).toBe("allow");
    expect(call(p, "uname")).toBe("kill");
    expect(call(p, "getuid")).toBe("log");
    expect(call(p, "umount2")).toEqual({ errno: EPERM });
  });

  test("an allowlist: base none, default errno; exit paths stay allowed", () => {
    const p = filterOf({
      base: "none",
      defaultAction: "errno",
      defaultErrno: "ENOSYS",
      rules: [{ syscalls: ["read", "write", "execve"], action: "allow" }],
    });
    expect(call(p, "read")).toBe("allow");
    expect(call(p, "execve")).toBe("allow");
    expect(call(p, "openat")).toEqual({ errno: ENOSYS });
    expect(call(p, "exit_group")).toBe("allow");
    expect(call(p, "exit")).toBe("allow");
    // base none: no ENOSYS band for new numbers, the default action rules them.
    expect(verdict(runFilter(p, { nr: NATIVE.max + 1, arch: NATIVE.auditArch }))).toEqual({ errno: ENOSYS });
    // The architecture guard is always there.
    expect(verdict(runFilter(p, { nr: 3, arch: 0x40000003 }))).toBe("kill");
  });

  test("argument conditions: eq, ne, anySet, maskedEq, on the low 32 bits, all must hold", () => {
    const p = filterOf({
      base: "none",
      rules: [
        { syscalls: ["socket"], action: "errno", args: [{ index: 0, op: "eq", value: 17 }] },
        { syscalls: ["personality"], action: "errno", args: [{ index: 0, op: "ne", value: 0 }] },
        { syscalls: ["mmap"], action: "errno", args: [{ index: 2, op: "anySet", value: 4 }] },
        {
          syscalls: ["openat"],
          action: "errno",
          errno: "EACCES",
          args: [
            { index: 2, op: "maskedEq", mask: 3, value: 1 },
            { index: 0, op: "eq", value: 5 },
          ],
        },
      ],
    });
    expect(call(p, "socket", [17])).toEqual({ errno: EPERM });
    expect(call(p, "socket", [0x100000000n + 17n])).toEqual({ errno: EPERM });
    expect(call(p, "socket", [2])).toBe("allow");
    expect(call(p, "personality", [0])).toBe("allow");
    expect(call(p, "personality", [8])).toEqual({ errno: EPERM });
    expect(call(p, "mmap", [0, 4096, 7])).toEqual({ errno: EPERM });
    expect(call(p, "mmap", [0, 4096, 3])).toBe("allow");
    expect(call(p, "openat", [5, 0, 0o101])).toEqual({ errno: EACCES });
    expect(call(p, "openat", [5, 0, 0])).toBe("allow");
    expect(call(p, "openat", [6, 0, 1])).toBe("allow");
    // A failed condition leaves the number intact for the rules after it.
    expect(call(p, "read")).toBe("allow");
  });

  test("bad policies are rejected with the field and the reason", () => {
    const bad = (policy: unknown, re: RegExp) =>
      expect(() => parseSpec({ command: ["true"], seccomp: policy })).toThrow(re);
    bad({ rules: [{ syscalls: ["nope"], action: "allow" }] }, /"nope": unknown syscall/);
    bad({ rules: [{ syscalls: ["read"], action: "maybe" }] }, /action must be/);
    bad({ rules: [{ syscalls: ["read"], action: "errno", errno: "EWHAT" }] }, /unknown errno/);
    bad({ rules: [{ syscalls: ["read"], action: "allow", errno: "EPERM" }] }, /only for action "errno"/);
    bad({ rules: [{ syscalls: [], action: "allow" }] }, /at least one syscall/);
    bad({ rules: [{ syscalls: ["read"], action: "allow", args: [{ index: 6, op: "eq", value: 1 }] }] }, /0-5/);
    bad(
      { rules: [{ syscalls: ["read"], action: "allow", args: [{ index: 0, op: "eq", value: 2 ** 32 }] }] },
      /32 bits/,
    );
    bad(
      { rules: [{ syscalls: ["read"], action: "allow", args: [{ index: 0, op: "eq", value: 1, mask: 1 }] }] },
      /mask/,
    );
    bad({ base: "docker" }, /base must be/);
    bad({ defaultAction: "allow", extra: 1 }, /seccomp/);
  });
});
