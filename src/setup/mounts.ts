/**
 * The filesystem view: the host's own files, read-only, shared exactly as asked.
 *
 * Default view (any new mount namespace):
 *   /            the host's / (or --rootfs DIR), every submount read-only, nosuid, nodev
 *   /proc        fresh for the new pid namespace; Docker's masked paths hidden,
 *                its read-only paths read-only
 *   /dev         a sealed tmpfs with a few host nodes bound in, a private devpts and shm
 *   /tmp, /var/tmp  private tmpfs
 *   /run, /var/run  an empty sealed tmpfs: host daemons' sockets are out of reach
 *   /sys         read-only (from the host), firmware and powercap hidden
 *   the cwd      bound read-write at the same path (--ro-cwd, --no-cwd)
 * then the Spec's mount entries in order, then pivot_root with the old root detached.
 *
 * Executors: ffi/op_mount.c. Flags: ffi/view.h.
 */

import { nodeFs } from "../host/files.ts";
import { dirname } from "../host/paths.ts";
import type { Host } from "../host/probe.ts";
import { type Op, op } from "../plan/op.ts";
import { type Mount, within } from "../spec/mounts.ts";
import type { Spec } from "../spec/schema.ts";
import { newNamespaces } from "./namespaces.ts";
import { checkMount, checkRootfs, type Layer } from "./view-check.ts";

/** Op flags; the same values as ffi/view.h. */
export const VIEW = {
  RO: 0x1,
  DEV: 0x2,
  OPTIONAL: 0x4,
  SEAL: 0x8,
  NOEXEC: 0x10,
  SHM: 0x20,
  USERXATTR: 0x40,
  MKWORK: 0x80,
} as const;

/** The kernel's MOUNT_ATTR_* bits. */
export const MOUNT_ATTR = { RDONLY: 0x1, NOSUID: 0x2, NODEV: 0x4, NOEXEC: 0x8 } as const;

/** Docker's masked paths: each reads empty or is absent inside. */
export const MASKED_PATHS = [
  "/proc/acpi",
  "/proc/asound",
  "/proc/interrupts",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/sched_debug",
  "/proc/scsi",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/sys/devices/virtual/powercap",
  "/sys/firmware",
] as const;

/** Docker's read-only paths. */
export const READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"] as const;

/** The only device nodes inside (bound from the host's /dev). */
export const DEV_NODES = ["null", "zero", "full", "random", "urandom", "tty"] as const;

/** Links in /dev: name, target. */
export const DEV_LINKS = [
  ["fd", "/proc/self/fd"],
  ["stdin", "/proc/self/fd/0"],
  ["stdout", "/proc/self/fd/1"],
  ["stderr", "/proc/self/fd/2"],
  ["ptmx", "pts/ptmx"],
] as const;

/** Where the caller's directory is never bound: the root itself and the kernel's filesystems. */
const NO_CWD_BIND = ["/proc", "/dev", "/sys"];

/** What is at `path` in the base (the host's / or the rootfs): a directory, a symlink, something else, or nothing. */
function baseKind(base: string, path: string): "dir" | "link" | "other" | "none" {
  try {
    const st = nodeFs().lstatSync(base === "/" ? path : base + path);
    return st.isDirectory() ? "dir" : st.isSymbolicLink() ? "link" : "other";
  } catch {
    return "none";
  }
}

interface Built {
  readonly ops: Op[];
  readonly layers: Layer[];
}

