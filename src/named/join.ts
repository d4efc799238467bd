/**
 * `exec --join NAME:NS[,NS...]`: a new sandbox that shares chosen namespaces
 * of a running named sandbox and has its own for the rest (a pod).
 *
 * The rules:
 *   - net, ipc, uts and pid can be joined. Joining pid, the new sandbox's
 *     init is not pid 1: it runs in NAME's pid namespace (setns(CLONE_NEWPID)
 *     places the children of the joiner there), a subreaper that ends every
 *     process of its command itself (native/init.c, as with --share pid); its
 *     /proc is a fresh one of that namespace; NAME's end ends it too.
 *   - mount, with pid: the new sandbox runs in NAME's view (its init joins
 *     NAME's mount namespace and builds no view: the plan is compiled as
 *     sharing the mount namespace). NAME's /proc shows NAME's pid namespace,
 *     so pid must be joined too; flags that shape a view (binds, --tmpfs,
 *     --overlay, --rootfs, --allow-nested, --net pasta's files) are refused;
 *     the working directory is / unless --cwd names one of NAME's view.
 *   - cgroup and time cannot (REFUSED says why); `isolate enter` runs a
 *     command in all of NAME's namespaces and cgroups.
 *   - user is joined with the namespaces it owns, never alone.
 *   - A namespace is joined only when NAME has it of its own (joining one it
 *     shares with the host would be the host's).
 *   - Namespaces belong to a user namespace. When NAME has its own, joining
 *     any of its namespaces joins its user namespace too (only there do the
 *     new sandbox's setup ops have the capabilities they need), and the new
 *     sandbox then has no user namespace of its own: it must ask for the same
 *     identity as NAME (the same id maps), or it is refused.
 *   - `--hostname` cannot be combined with joining uts (it would rename NAME).
 *
 * Mechanism (native/shim.c isolate_spawn_join): a first child joins with one
 * setns(pidfd, flags), then clones the init with the remaining namespaces.
 */

import type { Namespace, Spec } from "../config/schema.ts";
import { SpecError, field as specField } from "../errors.ts";
import { idMapsFor, mapText } from "../facilities/identity/idmap.ts";
import { CLONE_FLAG } from "../facilities/namespaces/ops.ts";
import type { Resolved } from "../plan/resolve.ts";
import { loadShim } from "../shim/load.ts";
import type { SpawnHooks } from "../supervisor/sandbox.ts";
import { checkName, liveness, openInit, readState } from "./state.ts";

const JOINABLE: readonly Namespace[] = ["net", "ipc", "uts", "pid", "mount", "user"];

/** Why the others cannot be joined (one line each, after "NS cannot be joined: "). */
const REFUSED: Partial<Record<Namespace, string>> = {
  cgroup:
    "a cgroup namespace is rooted at NAME's cgroups and the new sandbox runs in cgroups of its own; to run in NAME's cgroups use isolate enter NAME",
  time: "the kernel lets only a single-threaded process enter a time namespace, and the joiner shares isolate's address space; use isolate enter NAME",
};

export interface Joined {
  readonly spec: Spec;
  readonly hook: NonNullable<SpawnHooks["join"]>;
  /** Close the pidfd once the sandbox is spawned. */
  readonly fd: number;
}

/** The maps of a resolved sandbox's new user namespace, as the state records them. */
export function idmapText(r: Resolved): string | undefined {
  if (!r.namespaces.includes("user")) return undefined;
  const m = idMapsFor(r);
  return `${mapText(m.uid)}|${mapText(m.gid)}`;
}

/** Joining NAME's mount namespace: the view is NAME's, as it is. */
function checkJoinMount(spec: Spec, text: string, name: string, asked: readonly string[]): void {
  if (!asked.includes("pid")) {
    throw new SpecError(
      `${specField("join", text)}: joining mount needs pid too: ${name}'s /proc shows ${name}'s processes, not this sandbox's`,
      specField("join", `${name}:mount,pid`),
    );
  }
  const shaping = [
    ...spec.mounts.map((m) => specField(`mounts.${m.type}`)),
    ...(spec.rootfs === undefined ? [] : [specField("rootfs")]),
    ...(spec.allowNested ? [specField("allowNested")] : []),
    ...(spec.net.mode === "pasta" ? [specField("net.mode", "pasta")] : []),
  ];
  const first = shaping[0];
  if (first !== undefined) {
    throw new SpecError(
      `${specField("join", text)}: the view is ${name}'s, and ${first} would change it`,
      `drop ${first}, or do not join mount`,
    );
  }
}

