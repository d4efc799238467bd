/** Linux capability names and numbers (linux/capability.h), for --cap-add. */

export const CAPABILITIES = [
  "CHOWN",
  "DAC_OVERRIDE",
  "DAC_READ_SEARCH",
  "FOWNER",
  "FSETID",
  "KILL",
  "SETGID",
  "SETUID",
  "SETPCAP",
  "LINUX_IMMUTABLE",
  "NET_BIND_SERVICE",
  "NET_BROADCAST",
  "NET_ADMIN",
  "NET_RAW",
  "IPC_LOCK",
  "IPC_OWNER",
  "SYS_MODULE",
  "SYS_RAWIO",
  "SYS_CHROOT",
  "SYS_PTRACE",
  "SYS_PACCT",
  "SYS_ADMIN",
  "SYS_BOOT",
  "SYS_NICE",
  "SYS_RESOURCE",
  "SYS_TIME",
  "SYS_TTY_CONFIG",
  "MKNOD",
  "LEASE",
  "AUDIT_WRITE",
  "AUDIT_CONTROL",
  "SETFCAP",
  "MAC_OVERRIDE",
  "MAC_ADMIN",
  "SYSLOG",
  "WAKE_ALARM",
  "BLOCK_SUSPEND",
  "AUDIT_READ",
  "PERFMON",
  "BPF",
  "CHECKPOINT_RESTORE",
] as const;

export const CAP = Object.fromEntries(CAPABILITIES.map((name, i) => [name, i])) as Record<
  (typeof CAPABILITIES)[number],
  number
>;

/** "CAP_NET_ADMIN", "net_admin" or "NET_ADMIN" -> 12; undefined when unknown. */
export function capNumber(name: string): number | undefined {
  const n = name.toUpperCase().replace(/^CAP_/, "");
  const i = (CAPABILITIES as readonly string[]).indexOf(n);
  return i < 0 ? undefined : i;
}

export function capName(n: number): string {
  return `CAP_${CAPABILITIES[n] ?? String(n)}`;
}

/** A capability bit mask as names, e.g. "CAP_KILL, CAP_NET_RAW" or "none". */
export function capList(mask: number | bigint): string {
  const m = BigInt(mask);
  const names: string[] = [];
  for (let i = 0; i < 64; i++) if (m & (1n << BigInt(i))) names.push(capName(i));
  return names.length ? names.join(", ") : "none";
}

export function capMask(caps: readonly number[]): bigint {
  return caps.reduce((m, c) => m | (1n << BigInt(c)), 0n);
}