function defaultView(spec: Spec, host: Host, fresh: readonly string[]): Built {
  const base = spec.rootfs ?? "/";
  const ops: Op[] = [];
  const layers: Layer[] = [{ dst: "/", kind: "host", src: base }];
  const own = (dst: string) => layers.push({ dst, kind: "own" });

  ops.push(op("mountRoot", { source: base, attrs: MOUNT_ATTR.RDONLY | MOUNT_ATTR.NOSUID | MOUNT_ATTR.NODEV }));
  if (spec.rootfs !== undefined) {
    ops.push(op("bind", { src: "/sys", dst: "/sys", flags: VIEW.RO | VIEW.OPTIONAL }));
    layers.push({ dst: "/sys", kind: "host", src: "/sys" });
  }

  // /proc: fresh for a new pid namespace; with the host's pids, the host's (read-only).
  if (fresh.includes("pid")) {
    ops.push(op("mountProc", { dst: "/proc", flags: 0 }));
    layers.push({ dst: "/proc", kind: "kernel" });
  } else if (spec.rootfs !== undefined) {
    ops.push(op("bind", { src: "/proc", dst: "/proc", flags: VIEW.RO }));
    layers.push({ dst: "/proc", kind: "kernel" });
  }
  // --allow-nested: a nested sandbox may mount a proc of its own only where
  // one is fully visible (no mount over any part of it), so /proc stays as the
  // kernel makes it; src/setup/nesting.ts refuses this for a host-root command.
  const procAsIs = spec.allowNested && fresh.includes("pid");
  for (const path of MASKED_PATHS)
    if (!(procAsIs && path.startsWith("/proc/"))) ops.push(op("mask", { path, flags: 0 }));
  if (!procAsIs)
    for (const path of READONLY_PATHS) ops.push(op("readonly", { path, flags: VIEW.OPTIONAL | VIEW.NOEXEC }));

  // devpts may name the tty group only where it is mapped: not in a new user
  // namespace, nor in one isolate runs in (a container's, `unshare -U`'s).
  const ttyGroup = !fresh.includes("user") && host.initialUserNs;
  const pts = `newinstance,ptmxmode=0666,mode=620${ttyGroup ? ",gid=5" : ""}`;
  const sharedIpc = !fresh.includes("ipc");
  ops.push(
    op("mountDev", {
      dst: "/dev",
      nodes: [...DEV_NODES],
      links: DEV_LINKS.flat(),
      ptsOptions: pts,
      flags: VIEW.SEAL | (sharedIpc ? 0 : VIEW.SHM),
    }),
  );
  own("/dev");
  // With the host's IPC namespace, its POSIX shared memory too.
  if (sharedIpc) {
    ops.push(op("bind", { src: "/dev/shm", dst: "/dev/shm", flags: VIEW.OPTIONAL }));
    layers.push({ dst: "/dev/shm", kind: "host", src: "/dev/shm" });
  }

  // Private scratch, and an empty, sealed /run. A symlink (/var/run -> /run) already points inside.
  const scratch: [string, number, number][] = [
    ["/tmp", 0o1777, 0],
    ["/var/tmp", 0o1777, 0],
    ["/run", 0o755, VIEW.SEAL | VIEW.NOEXEC],
    ["/var/run", 0o755, VIEW.SEAL | VIEW.NOEXEC],
  ];
  // The init skips one that is missing or a symlink in the base (OPTIONAL);
  // only checking entries against the layers needs to know which, here.
  for (const [dst, mode, flags] of scratch) {
    ops.push(op("tmpfs", { dst, size: 0, mode, flags: flags | VIEW.OPTIONAL }));
    if (spec.mounts.length > 0 && baseKind(base, dst) === "dir") own(dst);
  }

  // With the host's network, its resolver config (often a link into /run) keeps working.
  if (!fresh.includes("net") && spec.rootfs === undefined) {
    try {
      const real = nodeFs().realpathSync("/etc/resolv.conf");
      if (within(real, "/run")) {
        const dir = dirname(real);
        ops.push(op("bind", { src: dir, dst: dir, flags: VIEW.RO | VIEW.OPTIONAL }));
        layers.push({ dst: dir, kind: "host", src: dir });
      }
    } catch {}
  }

  const cwd = host.cwd;
  if (spec.cwdMount !== "none" && cwd !== "/" && !NO_CWD_BIND.some((d) => within(cwd, d))) {
    ops.push(op("bind", { src: cwd, dst: cwd, flags: spec.cwdMount === "ro" ? VIEW.RO : 0 }));
    layers.push({ dst: cwd, kind: "host", src: cwd });
  }
  return { ops, layers };
}

function entryOps(m: Mount, fresh: readonly string[], layers: Layer[]): Op[] {
  switch (m.type) {
    case "bind":
    case "ro-bind":
    case "dev-bind": {
      const flags = m.type === "ro-bind" ? VIEW.RO : m.type === "dev-bind" ? VIEW.DEV : 0;
      layers.push({ dst: m.dst, kind: "host", src: m.src });
      return [op("bind", { src: m.src, dst: m.dst, flags })];
    }
    case "tmpfs":
      layers.push({ dst: m.dst, kind: "own" });
      return [op("tmpfs", { dst: m.dst, size: m.size ?? 0, mode: m.mode, flags: 0 })];
    case "overlay": {
      layers.push({ dst: m.dst, kind: m.upper === undefined ? "own" : "opaque" });
      const userxattr = fresh.includes("user") ? VIEW.USERXATTR : 0;
      if (m.upper === undefined) return [op("overlay", { dst: m.dst, upper: "", work: "", flags: userxattr })];
      return [
        op("overlay", {
          dst: m.dst,
          upper: m.upper,
          work: m.work ?? overlayWork(m.upper),
          flags: userxattr | VIEW.MKWORK,
        }),
      ];
    }
    case "mask":
      layers.push({ dst: m.path, kind: "opaque" });
      return [op("mask", { path: m.path, flags: 0 })];
    case "symlink":
      return [op("symlink", { target: m.target, dst: m.dst })];
    case "dir":
      return [op("mkdir", { dst: m.dst, mode: m.mode })];
  }
}

/** overlayfs's work dir for an upper dir given alone: beside it, on the same filesystem. */
export function overlayWork(upper: string): string {
  const slash = upper.lastIndexOf("/");
  return `${upper.slice(0, slash)}/.${upper.slice(slash + 1)}.isolate-work`;
}

export function mountOps(spec: Spec, host: Host): Op[] {
  const fresh = newNamespaces(spec, host);
  if (!fresh.includes("mount")) return [];
  // Kernels before 5.12 lack mount_setattr: the mountRoot op fails with ENOSYS,
  // which view-describe.ts turns into "Linux 5.12 or later is needed".
  if (spec.rootfs !== undefined) checkRootfs(spec.rootfs);
  const { ops, layers } = defaultView(spec, host, fresh);
  for (const m of spec.mounts) {
    checkMount(m, layers);
    ops.push(...entryOps(m, fresh, layers));
  }
  ops.push(op("pivotRoot", {}));
  return ops;
}
