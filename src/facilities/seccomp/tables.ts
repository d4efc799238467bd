/**
 * The native architecture's syscall numbers, generated at build time from the
 * kernel headers by scripts/gen-syscalls.ts (build/syscalls.json).
 */

export interface ArchInfo {
  readonly arch: string;
  /** AUDIT_ARCH_* of the native ABI: any other value in seccomp_data.arch is a foreign ABI. */
  readonly auditArch: number;
  /** Numbers with this bit set are another ABI on the same arch (x86 x32); 0 when there is none. */
  readonly abiBit: number;
  /** Highest syscall number the headers know. Newer ones are unknown to the profile. */
  readonly max: number;
}

interface Table extends ArchInfo {
  readonly syscalls: Readonly<Record<string, number>>;
}

let table: Table | undefined;

/**
 * Loaded at first use. The plain default filter is assembled at build time,
 * so a default run never needs the table (an object literal of ~400 entries,
 * each one work at start for nothing).
 */
function load(): Table {
  table ??= require("../../../build/syscalls.json") as Table;
  return table;
}

/** The native architecture (each field read from the table at first use). */
export const NATIVE: ArchInfo = {
  get arch() {
    return load().arch;
  },
  get auditArch() {
    return load().auditArch;
  },
  get abiBit() {
    return load().abiBit;
  },
  get max() {
    return load().max;
  },
};

/** The number of a syscall on the native architecture, or undefined when it has none. */
export function syscallNumber(name: string): number | undefined {
  const numbers = load().syscalls;
  return Object.hasOwn(numbers, name) ? numbers[name] : undefined;
}

export function syscallNames(): string[] {
  return Object.keys(load().syscalls);
}

/** A name, or a decimal syscall number (for calls newer than the headers). */
export function resolveSyscall(nameOrNumber: string): number | undefined {
  if (/^\d{1,4}$/.test(nameOrNumber)) {
    const n = Number(nameOrNumber);
    const { abiBit } = load();
    return n < abiBit || abiBit === 0 ? n : undefined;
  }
  return syscallNumber(nameOrNumber);
}
