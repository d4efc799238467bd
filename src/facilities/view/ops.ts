/**
 * The filesystem view: the host's own files, read-only, shared exactly as asked.
 *
 * Default view (any new mount namespace):
 *   /            the host's / (or --rootfs DIR), every submount read-only, nosuid, nodev
 *   /proc        fresh for the new pid namespace; Docker's masked paths hidden,
 *                its read-only paths read-only
 *   /dev         a sealed tmpfs with a few host nodes bound in, a private devpts and shm (64M)
 *   /tmp, /var/tmp  private tmpfs, each of half the --memory limit, else of 25% of RAM
 *   /run, /var/run  an empty sealed tmpfs: host daemons' sockets are out of reach
 *   /sys         read-only (from the host), firmware and powercap hidden
 *   /sys/fs/cgroup  with a new cgroup namespace, never the host's tree: an
 *                empty read-only tmpfs, holding (at the host's mount points)
 *                a fresh read-only cgroup mount of each hierarchy where the
 *                sandbox has a cgroup of its own, so it shows only that
 *                subtree; see cgroupViewOps()
 *   the cwd      bound read-write at the same path (--ro-cwd, --no-cwd)
 *   secrets      credential stores masked (secrets.ts), unless --unmask
 * then the Spec's mount entries in order (a destination the view lacks gets a
 * place first: mountpoints.ts), then pivot_root with the old root detached.
 *
 * When root runs mapped to an unprivileged range (src/facilities/identity/ops.ts),
 * the supervisor makes the mounts of the binds the caller asks for (VIEW.IDMAP:
 * the init takes a passed mount fd). The writable ones (the cwd, --bind,
 * --dev-bind) are idmapped with the sandbox's own maps: files keep their host
 * owners, and what the command creates belongs to root on the host; a
 * writable directory fails closed where its filesystem cannot be idmapped (a
 * file, such as a device node, is then bound plainly). Read-only binds
 * (--ro-bind, --ro-cwd) are not idmapped, only resolved as the caller: root's
 * files there stay nobody's, as in the rest of the view, so /etc/shadow,
 * 0600 files and root-only sockets stay out of reach. Only the supervisor can
 * make an idmapped mount (it needs CAP_SYS_ADMIN over the filesystem's user
 * namespace, the initial one); it passes them to the init with GO.
 *
 * Host sources: a writable one (the cwd, --bind, --dev-bind, an overlay's
 * upper and work) is never reached through a symlink, in any component: the
 * checks name the link (view-check.ts), the init opens it with
 * RESOLVE_NO_SYMLINKS and mounts from the fd. A read-only one (--ro-bind,
 * --rootfs) may be: the plan carries its real path, so `isolate plan` shows
 * what is mounted. The overlay work dir isolate makes is removed after the
 * run (src/facilities/view/scratch.ts).
 *
 * Executors: native/op_mount.c. Flags: src/plan/flags.ts.
 */

import type { Spec } from "../../config/schema.ts";
import { HostError, field as specField } from "../../errors.ts";
import { osPath, osString } from "../../host/bytes.ts";
import { lstatKind, nodeFs } from "../../host/files.ts";
import { dirname } from "../../host/paths.ts";
import type { Host } from "../../host/probe.ts";
import { VIEW } from "../../plan/flags.ts";
import { type Op, op } from "../../plan/op.ts";
import type { Resolved } from "../../plan/resolve.ts";
import { checkMount, checkRootfs, type Layer } from "./check.ts";
import { type Mount, overlayWork, within } from "./fields.ts";
import { mountPointOps } from "./mountpoints.ts";
import { checkCwdNotMasked, secretMasks } from "./secrets.ts";

/** Op flags (src/plan/flags.ts: the C side has them from there). */
export { VIEW };

/** At most this many idmapped mounts travel with GO (native/passed.h). */
export const MAX_IDMAPPED = 64;

/** /dev/shm's size (a private one: native/op_mount.c), as Docker gives it. */
export const SHM_SIZE = 64 * 1024 * 1024;
/** Without --memory, each private tmpfs given no size may hold this share of RAM (tmpfs's own default is 50%). */
export const TMPFS_RAM_PERCENT = 25;

/**
 * The size of a private tmpfs given none (/tmp, /var/tmp, --tmpfs DST): half
 * the --memory limit, so filling one ends in ENOSPC before the limit's OOM
 * kill (its pages are charged to the writer's memory cgroup either way), else
 * 25% of RAM (VIEW.PERCENT: the kernel computes it).
 */
