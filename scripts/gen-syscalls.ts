/**
 * Writes build/syscalls.json: the native architecture's syscall numbers, read
 * from the kernel headers (linux-libc-dev) through the C preprocessor, plus
 * what the seccomp architecture guard needs (AUDIT_ARCH value, x32 bit).
 * A build output: run by build-native.ts, never edited by hand; compared with
 * libseccomp's resolver by test/facilities/seccomp/tables.test.ts.
 */

export interface SyscallTable {
  /** `uname -m` spelling: x86_64 or aarch64. */
  readonly arch: string;
  /** AUDIT_ARCH_* value seccomp reports for the native ABI. */
  readonly auditArch: number;
  /** Syscall numbers at or above this belong to another ABI on the same arch (x32), or 0. */
  readonly abiBit: number;
  /** Highest number in the table. */
  readonly max: number;
  /** Where the numbers came from. */
  readonly source: string;
  readonly syscalls: Readonly<Record<string, number>>;
}

const ARCHES: Record<string, { arch: string; auditArch: number; abiBit: number }> = {
  x64: { arch: "x86_64", auditArch: 0xc000003e, abiBit: 0x40000000 },
  arm64: { arch: "aarch64", auditArch: 0xc00000b7, abiBit: 0 },
};

/** `#define __NR_name value` lines, with values that name other macros resolved. */
export function parseDefines(text: string): Record<string, number> {
  const raw = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^#define\s+(__NR3264_\w+|__NR_\w+)\s+(.+?)\s*$/.exec(line);
    if (m?.[1] && m[2]) raw.set(m[1], m[2]);
  }
  const value = (expr: string, depth = 0): number | undefined => {
    const e = expr.replace(/^\((.*)\)$/, "$1").trim();
    if (/^\d+$/.test(e)) return Number(e);
    if (depth > 8) return undefined;
    const ref = raw.get(e);
    if (ref !== undefined) return value(ref, depth + 1);
    const sum = /^(\w+)\s*\+\s*(\d+)$/.exec(e);
    if (sum?.[1] && sum[2]) {
      const base = value(sum[1], depth + 1);
      return base === undefined ? undefined : base + Number(sum[2]);
    }
    return undefined;
  };
  const out: Record<string, number> = {};
  for (const [name, expr] of raw) {
    if (!name.startsWith("__NR_")) continue;
    const n = value(expr);
    const sys = name.slice(5);
    // Not syscalls: counts and ranges some headers define next to them.
    if (n === undefined || sys === "syscalls" || sys.startsWith("arch_specific_syscall")) continue;
    out[sys] = n;
  }
  return out;
}

export function syscallTable(cc = process.env.CC ?? "cc"): SyscallTable {
  const arch = ARCHES[process.arch];
  if (!arch) throw new Error(`gen-syscalls: unsupported architecture ${process.arch}`);
  const r = Bun.spawnSync([cc, "-E", "-dM", "-x", "c", "-"], {
    stdin: new TextEncoder().encode("#include <asm/unistd.h>\n"),
    stdout: "pipe",
    stderr: "pipe",
  });
  if (r.exitCode !== 0) {
    throw new Error(`gen-syscalls: ${cc} -E failed (is linux-libc-dev installed?): ${r.stderr.toString()}`);
  }
  const syscalls = parseDefines(r.stdout.toString());
  const names = Object.keys(syscalls).sort((a, b) => (syscalls[a] ?? 0) - (syscalls[b] ?? 0));
  if (names.length < 200) throw new Error(`gen-syscalls: only ${names.length} syscalls found in <asm/unistd.h>`);
  const sorted: Record<string, number> = {};
  for (const n of names) sorted[n] = syscalls[n] ?? 0;
  const max = Math.max(...Object.values(sorted));
  return { ...arch, max, source: "<asm/unistd.h> (linux-libc-dev)", syscalls: sorted };
}

if (import.meta.main) {
  const t = syscallTable();
  console.log(JSON.stringify(t, null, 2));
}