export function resolveJoin(spec: Spec, flags: readonly string[]): Joined {
  if (flags.length !== 1)
    throw new SpecError(
      `${specField("join")}: one sandbox at a time`,
      `give ${specField("join")} once: NAME:NS[,NS...]`,
    );
  const text = flags[0] ?? "";
  const colon = text.indexOf(":");
  if (colon <= 0)
    throw new SpecError(`${specField("join", text)}: expected NAME:NS[,NS...]`, `e.g. ${specField("join", "web:net")}`);
  const name = checkName(text.slice(0, colon));
  const asked = text
    .slice(colon + 1)
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (asked.length === 0)
    throw new SpecError(`${specField("join", text)}: no namespace named`, `e.g. ${specField("join", "web:net")}`);
  for (const ns of asked) {
    if (!(JOINABLE as readonly string[]).includes(ns)) {
      const why = REFUSED[ns as Namespace]?.replaceAll("NAME", name) ?? "no such namespace";
      throw new SpecError(
        `${specField("join", text)}: ${ns} cannot be joined: ${why}`,
        "net, ipc, uts, pid and mount can",
      );
    }
  }
  if (asked.every((ns) => ns === "user")) {
    throw new SpecError(
      `${specField("join", text)}: user cannot be joined alone: a user namespace is joined with the namespaces it owns`,
      `name them, e.g. ${specField("join", `${name}:net`)}`,
    );
  }
  if (asked.includes("pid") && spec.namespaces.pid === false) {
    throw new SpecError(
      `${specField("join", text)}: ${specField("share", "pid")} contradicts joining ${name}'s pid namespace`,
      "drop one of them",
    );
  }
  if (asked.includes("net") && spec.net.mode !== "none") {
    throw new SpecError(
      `${specField("join", text)}: ${specField("net.mode", spec.net.mode)} would give the sandbox a network of its own, and joining ${name}'s net namespace gives it ${name}'s`,
      "drop one of them: a joined net namespace has the network NAME has".replace("NAME", name),
    );
  }
  if (asked.includes("mount")) checkJoinMount(spec, text, name, asked);
  const s = readState(name);
  if (!s) throw new SpecError(`${specField("join", text)}: no sandbox named ${name}`, "see isolate ps");
  if (liveness(s) !== "running" || !s.init) throw new SpecError(`${specField("join", text)}: ${name} is not running`);
  // Reachable first (the caller's own, and the recorded process): a state file is data.
  const fd = openInit(s);
  if (fd === null) throw new SpecError(`${specField("join", text)}: ${name} is not running`);
  try {
    const set = new Set(asked as Namespace[]);
    for (const ns of set) {
      if (!s.namespaces.includes(ns)) {
        throw new SpecError(
          `${specField("join", text)}: ${name} has no ${ns} namespace of its own (it shares the host's)`,
        );
      }
    }
    if (s.namespaces.includes("user")) set.add("user");
    if (set.has("uts") && spec.hostname !== undefined) {
      throw new SpecError(
        `${specField("join", text)}: ${specField("hostname")} would rename ${name}`,
        `drop ${specField("hostname")}, or do not join uts`,
      );
    }
    const namespaces = { ...spec.namespaces };
    // Joined user and pid namespaces stay "new" for the plan (the clone creates neither: SpawnHooks.join):
    // the sandbox maps no ids of its own, and its init mounts a /proc of the joined pid namespace.
    // A joined mount namespace is compiled as shared: no view ops (the view is NAME's).
    for (const ns of set) if (ns !== "user" && ns !== "pid") namespaces[ns] = false;
    if (set.has("pid")) namespaces.pid = true;
    if (set.has("user")) namespaces.user = true;
    const view: Partial<Spec> = set.has("mount") ? { cwdMount: "none", cwd: spec.cwd ?? "/" } : {};
    // Checked on the sandbox as resolved (src/plan/resolve.ts), before anything is made.
    const check = (r: Resolved) => {
      if (set.has("user") && idmapText(r) !== s.idmap) {
        throw new SpecError(
          `${specField("join", text)}: joining ${name}'s user namespace means taking its identity, and this sandbox asks for another`,
          `use the same identity flags as ${name}`,
        );
      }
    };
    const cloneFlags = [...set].reduce((f, ns) => f | CLONE_FLAG[ns], 0);
    return { spec: { ...spec, ...view, namespaces }, hook: { fd, flags: cloneFlags, what: text, check }, fd };
  } catch (e) {
    loadShim().close(fd);
    throw e;
  }
}
