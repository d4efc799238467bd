/**
 * The syscall table generated at build time from the kernel headers
 * (build/syscalls.json) against libseccomp's own resolver, scmp_sys_resolver
 * (Debian package `seccomp`).
 */
import { expect, test } from "bun:test";
import { parseDefines } from "../../../scripts/gen-syscalls.ts";
import { DENIED } from "../../../src/facilities/seccomp/profiles.ts";
import { NATIVE, syscallNames, syscallNumber } from "../../../src/facilities/seccomp/tables.ts";
import { needs } from "../../helpers/index.ts";

const resolver = Bun.which("scmp_sys_resolver");

/** Resolve many names, a few processes at a time: "name number" per name, -1 when unknown to libseccomp. */
async function resolve(names: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const queue = [...names];
  const worker = async () => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      const p = Bun.spawn([resolver as string, "-a", NATIVE.arch, name], { stdout: "pipe", stderr: "pipe" });
      const text = (await new Response(p.stdout).text()).trim();
      await p.exited;
      out.set(name, Number(text));
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return out;
}

needs(resolver !== null, "scmp_sys_resolver (apt-get install seccomp)")(
  "every syscall libseccomp knows has the same number in the generated table",
  async () => {
    const names = syscallNames();
    expect(names.length).toBeGreaterThan(300);
    const got = await resolve(names);
    const known = names.filter((n) => (got.get(n) ?? -1) >= 0);
    const mismatched = known
      .filter((n) => got.get(n) !== syscallNumber(n))
      .map((n) => `${n}: ${syscallNumber(n)} vs ${got.get(n)}`);
    expect(mismatched).toEqual([]);
    // libseccomp may lag the headers by a few new calls, not more.
    expect(known.length).toBeGreaterThan(names.length - 10);
    // Every call the default profile denies and this arch has is known to both.
    for (const d of DENIED.filter((n) => syscallNumber(n) !== undefined)) expect(got.get(d)).toBe(syscallNumber(d));
  },
  60_000,
);

test("the table describes the native architecture", () => {
  const arch = process.arch === "x64" ? "x86_64" : "aarch64";
  expect(NATIVE.arch).toBe(arch);
  if (arch === "x86_64") {
    expect(NATIVE.auditArch).toBe(0xc000003e);
    expect(NATIVE.abiBit).toBe(0x40000000);
    expect(syscallNumber("read")).toBe(0);
    expect(syscallNumber("clone3")).toBe(435);
  }
  expect(NATIVE.max).toBe(Math.max(...syscallNames().map((n) => syscallNumber(n) ?? 0)));
});

test("the header parser resolves aliases and sums, and skips non-syscalls", () => {
  const t = parseDefines(
    [
      "#define __NR_read 63",
      "#define __NR3264_fcntl 25",
      "#define __NR_fcntl __NR3264_fcntl",
      "#define __NR_arch_specific_syscall 244",
      "#define __NR_riscv_flush (__NR_arch_specific_syscall + 15)",
      "#define __NR_syscalls 451",
      "#define __NR_weird some_expression(1)",
    ].join("\n"),
  );
  expect(t).toEqual({ read: 63, fcntl: 25, riscv_flush: 259 });
});
