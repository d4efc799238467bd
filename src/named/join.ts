/**
 * `exec --join NAME:NS[,NS...]`: a new sandbox that shares chosen namespaces
 * of a running named sandbox and has its own for the rest (a pod).
 *
 * The rules:
 *   - net, ipc and uts can be joined; mount, pid, cgroup and time cannot (a
 *     sandbox's view is built by its init in its own mount namespace; to run
 *     in another's view, pid tree or cgroup use `isolate enter`).
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
import type { SpawnHooks } from "../supervisor/sandbox.ts";
import { checkName, liveness, openInit, readState } from "./state.ts";

const JOINABLE: readonly Namespace[] = ["net", "ipc", "uts", "user"];

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
      throw new SpecError(
        `${specField("join", text)}: ${ns} cannot be joined`,
        "net, ipc, uts and user can; to run inside another sandbox's view, pid tree or cgroup use isolate enter",
      );
    }
  }
  const s = readState(name);
  if (!s) throw new SpecError(`${specField("join", text)}: no sandbox named ${name}`, "see isolate ps");
  if (liveness(s) !== "running" || !s.init) throw new SpecError(`${specField("join", text)}: ${name} is not running`);
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
  for (const ns of set) if (ns !== "user") namespaces[ns] = false;
  if (set.has("user")) namespaces.user = true;
  // Checked on the sandbox as resolved (src/plan/resolve.ts), before anything is made.
  const check = (r: Resolved) => {
    if (set.has("user") && idmapText(r) !== s.idmap) {
      throw new SpecError(
        `${specField("join", text)}: joining ${name}'s user namespace means taking its identity, and this sandbox asks for another`,
        `use the same identity flags as ${name}`,
      );
    }
  };
  const fd = openInit(s);
  if (fd === null) throw new SpecError(`${specField("join", text)}: ${name} is not running`);
  const cloneFlags = [...set].reduce((f, ns) => f | CLONE_FLAG[ns], 0);
  return { spec: { ...spec, namespaces }, hook: { fd, flags: cloneFlags, what: text, check }, fd };
}
