/**
 * `isolate check` as a library call: what this host and this user can do,
 * each finding with the remedy when it is a "no". `ok` is true when
 * everything the default sandbox needs works.
 */

import { NAMESPACES, type Namespace } from "../config/schema.ts";
import { type FieldNamer, nameFields, field as specField } from "../errors.ts";
import { LANDLOCK_FULL_ABI } from "../facilities/landlock/ops.ts";
import { CLONE_FLAG } from "../facilities/namespaces/ops.ts";
import { pastaNeeds } from "../facilities/net/pasta.ts";
import { loadShim, type ShimProbes } from "../shim/load.ts";
import { type CgroupLayout, readCgroupLayout } from "./cgroup-layout.ts";
import { errnoName, errnoText } from "./errno.ts";
import { nodeFs, readText } from "./files.ts";
import { idMappedHere, ownIdMap, probeHost, setgroupsAllowed } from "./probe.ts";
import { findHelper, readSubIds, SUBGID, SUBUID, type SubRange, userName } from "./subid.ts";
import { type Blocker, readUsernsKnobs, type UsernsKnobs, usernsBlocker, usernsBlockersNow } from "./userns.ts";

export interface CheckItem {
  /** Stable key, e.g. "kernel", "namespace.pid", "cgroup.memory". */
  readonly id: string;
  readonly ok: boolean;
  /** Needed by the default sandbox (`isolate exec -- CMD` with no flags). */
  readonly required: boolean;
  /** What was found, in words. */
  readonly value: string;
  /** What to do about a "no". */
  readonly remedy?: string;
}

export interface NamespaceProbe {
  readonly ok: boolean;
  /** Created inside a new user namespace (how isolate creates them without root). */
  readonly viaUserNs: boolean;
  readonly errno?: string;
}

export interface HostReport {
  readonly ok: boolean;
  readonly kernel: { readonly release: string; readonly ok: boolean };
  readonly user: { readonly uid: number; readonly gid: number; readonly name: string | null; readonly root: boolean };
  readonly namespaces: Readonly<Record<Namespace, NamespaceProbe>>;
  readonly userns: {
    /** Can an unprivileged user create one (as root: probed as nobody)? */
    readonly unprivileged: boolean;
    readonly knobs: UsernsKnobs;
    readonly blockers: readonly Blocker[];
  };
  readonly cgroups: CgroupLayout;
  readonly seccomp: { readonly filter: boolean; readonly ownMode: number };
  readonly landlock: { readonly abi: number | null };
  readonly overlayInUserns: boolean;
  readonly pidfd: boolean;
  readonly clone3: boolean;
  readonly idmapHelpers: {
    readonly newuidmap: string | null;
    readonly newgidmap: string | null;
    readonly subuid: readonly SubRange[];
    readonly subgid: readonly SubRange[];
  };
  readonly items: readonly CheckItem[];
}

/** Linux 5.12: mount_setattr (the read-only view); close_range (5.9) and clone3 with CLONE_INTO_CGROUP (5.7) came before it. */
export const MIN_KERNEL: readonly [number, number] = [5, 12];

/** The kernel config option and the per-user limit of each namespace. */
const NS_CONFIG: Record<Namespace, [config: string, limit: string]> = {
  mount: ["", "user.max_mnt_namespaces"],
  uts: ["CONFIG_UTS_NS", "user.max_uts_namespaces"],
  ipc: ["CONFIG_IPC_NS", "user.max_ipc_namespaces"],
  user: ["CONFIG_USER_NS", "user.max_user_namespaces"],
  pid: ["CONFIG_PID_NS", "user.max_pid_namespaces"],
  net: ["CONFIG_NET_NS", "user.max_net_namespaces"],
  cgroup: ["CONFIG_CGROUPS", "user.max_cgroup_namespaces"],
  time: ["CONFIG_TIME_NS", "user.max_time_namespaces"],
};

/** Namespaces the default sandbox creates. */
const DEFAULT_NS: readonly Namespace[] = ["pid", "mount", "uts", "ipc", "net", "cgroup"];

const NOBODY = 65534;

/** Controllers isolate's limits use (v2 names and their v1 counterparts); the report lists all. */
const LIMIT_CONTROLLERS = ["memory", "cpu", "cpuacct", "cpuset", "pids", "io", "blkio", "freezer"];
const ENOSPC = 28;

/** Mount points strictly below /proc (binfmt_misc sits on an always-empty directory and does not count). */
export function mountsOverProc(mountinfo: string): string[] {
  const out: string[] = [];
  for (const line of mountinfo.split("\n")) {
    const at = line.split(" ")[4];
    if (at?.startsWith("/proc/") && at !== "/proc/sys/fs/binfmt_misc") out.push(at);
  }
  return out;
}