export function defaultTmpfsSize(spec: Spec): { size: number; flags: number } {
  const memory = spec.limits.memory;
  if (memory === undefined) return { size: TMPFS_RAM_PERCENT, flags: VIEW.PERCENT };
  return { size: Math.max(4096, Math.floor(memory / 2 / 4096) * 4096), flags: 0 };
}

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
  return lstatKind(base === "/" ? path : base + path);
}

interface Built {
  readonly ops: Op[];
  readonly layers: Layer[];
}

/**
 * A read-only source as the init will mount it: the real path. Read-only
 * sources (--ro-bind, --rootfs) may be reached through symlinks, so the plan
 * names what they resolve to now; writable ones never are (view-check.ts).
 */
function resolved(path: string): string {
  try {
    return osString(nodeFs().realpathSync(osPath(path), { encoding: "buffer" }));
  } catch {
    return path; // missing or unreadable: the checks or the init say why
  }
}

function defaultView(spec: Spec, host: Host, fresh: readonly string[], idmap: number): Built {
  const base = spec.rootfs === undefined ? "/" : resolved(spec.rootfs);
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
  // kernel makes it; src/facilities/namespaces/nesting.ts refuses this for a host-root command.
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
  // (Some systems link /dev/shm to /run/shm: a writable source is passed as its real path.)
  if (sharedIpc) {
    const shm = resolved("/dev/shm");
    ops.push(op("bind", { src: shm, dst: "/dev/shm", flags: VIEW.OPTIONAL }));
    layers.push({ dst: "/dev/shm", kind: "host", src: shm, rw: true });
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
  const sized = defaultTmpfsSize(spec);
  for (const [dst, mode, flags] of scratch) {
    ops.push(op("tmpfs", { dst, size: sized.size, mode, flags: flags | sized.flags | VIEW.OPTIONAL }));
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

  // The cwd comes from getcwd(2): a path without symlinks. Writable, it is
  // bound as any writable source: the init refuses a link that appears in it since.
  const cwd = host.cwd;
  const secrets = secretMasks(spec, host);
  if (spec.cwdMount !== "none" && cwd !== "/" && !NO_CWD_BIND.some((d) => within(cwd, d))) {
    checkCwdNotMasked(secrets, cwd);
    ops.push(op("bind", { src: cwd, dst: cwd, flags: (spec.cwdMount === "ro" ? VIEW.RO : 0) | idmap }));
    layers.push({ dst: cwd, kind: "host", src: cwd, rw: spec.cwdMount !== "ro" });
  }
  // After the cwd bind: a cwd of ~ shows ~/.ssh masked too.
  for (const s of secrets) {
    // OPTIONAL: one the init cannot reach (an unmapped owner's 0700 home) needs no mask.
    ops.push(op("mask", { path: s.path, flags: VIEW.OPTIONAL }));
    layers.push({ dst: s.path, kind: "opaque" });
  }
  return { ops, layers };
}

function entryOps(m: Mount, spec: Spec, fresh: readonly string[], layers: Layer[], idmap: number): Op[] {
  switch (m.type) {
    case "bind":
    case "ro-bind":
    case "dev-bind": {
      const flags = (m.type === "ro-bind" ? VIEW.RO : m.type === "dev-bind" ? VIEW.DEV : 0) | idmap;
      const src = m.type === "ro-bind" ? resolved(m.src) : m.src;
      layers.push({ dst: m.dst, kind: "host", src, rw: m.type !== "ro-bind" });
      return [op("bind", { src, dst: m.dst, flags })];
    }
    case "tmpfs": {
      layers.push({ dst: m.dst, kind: "own" });
      const sized = m.size === undefined ? defaultTmpfsSize(spec) : { size: m.size, flags: 0 };
      return [op("tmpfs", { dst: m.dst, size: sized.size, mode: m.mode, flags: sized.flags })];
    }
    case "overlay": {
      layers.push({ dst: m.dst, kind: m.upper === undefined ? "own" : "opaque" });
      const userxattr = fresh.includes("user") ? VIEW.USERXATTR : 0;
      if (m.upper === undefined) return [op("overlay", { dst: m.dst, upper: "", work: "", flags: userxattr })];
      if (idmap) {
        // TODO: an idmapped upper (overlayfs takes idmapped layers since 5.19).
        throw new HostError(
          `${specField("mounts.overlay", m.dst)} with an upper dir: root runs mapped to an unprivileged range, and an idmapped upper is not supported yet`,
          `run with ${specField("userns", "host")} (host root, without capabilities) or ${specField("user")} UID, or use ${specField("mounts.overlay")} without an upper dir`,
        );
      }
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

/** A cgroup hierarchy the sandbox has a cgroup of its own in: where the host mounts it, and how. */
export interface CgroupMount {
  /** The host's mount point (under /sys/fs/cgroup). */
  readonly mount: string;
  /** v1: the hierarchy's controllers ("cpu,cpuacct"); "" for cgroup2. */
  readonly options: string;
}

const CGROUP_FS = "/sys/fs/cgroup";

/**
 * /sys/fs/cgroup inside a new cgroup namespace. A cgroup mount made there is
 * rooted at the namespace's root, which is the init's cgroup in each
 * hierarchy: the sandbox's own where it has one, else the supervisor's (often
 * the host's root). So the host's tree is hidden by a read-only tmpfs, and
 * only the hierarchies in `own` get a fresh (read-only) mount at the host's
 * mount point. Where the host mounts cgroup2 at /sys/fs/cgroup itself, that
 * mount is made there directly. A mount the kernel refuses leaves its
 * directory empty.
 */
export function cgroupViewOps(fresh: readonly string[], own: readonly CgroupMount[]): Op[] {
  if (!fresh.includes("cgroup")) return [];
  const whole = own.find((m) => m.mount === CGROUP_FS);
  if (whole) return [op("mountCgroup", { dst: CGROUP_FS, options: whole.options, flags: VIEW.OPTIONAL })];
  const ops: Op[] = [
    op("tmpfs", { dst: CGROUP_FS, size: 0, mode: 0o755, flags: VIEW.SEAL | VIEW.NOEXEC | VIEW.OPTIONAL }),
  ];
  for (const m of own) {
    if (!within(m.mount, CGROUP_FS) || m.mount === CGROUP_FS) continue;
    ops.push(op("mkdir", { dst: m.mount, mode: 0o555 }));
    ops.push(op("mountCgroup", { dst: m.mount, options: m.options, flags: VIEW.OPTIONAL }));
  }
  return ops;
}

/**
 * The view as the host's files make it, resolved once (src/plan/resolve.ts):
 * the default view's ops and the Spec's entries, each checked against the
 * layers below it (lstat, realpath, the credential stores to mask). Only the
 * cgroup mounts, known once the sandbox's cgroups exist, go between them.
 */
export interface ResolvedView {
  /** The default view (the root, /proc, /dev, scratch, the cwd, the masks). */
  readonly head: readonly Op[];
  /** The Spec's own mount entries, in order. */
  readonly entries: readonly Op[];
}

/** Reads the host's files; undefined without a new mount namespace. */
export function resolveView(
  spec: Spec,
  host: Host,
  fresh: readonly string[],
  mappedRoot: boolean,
): ResolvedView | undefined {
  if (!fresh.includes("mount")) return undefined;
  // Kernels before 5.12 lack mount_setattr: the mountRoot op fails with ENOSYS,
  // which view-describe.ts turns into "Linux 5.12 or later is needed".
  if (spec.rootfs !== undefined) checkRootfs(spec.rootfs);
  const idmap = mappedRoot ? VIEW.IDMAP : 0;
  const { ops: head, layers } = defaultView(spec, host, fresh, idmap);
  const entries: Op[] = [];
  for (const m of spec.mounts) {
    entries.push(...mountPointOps(m, layers));
    checkMount(m, layers);
    entries.push(...entryOps(m, spec, fresh, layers, idmap));
  }
  // The cgroup mounts between them are never binds.
  if (idmappedBinds(head).length + idmappedBinds(entries).length > MAX_IDMAPPED) {
    throw new HostError(
      `more than ${MAX_IDMAPPED} binds: root runs mapped, and each one is an idmapped mount passed to the sandbox`,
      "bind a common parent directory instead",
    );
  }
  return { head, entries };
}

/** The view's ops: reads no files (the resolved view), only places the cgroup mounts. */
export function mountOps(r: Resolved, cgroups: readonly CgroupMount[] = []): Op[] {
  if (!r.view) return [];
  return [...r.view.head, ...cgroupViewOps(r.namespaces, cgroups), ...r.view.entries, op("pivotRoot", {})];
}

/** The bind ops whose mount the supervisor makes, in plan order (the order the init takes them). */
export function idmappedBinds(ops: readonly Op[]): Extract<Op, { op: "bind" }>[] {
  return ops.filter(
    (o): o is Extract<Op, { op: "bind" }> => o.op === "bind" && (Number(o.args.flags) & VIEW.IDMAP) !== 0,
  );
}
