/**
 * One cleanup path (src/supervisor/sandbox.ts, teardown): whatever phase
 * fails, and however the sandbox ends, every facility's cleanup runs once and
 * nothing is left: no cgroup, no overlay scratch dir, no init, no fd. A test
 * facility added to the registry's (SpawnHooks.facilities) fails on purpose.
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { parseSpec } from "../../src/config/parse.ts";
import { FACILITIES } from "../../src/facilities/index.ts";
import { overlayWork } from "../../src/facilities/view/fields.ts";
import type { Facility, SetupContext } from "../../src/supervisor/hooks.ts";
import { spawnSpec } from "../../src/supervisor/sandbox.ts";
import { IS_ROOT, tempDir, waitFor } from "../helpers/index.ts";
import { BACKEND, isolateCgroups } from "../helpers/limits.ts";

setDefaultTimeout(30_000);

/** With cgroups here (root, a memory controller), the sandbox gets one, so its removal is checked too. */
const CGROUPS = IS_ROOT && BACKEND !== 0;

type Phase = "check" | "prepare" | "beforeGo" | "none";

interface Seen {
  cgroups: string[];
  pid: number | undefined;
  cleanups: number;
}

/** A facility that fails in `phase`, last in the registry, and records what the sandbox had. */
function probe(phase: Phase, seen: Seen): Facility {
  const fail = (p: Phase) => {
    if (p === phase) throw new Error(`injected failure in ${p}`);
  };
  const note = (ctx: SetupContext) => {
    seen.cgroups = [...(ctx.group?.paths ?? [])];
  };
  return {
    name: "probe",
    hooks: () => ({
      check: () => fail("check"),
      prepare(ctx) {
        note(ctx);
        fail("prepare");
      },
      beforeGo(ctx, child) {
        note(ctx);
        seen.pid = child.pid;
        fail("beforeGo");
        return undefined;
      },
      cleanup() {
        seen.cleanups++;
        return undefined;
      },
    }),
  };
}

/** This process's open fds, with what each is. */
const fds = () =>
  readdirSync("/proc/self/fd")
    .map((n) => {
      try {
        return `${n}:${readlinkSync(`/proc/self/fd/${n}`)}`;
      } catch {
        return n; // the readdir's own fd, closed by now
      }
    })
    .filter((f) => f.includes(":"))
    .join(" ");

async function run(phase: Phase, command: string[], end?: (sb: ReturnType<typeof spawnSpec>) => void, warm = true) {
  const dir = tempDir("cleanup-");
  try {
    const upper = join(dir.path, "up");
    mkdirSync(upper);
    const spec = parseSpec({
      command,
      mounts: [{ type: "overlay", dst: "/mnt", upper }],
      ...(CGROUPS ? { limits: { memory: "64M" } } : {}),
      // An upper dir needs root's own ids (a mapped root's upper is not idmapped yet).
      ...(IS_ROOT ? { userns: "host" as const } : {}),
    });
    const seen: Seen = { cgroups: [], pid: undefined, cleanups: 0 };
    const before = fds();
    const sb = spawnSpec(spec, { stdout: "pipe", stderr: "pipe" }, { facilities: [...FACILITIES, probe(phase, seen)] });
    let failure: unknown;
    try {
      await sb.ready;
      end?.(sb);
      await sb.exited;
    } catch (e) {
      failure = e;
    }
    // The streams end: the child's ends are gone.
    expect(await new Response(sb.stdout).text()).toBe("");
    expect(await new Response(sb.stderr).text()).toBe("");
    expect(seen.cleanups).toBe(1);
    expect(existsSync(overlayWork(upper))).toBe(false);
    if (CGROUPS && phase !== "check") expect(seen.cgroups.length).toBeGreaterThan(0);
    for (const p of seen.cgroups) expect(existsSync(p)).toBe(false);
    expect(isolateCgroups([process.pid])).toEqual([]);
    if (seen.pid !== undefined) expect(existsSync(`/proc/${seen.pid}`)).toBe(false);
    // Bun closes the fd of a stream it read to its end a moment later, on a thread of its own.
    if (warm) expect(await waitFor(() => fds() === before && fds(), 2000)).toBe(before);
    return { failure, seen };
  } finally {
    dir.remove();
  }
}

// Warm up: the first spawn opens fds this process keeps (the shim, its worker).
await run("none", ["true"], undefined, false);

for (const phase of ["check", "prepare", "beforeGo"] as const) {
  test(`a facility hook that fails in ${phase} leaves nothing${CGROUPS ? " (with a cgroup)" : ""}`, async () => {
    const { failure, seen } = await run(phase, ["true"]);
    expect(String(failure)).toContain(`injected failure in ${phase}`);
    if (phase === "beforeGo") expect(seen.pid).toBeNumber();
  });
}

test("a sandbox killed while it runs leaves nothing, and each cleanup ran once", async () => {
  const { failure, seen } = await run("none", ["sleep", "100"], (sb) => sb.kill("SIGKILL"));
  expect(failure).toBeUndefined();
  expect(seen.pid).toBeNumber();
});

test("a sandbox that ends by itself leaves nothing, and each cleanup ran once", async () => {
  const { failure } = await run("none", ["true"], undefined, false);
  expect(failure).toBeUndefined();
});