export function kernelAtLeast(release: string, [major, minor]: readonly [number, number]): boolean {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (!m) return false;
  const a = Number(m[1]);
  const b = Number(m[2]);
  return a > major || (a === major && b >= minor);
}

function nsRemedy(ns: Namespace, errno: number, knobs: UsernsKnobs, viaUserNs: boolean): string {
  const [config, limit] = NS_CONFIG[ns];
  const viaUser = viaUserNs || ns === "user";
  if (errno === ENOSPC && viaUser && knobs.maxUserNamespaces === 0) {
    const b = usernsBlocker(errno, knobs);
    if (b) return `${b.why}: ${b.remedy}`;
  }
  if (errno === ENOSPC) return `the limit ${limit} is reached or 0: as root, sysctl -w ${limit}=15000`;
  const b = viaUserNs || ns === "user" ? usernsBlocker(errno, knobs) : usernsBlocker(errno, knobs, false);
  if (b) return `${b.why}: ${b.remedy}`;
  if (errno === 22 && config) return `this kernel lacks ${config}: use a kernel built with it`;
  return `refused with ${errnoName(errno)} (a security module or a seccomp filter around isolate?)`;
}

interface Probes {
  readonly shim: ShimProbes;
  readonly knobs: UsernsKnobs;
  readonly layout: CgroupLayout;
}

/**
 * What this host and user can do: namespaces, cgroups, Landlock, seccomp...,
 * each "no" with its remedy (`isolate check`). Probes may be replaced in tests.
 *
 * @example
 * const report = checkHost();
 * for (const item of report.items) if (!item.ok) console.log(item.id, item.remedy ?? "");
 *
 * The words name Spec fields (`userns: "auto"`); `namer` names them another
 * way (the CLI: its flags).
 */
