/**
 * The native architecture's syscall numbers, generated at build time from the
 * kernel headers by scripts/gen-syscalls.ts (build/syscalls.json).
 */
import table from "../../../build/syscalls.json" with { type: "json" };

export interface ArchInfo {
  readonly arch: string;
  /** AUDIT_ARCH_* of the native ABI: any other value in seccomp_data.arch is a foreign ABI. */
  readonly auditArch: number;
  /** Numbers with this bit set are another ABI on the same arch (x86 x32); 0 when there is none. */
  readonly abiBit: number;
  /** Highest syscall number the headers know. Newer ones are unknown to the profile. */
  readonly max: number;
}

const numbers: Readonly<Record<string, number>> = table.syscalls;

export const NATIVE: ArchInfo = {
  arch: table.arch,
  auditArch: table.auditArch,
  abiBit: table.abiBit,
  max: table.max,
};

/** The number of a syscall on the native architecture, or undefined when it has none. */
export function syscallNumber(name: string): number | undefined {
  return Object.hasOwn(numbers, name) ? numbers[name] : undefined;
}

export function syscallNames(): string[] {
  return Object.keys(numbers);
}

/** A name, or a decimal syscall number (for calls newer than the headers). */
export function resolveSyscall(nameOrNumber: string): number | undefined {
  if (/^\d{1,4}$/.test(nameOrNumber)) {
    const n = Number(nameOrNumber);
    return n < NATIVE.abiBit || NATIVE.abiBit === 0 ? n : undefined;
  }
  return syscallNumber(nameOrNumber);
}
