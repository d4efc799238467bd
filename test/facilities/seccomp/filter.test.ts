/** The seccomp programs isolate builds, run on the test's own BPF interpreter. */
import { describe, expect, test } from "bun:test";
import { DEFAULT_SECCOMP_BASE64 } from "../../../build/seccomp-default.ts";
import { parseSpec } from "../../../src/config/parse.ts";
import { Assembler, decodeProgram, RET } from "../../../src/facilities/seccomp/bpf.ts";
import { compileSeccomp, DEFAULT_SECCOMP, type SeccompSetting } from "../../../src/facilities/seccomp/compile.ts";
import { AF_ALG, AF_VSOCK, CLONE_NS, DENIED } from "../../../src/facilities/seccomp/profiles.ts";
import { NATIVE, syscallNumber } from "../../../src/facilities/seccomp/tables.ts";
import { runFilter, type SeccompData, verdict } from "../../helpers/seccomp-bpf.ts";

const EPERM = 1;
const ENOSYS = 38;
const AUDIT_ARCH_I386 = 0x40000003;
const AUDIT_ARCH_AARCH64 = 0xc00000b7;
const AUDIT_ARCH_X86_64 = 0xc000003e;

const nr = (name: string): number => {
  const n = syscallNumber(name);
  if (n === undefined) throw new Error(`no syscall ${name} on ${NATIVE.arch}`);
  return n;
};

function program(s: SeccompSetting = DEFAULT_SECCOMP): Uint8Array {
  const p = compileSeccomp(s);
  if (!p) throw new Error("no program");
  return p;
}

const call = (p: Uint8Array, name: string, args: (number | bigint)[] = [], extra: Partial<SeccompData> = {}) =>
  verdict(runFilter(p, { nr: nr(name), arch: NATIVE.auditArch, args, ...extra }));

describe("default profile", () => {
  const p = program();

  test("every denied syscall this architecture has fails with EPERM", () => {
    const present = DENIED.filter((n) => syscallNumber(n) !== undefined);
    expect(present.length).toBeGreaterThan(45);
    for (const name of present) expect([name, call(p, name)]).toEqual([name, { errno: EPERM }]);
  });

  test("the issue's list is all in it", () => {
    for (const name of [
      "mount",
      "umount2",
      "pivot_root",
      "move_mount",
      "open_tree",
      "fsopen",
      "fsconfig",
      "fsmount",
      "fspick",
      "mount_setattr",
      "keyctl",
      "add_key",
      "request_key",
      "bpf",
      "perf_event_open",
      "userfaultfd",
      "kexec_load",
      "kexec_file_load",
      "init_module",
      "finit_module",
      "delete_module",
      "open_by_handle_at",
      "ptrace",
      "process_vm_readv",
      "process_vm_writev",
      "swapon",
      "swapoff",
      "reboot",
      "settimeofday",
      "clock_settime",
      "clock_adjtime",
      "io_uring_setup",
      "io_uring_enter",
      "io_uring_register",
    ]) {
      expect(DENIED).toContain(name);
    }
  });

  test("ordinary calls are allowed", () => {
    for (const name of ["read", "write", "openat", "close", "mmap", "execve", "execveat", "getpid", "wait4", "futex"]) {
      expect([name, call(p, name)]).toEqual([name, "allow"]);
    }
    for (const name of ["exit", "exit_group", "rt_sigreturn"]) expect(call(p, name)).toBe("allow");
  });

  test("clone3 says it does not exist, so libcs fall back to clone", () => {
    expect(call(p, "clone3")).toEqual({ errno: ENOSYS });
  });

  test("clone and unshare with any namespace flag fail with EPERM", () => {
    for (const [flag, bit] of Object.entries(CLONE_NS)) {
      expect([flag, call(p, "unshare", [bit])]).toEqual([flag, { errno: EPERM }]);
      // CLONE_NEWTIME sits in clone()'s exit-signal byte: clone cannot ask for it.
      if (flag !== "NEWTIME") expect([flag, call(p, "clone", [bit | 17])]).toEqual([flag, { errno: EPERM }]);
    }
    expect(call(p, "clone", [CLONE_NS.NEWUSER | CLONE_NS.NEWNS | 17])).toEqual({ errno: EPERM });
  });

  test("clone for threads and fork, and unshare without namespaces, are allowed", () => {
    const THREAD = 0x3d0f00; // CLONE_VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|SETTLS|PARENT_SETTID|CHILD_CLEARTID
    expect(call(p, "clone", [THREAD])).toBe("allow");
    expect(call(p, "clone", [17])).toBe("allow");
    expect(call(p, "unshare", [0x400 /* CLONE_FILES */])).toBe("allow");
    // The kernel reads only the low 32 bits of clone's flags: high garbage is not a namespace.
    expect(call(p, "clone", [0xffffffff00000011n])).toBe("allow");
  });

  test("socket: AF_VSOCK and AF_ALG fail with EPERM, others are allowed", () => {
    expect(call(p, "socket", [AF_VSOCK, 1, 0])).toEqual({ errno: EPERM });
    expect(call(p, "socket", [AF_ALG, 5, 0])).toEqual({ errno: EPERM });
    // int argument: the high half of the register does not matter to the kernel, nor to the filter.
    expect(call(p, "socket", [0xdeadbeef00000000n | BigInt(AF_VSOCK), 1, 0])).toEqual({ errno: EPERM });
    for (const af of [1 /* unix */, 2 /* inet */, 10 /* inet6 */, 16 /* netlink */]) {
      expect(call(p, "socket", [af, 1, 0])).toBe("allow");
    }
  });

  test("a foreign ABI is killed: i386 (int $0x80), other arches, x32 numbers", () => {
    for (const n of [0, 1, 20, 120, 400]) {
      expect(verdict(runFilter(p, { nr: n, arch: AUDIT_ARCH_I386 }))).toBe("kill");
    }
    const foreign = NATIVE.auditArch === AUDIT_ARCH_X86_64 ? AUDIT_ARCH_AARCH64 : AUDIT_ARCH_X86_64;
    expect(verdict(runFilter(p, { nr: nr("getpid"), arch: foreign }))).toBe("kill");
    if (NATIVE.abiBit) {
      expect(verdict(runFilter(p, { nr: NATIVE.abiBit | nr("getpid"), arch: NATIVE.auditArch }))).toBe("kill");
      expect(verdict(runFilter(p, { nr: NATIVE.abiBit | nr("mount"), arch: NATIVE.auditArch }))).toBe("kill");
      // -1 is not x32: it is a call a tracer skipped (test/facilities/seccomp/nosuid.test.ts).
      expect(verdict(runFilter(p, { nr: -1, arch: NATIVE.auditArch }))).toBe("allow");
    }
  });

  test("numbers newer than the headers get ENOSYS", () => {
    expect(verdict(runFilter(p, { nr: NATIVE.max + 1, arch: NATIVE.auditArch }))).toEqual({ errno: ENOSYS });
    expect(verdict(runFilter(p, { nr: NATIVE.max + 17, arch: NATIVE.auditArch }))).toEqual({ errno: ENOSYS });
  });

  test("the program opens with the architecture guard the C side checks, and fits the kernel's limit", () => {
    const insns = decodeProgram(p);
    expect(insns[0]).toEqual({ code: 0x20, jt: 0, jf: 0, k: 4 });
    expect(insns[1]).toEqual({ code: 0x15, jt: 1, jf: 0, k: NATIVE.auditArch });
    expect(insns[2]).toEqual({ code: 0x06, jt: 0, jf: 0, k: RET.KILL_PROCESS });
    expect(insns.length).toBeLessThan(400);
  });
});

