/**
 * Named sandboxes: start one under this process, which is its monitor (its
 * supervisor: the cgroups are named by its pid and the init's parent-death
 * signal is relative to it). The name is reserved under the state
 * directory's lock, the state is written once the sandbox runs (with the
 * command half of its plan, for `enter`), and the report once it ends.
 */
import { SpecError } from "../errors.ts";
import { encodePlan } from "../plan/encode.ts";
import { type Op, op } from "../plan/op.ts";
import { OPS } from "../plan/ops.ts";
import { CLONE_FLAG, newNamespaces } from "../setup/namespaces.ts";
import type { Spec } from "../spec/schema.ts";
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
  withLock,
  writeAtomic,
  writeState,
} from "./state.ts";

/** Reserve the name (throws SpecError when it is taken) and write the "starting" state. */
export function reserve(name: string, spec: Spec, detached: boolean): NamedState {
  checkName(name);
  return withLock(() => {
    const old = readState(name);
    if (old) {
      const l = liveness(old);
      if (l === "running" || l === "starting") {
        throw new SpecError(
          `--name ${name}: a sandbox of that name is running`,
          `pick another name, or isolate stop ${name}`,
        );
      }
      if (l === "exited") {
        throw new SpecError(`--name ${name}: a sandbox of that name has ended`, `remove it first: isolate rm ${name}`);
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
export function enterOps(spec: Spec, s: StartedSandbox): { ops: Op[]; template: EnterTemplate } {
  const fresh = newNamespaces(spec, s.host);
  const flags = fresh.reduce((f, ns) => f | CLONE_FLAG[ns], 0);
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
          const { ops, template } = enterOps(spec, s);
          const idmap = idmapText(spec, s.host);
          writeAtomic(fileOf(name, "plan"), encodePlan(ops));
          state = {
            ...state,
            phase: "running",
            init: procOf(s.pid),
            namespaces: newNamespaces(spec, s.host),
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