export function checkHost(probes?: Partial<Probes>, namer?: FieldNamer): HostReport {
  const host = probeHost();
  const shim = probes?.shim ?? loadShim().probe;
  const knobs = probes?.knobs ?? readUsernsKnobs();
  const cgroups = probes?.layout ?? readCgroupLayout(host.uid);
  const items: CheckItem[] = [];
  const item = (i: CheckItem) => {
    const { remedy, ...rest } = i;
    items.push(i.ok || !remedy ? rest : { ...rest, remedy });
  };
  const name = userName(host.uid) ?? null;

  // Kernel.
  const kernel = (readText("/proc/sys/kernel/osrelease") ?? "unknown").trim();
  const kernelOk = kernelAtLeast(kernel, MIN_KERNEL);
  item({
    id: "kernel",
    ok: kernelOk,
    required: true,
    value: `${kernel} (${MIN_KERNEL.join(".")} or later needed)`,
    remedy: `upgrade to Linux ${MIN_KERNEL.join(".")} or later`,
  });

  // Kernel features.
  const f = shim.features();
  const filtered = f.seccompMode === 2 ? usernsBlocker(38, knobs) : undefined;
  item({
    id: "clone3",
    ok: f.clone3 > 0,
    required: true,
    value: f.clone3 > 0 ? "available" : `unavailable: ${errnoText(-f.clone3)}`,
    remedy: filtered
      ? `a seccomp filter around isolate refuses clone3: ${filtered.remedy}`
      : "isolate spawns with clone3: needs Linux 5.3 or later",
  });
  item({
    id: "pidfd",
    ok: f.pidfd > 0,
    required: true,
    value: f.pidfd > 0 ? "available" : `unavailable: ${errnoText(-f.pidfd)}`,
    remedy: "isolate waits and signals through pidfds: needs Linux 5.3 or later",
  });
  item({
    id: "seccomp",
    ok: f.seccomp > 0,
    required: true,
    value:
      (f.seccomp > 0 ? "filters with kill-process available" : `unavailable: ${errnoText(-f.seccomp)}`) +
      (f.seccompMode === 2 ? "; isolate itself runs under a seccomp filter" : ""),
    remedy: `the default profile needs CONFIG_SECCOMP_FILTER (Linux 4.14+): use such a kernel, or run with ${specField("seccomp", "none")} (no syscall filter)`,
  });
  const ll = f.landlock;
  item({
    id: "landlock",
    ok: ll >= LANDLOCK_FULL_ABI,
    required: false,
    value:
      ll >= LANDLOCK_FULL_ABI
        ? `ABI ${ll}: the command's writes, signals and abstract sockets are confined by default`
        : ll >= 2
          ? `ABI ${ll}: the command's writes are confined; signals and abstract sockets are not (ABI ${LANDLOCK_FULL_ABI}), so ${specField("share", "pid")} is refused unless the command runs as another uid`
          : ll === 1
            ? "ABI 1: too old to use (renames across directories would fail)"
            : `unavailable: ${errnoText(-ll)}`,
    remedy:
      ll === -95
        ? "Landlock is built in but not enabled: add landlock to the lsm= kernel parameter"
        : ll > 0
          ? "Linux 6.12 or later scopes signals and abstract unix sockets too"
          : "needs Linux 5.13+ (6.12+ for every part isolate uses) built with CONFIG_SECURITY_LANDLOCK",
  });

  // Namespaces, as this user: without root, each inside a new user namespace, as isolate makes them.
  const namespaces = {} as Record<Namespace, NamespaceProbe>;
  for (const ns of NAMESPACES) {
    const viaUserNs = !host.root && ns !== "user";
    const flags = CLONE_FLAG[ns] | (host.root ? 0 : CLONE_FLAG.user);
    const r = shim.ns(flags, -1, -1);
    namespaces[ns] = r === 0 ? { ok: true, viaUserNs } : { ok: false, viaUserNs, errno: errnoName(-r) };
    const required = DEFAULT_NS.includes(ns) || (ns === "user" && !host.root);
    item({
      id: `namespace.${ns}`,
      ok: r === 0,
      required,
      value:
        r === 0
          ? `can be created${viaUserNs ? " (in a new user namespace)" : ""}`
          : `cannot be created: ${errnoText(-r)}`,
      remedy: r === 0 ? "" : nsRemedy(ns, -r, knobs, viaUserNs),
    });
  }

  // Where isolate itself runs: the initial user namespace, or a container's / unshare's.
  const nested = !host.initialUserNs;
  const mapText = (kind: "uid" | "gid") =>
    ownIdMap(kind)
      .map((l) => `${l.inside}-${l.inside + l.count - 1} -> ${l.outside}-${l.outside + l.count - 1}`)
      .join(", ") || "nothing";
  item({
    id: "userns.own",
    ok: true,
    required: false,
    value: nested
      ? `isolate runs in a user namespace (uids ${mapText("uid")}; gids ${mapText("gid")}${setgroupsAllowed() ? "" : "; setgroups denied"}): only these ids exist here, and the parent locks its mounts' flags, its sysctls and its cgroups`
      : "the initial one (the host's)",
  });
  // A user namespace may mount a fresh /proc only where no locked mount covers part of one.
  const overProc = mountsOverProc(readText("/proc/self/mountinfo") ?? "");
  if (nested || !host.root) {
    item({
      id: "proc.visible",
      ok: overProc.length === 0,
      required: false,
      value:
        overProc.length === 0
          ? "/proc has nothing mounted over it: a sandbox's fresh /proc can be mounted"
          : `mounted over: ${overProc.slice(0, 6).join(" ")}${overProc.length > 6 ? " ..." : ""}; where the parent namespace locks these (a container's masked paths, an outer isolate's), a fresh /proc cannot be mounted`,
      remedy: `an outer isolate: give it ${specField("allowNested")}; a container: an unmasked /proc (docker/podman --security-opt systempaths=unconfined); else run with ${specField("share", "pid")}`,
    });
  }

  // Unprivileged user namespaces: as root, ask as nobody (where nobody exists).
  const nobodyHere = host.initialUserNs || (idMappedHere("uid", NOBODY) && idMappedHere("gid", NOBODY));
  const unprivErr = !host.root
    ? shim.ns(CLONE_FLAG.user, -1, -1)
    : nobodyHere
      ? shim.ns(CLONE_FLAG.user, NOBODY, NOBODY)
      : 0;
  const blockers = usernsBlockersNow(knobs);
  const blocker = unprivErr === 0 ? undefined : (usernsBlocker(-unprivErr, knobs) ?? blockers[0]);
  item({
    id: "userns.unprivileged",
    ok: unprivErr === 0,
    required: !host.root,
    value:
      unprivErr === 0
        ? host.root && !nobodyHere
          ? "not probed: no uid but root's is mapped in this user namespace, so no other user exists"
          : `allowed${host.root ? " (probed as nobody)" : ""}`
        : `blocked: ${blocker?.why ?? errnoText(-unprivErr)}`,
    remedy: blocker?.remedy ?? `refused with ${errnoName(-unprivErr)}`,
  });

  // Overlayfs inside a user namespace (rootless overlay mounts).
  const dir = nodeFs().existsSync("/tmp") ? "/tmp" : (process.env.TMPDIR ?? "/var/tmp");
  const ov = shim.overlay(dir);
  const stages = ["", "write its id maps", "make mounts private", "mount a tmpfs", "make directories", "mount overlay"];
  item({
    id: "overlayfs.userns",
    ok: ov.stage === 0,
    required: false,
    value: ov.stage === 0 ? "mounts" : `fails to ${stages[ov.stage] ?? "start"}: ${errnoText(ov.errno)}`,
    remedy:
      ov.stage === 5
        ? "overlayfs in user namespaces needs Linux 5.11 or later"
        : "user namespaces are not usable here (see userns.unprivileged)",
  });

  // Id map helpers and subordinate ranges (for --userns auto).
  const newuidmap = findHelper("newuidmap") ?? null;
  const newgidmap = findHelper("newgidmap") ?? null;
  item({
    id: "newuidmap",
    ok: newuidmap !== null && newgidmap !== null,
    required: false,
    value: newuidmap && newgidmap ? `${newuidmap}, ${newgidmap}` : "not installed",
    remedy: `needed for ${specField("userns", "auto")} and ${specField("mapUid")} without root: apt-get install uidmap`,
  });
  const who = { uid: host.uid, name: name ?? undefined };
  const subuid = readSubIds(SUBUID, who);
  const subgid = readSubIds(SUBGID, who);
  const ranges = (r: readonly SubRange[]) => r.map((x) => `${x.start}-${x.start + x.count - 1}`).join(", ");
  item({
    id: "subids",
    ok: subuid.length > 0 && subgid.length > 0,
    required: false,
    value:
      subuid.length && subgid.length
        ? `uids ${ranges(subuid)}; gids ${ranges(subgid)}`
        : `no range for ${name ?? host.uid} in ${subuid.length ? SUBGID : SUBUID}`,
    remedy: `needed for ${specField("userns", "auto")}: as root, usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${name ?? host.uid}`,
  });

  // cgroups: layout and what this user may do there (limits need it; the default sandbox does not).
  const v1 = [...new Set(cgroups.controllers.filter((c) => c.version === "v1").map((c) => c.controller))];
  item({
    id: "cgroup.layout",
    ok: cgroups.mode !== "none",
    required: false,
    value:
      cgroups.mode === "none"
        ? "no cgroup filesystem mounted"
        : `${cgroups.mode}${cgroups.v2 ? `; cgroup2 at ${cgroups.v2.mountPoint}, controllers: ${cgroups.v2.controllers.join(" ") || "none"}` : ""}${v1.length ? `; v1: ${v1.join(" ")}` : ""}`,
    remedy: "mount cgroup2 at /sys/fs/cgroup (limits need cgroups)",
  });
  for (const c of cgroups.controllers) {
    if (!LIMIT_CONTROLLERS.includes(c.controller)) continue;
    const where = c.version === "none" ? "not mounted" : `${c.version}, cgroup ${c.cgroup} (${c.dir})`;
    const usable = c.version !== "none" && (c.version === "v1" || c.enabled !== false) && (c.writable || c.delegated);
    const access = c.delegated ? "delegated" : c.writable ? "writable" : "not writable";
    const enabled = c.version === "v2" && c.enabled === false ? ", not enabled in this cgroup" : "";
    item({
      id: `cgroup.${c.controller}`,
      ok: usable,
      required: false,
      value: c.version === "none" ? where : `${where}: ${access}${enabled}`,
      remedy:
        c.version === "none"
          ? `no hierarchy has the ${c.controller} controller: limits using it cannot be enforced`
          : host.root
            ? `enable it in the parent's cgroup.subtree_control`
            : "limits without root need a delegated cgroup v2 subtree (e.g. systemd-run --user --scope -p Delegate=yes isolate ..., or a cgroup root created and chowned to you)",
    });
  }

  // --net pasta's helpers (pasta, nft, setpriv) with their Debian packages, and /dev/net/tun.
  for (const n of pastaNeeds(host.root)) item({ ...n, required: false });

  const ok = items.every((i) => i.ok || !i.required);
  return {
    ok,
    kernel: { release: kernel, ok: kernelOk },
    user: { uid: host.uid, gid: host.gid, name, root: host.root },
    namespaces,
    userns: {
      unprivileged: unprivErr === 0,
      knobs,
      blockers: blockers.map((b) => ({
        knob: nameFields(b.knob, namer),
        why: nameFields(b.why, namer),
        remedy: nameFields(b.remedy, namer),
      })),
    },
    cgroups,
    seccomp: { filter: f.seccomp > 0, ownMode: f.seccompMode },
    landlock: { abi: f.landlock > 0 ? f.landlock : null },
    overlayInUserns: ov.stage === 0,
    pidfd: f.pidfd > 0,
    clone3: f.clone3 > 0,
    idmapHelpers: { newuidmap, newgidmap, subuid, subgid },
    items: items.map((i) => ({
      ...i,
      value: nameFields(i.value, namer),
      ...(i.remedy === undefined ? {} : { remedy: nameFields(i.remedy, namer) }),
    })),
  };
}