describe("--seccomp-allow / --seccomp-deny / --seccomp none", () => {
  test("allow wins over the profile", () => {
    const p = program({ profile: "default", allow: ["ptrace", "clone3"], deny: [] });
    expect(call(p, "ptrace")).toBe("allow");
    expect(call(p, "clone3")).toBe("allow");
    expect(call(p, "mount")).toEqual({ errno: EPERM });
  });

  test("deny adds EPERM for an allowed call", () => {
    const p = program({ profile: "default", allow: [], deny: ["uname", "getpid"] });
    expect(call(p, "uname")).toEqual({ errno: EPERM });
    expect(call(p, "getpid")).toEqual({ errno: EPERM });
    expect(call(p, "getppid")).toBe("allow");
  });

  test("none: no program at all; none with a deny list: just those, behind the arch guard", () => {
    expect(compileSeccomp({ profile: "none", allow: [], deny: [] })).toBeNull();
    const p = program({ profile: "none", allow: [], deny: ["ptrace"] });
    expect(call(p, "ptrace")).toEqual({ errno: EPERM });
    expect(call(p, "mount")).toBe("allow");
    expect(verdict(runFilter(p, { nr: 20, arch: AUDIT_ARCH_I386 }))).toBe("kill");
  });

  test("flags are validated: unknown names, and a name both allowed and denied", () => {
    expect(() => parseSpec({ command: ["true"], seccompAllow: ["no_such_call"] })).toThrow(
      /"no_such_call": unknown syscall/,
    );
    expect(() => parseSpec({ command: ["true"], seccompAllow: ["ptrace"], seccompDeny: ["ptrace"] })).toThrow(
      /both allowed and denied/,
    );
    expect(() => parseSpec({ command: ["true"], seccomp: "none", seccompAllow: ["ptrace"] })).toThrow(
      /nothing to allow/,
    );
    // A number stands for a call newer than the headers.
    const s = parseSpec({ command: ["true"], seccompAllow: [String(NATIVE.max + 3)] });
    const p = program(s.seccomp);
    expect(verdict(runFilter(p, { nr: NATIVE.max + 3, arch: NATIVE.auditArch }))).toBe("allow");
    expect(verdict(runFilter(p, { nr: NATIVE.max + 4, arch: NATIVE.auditArch }))).toEqual({ errno: ENOSYS });
  });
});

describe("the assembler", () => {
  test("refuses jumps longer than 255, backward labels and undefined labels", () => {
    const a = new Assembler().jeq(1, "far");
    for (let i = 0; i < 300; i++) a.ret(0);
    a.label("far").ret(0);
    expect(() => a.assemble()).toThrow(/too long/);
    const b = new Assembler().label("back").ret(0).jeq(1, "back").ret(0);
    expect(() => b.assemble()).toThrow(/behind/);
    expect(() => new Assembler().jeq(1, "nowhere").ret(0).assemble()).toThrow(/undefined label/);
  });

  test("refuses constants that are not u32", () => {
    expect(() => new Assembler().ret(2 ** 32)).toThrow(/u32/);
    expect(() => new Assembler().ret(-1)).toThrow(/u32/);
  });
});

test("the default program made at build time is the one the profile assembles now", () => {
  const fresh = compileSeccomp(DEFAULT_SECCOMP);
  expect(fresh).not.toBeNull();
  expect(Buffer.from(fresh ?? []).toString("base64")).toBe(DEFAULT_SECCOMP_BASE64);
});
