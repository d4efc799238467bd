/**
 * Named sandboxes: start one under this process, which is its monitor (its
 * supervisor: the cgroups are named by its pid and the init's parent-death
 * signal is relative to it). The name is reserved under the state
 * directory's lock, the state is written once the sandbox runs (with the
 * command half of its plan, for `enter`), and the report once it ends.
 */

import type { Spec } from "../config/schema.ts";
import { SpecError, field as specField } from "../errors.ts";
import { CLONE_FLAG } from "../facilities/namespaces/ops.ts";
import { nodeFs } from "../host/files.ts";
import { encodePlan } from "../plan/encode.ts";
import { type Op, op } from "../plan/op.ts";
import { OPS } from "../plan/ops.ts";
import type { Result } from "../supervisor/result.ts";
import {
  type Sandbox,
  type SpawnHooks,
  type SpawnOptions,
  type StartedSandbox,
  spawnSpec,
} from "../supervisor/sandbox.ts";
import { idmapText } from "./join.ts";
import {
  checkName,
  type EnterTemplate,
  fileOf,
  liveness,
  type NamedState,
  procOf,
  readState,
  removeFiles,
  STATE_VERSION,
  stateRoot,
  withLock,
  writeAtomic,
  writeState,
} from "./state.ts";

/**
 * The state directory must not be a place the sandbox can write (the trust
 * boundary: isolate reads it later). Its own mount namespace shows the host
 * read-only but for the working directory (unless --ro-cwd/--no-cwd), the
 * writable binds and the overlay upper directories: none may hold the state
 * directory. (Sharing the host's mount namespace, the sandbox writes what the
 * caller can: that is asked for, and not checked here.)
 */
export function checkStateOutOfReach(spec: Spec): void {
  const fs = nodeFs();
  const real = (p: string) => {
    try {
      return fs.realpathSync(p);
    } catch {
      return p;
    }
  };
  const state = real(stateRoot());
  const writable: [string, string][] = [];
  // As src/facilities/view/ops.ts binds it: not /, nor under /proc, /dev, /sys.
  const cwd = process.cwd();
  if (spec.cwdMount === "rw" && cwd !== "/" && !/^\/(proc|dev|sys)(\/|$)/.test(cwd)) {
    writable.push([
      cwd,
      `the working directory (${specField("cwdMount", "ro")} or ${specField("cwdMount", "none")} keep it out)`,
    ]);
  }
  for (const m of spec.mounts) {
    if (m.type === "bind" || m.type === "dev-bind") writable.push([m.src, specField(`mounts.${m.type}`, m.src)]);
    if (m.type === "overlay" && m.upper !== undefined)
      writable.push([m.upper, `${specField("mounts.overlay")} upper ${m.upper}`]);
  }
  for (const [path, what] of writable) {
    const p = real(path);
    if (state === p || state.startsWith(p.endsWith("/") ? p : `${p}/`)) {
      throw new SpecError(
        `${specField("name")}: the sandbox could write isolate's state directory ${state}, through ${what}`,
        "run it from another directory, or bind less",
      );
    }
  }
}

/** Reserve the name (throws SpecError when it is taken) and write the "starting" state. */
export function reserve(name: string, spec: Spec, detached: boolean): NamedState {
  checkName(name);
  checkStateOutOfReach(spec);
  return withLock(() => {
    const old = readState(name);
    if (old) {
      const l = liveness(old);
      if (l === "running" || l === "starting") {
        throw new SpecError(
          `${specField("name", name)}: a sandbox of that name is running`,
          `pick another name, or isolate stop ${name}`,
        );
      }
      if (l === "exited") {
        throw new SpecError(
          `${specField("name", name)}: a sandbox of that name has ended`,
          `remove it first: isolate rm ${name}`,
        );
      }
      // Its monitor died without a report: stale (its cgroups are `isolate clean`'s).
      removeFiles(name);
    }
    const s: NamedState = {
      version: STATE_VERSION,
      name,
      uid: process.getuid?.() ?? 0,
      phase: "starting",
      detached,
      monitor: procOf(process.pid),
      init: null,
      createdMs: Date.now(),
      command: spec.command,
      namespaces: [],
      cgroups: [],
      enter: null,
    };
    writeState(s);
    return s;
  });
}

/** The command half of the plan: join (the clone op's flags name what to setns into), the init's own ids and confinement, the command ops. */
export function enterOps(s: StartedSandbox): { ops: Op[]; template: EnterTemplate } {
  const flags = s.resolved.namespaces.reduce((f, ns) => f | CLONE_FLAG[ns], 0);
  const ops: Op[] = [op("clone", { flags })];
  for (const o of s.ops) {
    if (o.op === "initIds" || o.op === "initCaps") ops.push(o);
    else if (OPS[o.op].phase === "command" && o.op !== "exec") ops.push(o);
  }
  const exec = s.ops.find((o) => o.op === "exec");
  const args = exec?.op === "exec" ? exec.args : { path: "", env: [] as readonly string[] };
  return { ops, template: { ops: [...ops.map((o) => o.op), "exec"], path: args.path, env: args.env } };
}

export interface NamedSandbox {
  readonly sandbox: Sandbox;
  /** The result, once it is recorded in the state. */
  readonly exited: Promise<Result>;
  readonly state: () => NamedState;
}

/** Start a named sandbox under this process; resolves once it runs (its state then says so). */
export async function spawnNamed(
  spec: Spec,
  name: string,
  detached: boolean,
  opts: SpawnOptions = {},
  hooks: SpawnHooks = {},
  afterReserve?: (name: string) => void,
): Promise<NamedSandbox> {
  let state = reserve(name, spec, detached);
  let sandbox: Sandbox;
  try {
    afterReserve?.(name);
    sandbox = spawnSpec(spec, opts, {
      ...hooks,
      account: true,
      started: (s) => {
        try {
          const { ops, template } = enterOps(s);
          const idmap = idmapText(s.resolved);
          writeAtomic(fileOf(name, "plan"), encodePlan(ops));
          state = {
            ...state,
            phase: "running",
            init: procOf(s.pid),
            namespaces: [...s.resolved.namespaces],
            cgroups: s.cgroups,
            enter: template,
            ...(idmap === undefined ? {} : { idmap }),
          };
          writeState(state);
        } catch {
          // The state stays "starting": listed, not joinable. The sandbox runs on.
        }
      },
    });
    await sandbox.ready;
  } catch (e) {
    withLock(() => removeFiles(name));
    throw e;
  }
  const exited = sandbox.exited.then((result) => {
    state = { ...state, phase: "exited", result };
    try {
      writeState(state);
    } catch {}
    return result;
  });
  return { sandbox, exited, state: () => state };
}
