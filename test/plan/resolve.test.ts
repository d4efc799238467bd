/**
 * One resolved sandbox (src/plan/resolve.ts): the host's files are read while
 * resolving, once; compiling the plan from it reads none.
 */
import { describe, expect, test } from "bun:test";
import { parseSpec } from "../../src/config/parse.ts";
import { nodeFs } from "../../src/host/files.ts";
import { type Host, probeHost } from "../../src/host/probe.ts";
import { compilePlan } from "../../src/plan/compile.ts";
import { resolveSandbox } from "../../src/plan/resolve.ts";

const ROOT: Host = { ...probeHost(), uid: 0, gid: 0, root: true, initialUserNs: true, cwd: "/tmp" };
const NOBODY: Host = { ...ROOT, uid: 65534, gid: 65534, root: false };

/** Run fn with every node:fs read made to fail loudly; return the names of the calls it made. */
function withoutFiles<T>(fn: () => T): { value: T; calls: string[] } {
  const fs = nodeFs() as unknown as Record<string, unknown>;
  const names = ["lstatSync", "statSync", "realpathSync", "readFileSync", "readdirSync", "readlinkSync", "existsSync"];
  const saved = names.map((n) => fs[n]);
  const calls: string[] = [];
  for (const n of names) {
    fs[n] = (...args: unknown[]) => {
      calls.push(`${n}(${String(args[0])})`);
      throw new Error(`compilePlan read a file: ${n}`);
    };
  }
  try {
    return { value: fn(), calls };
  } finally {
    names.forEach((n, i) => {
      fs[n] = saved[i];
    });
  }
}

describe("resolveSandbox", () => {
  const input = {
    command: ["true"],
    userns: "auto" as const,
    mounts: [{ type: "ro-bind" as const, src: "/etc", dst: "/mnt" }],
  };

  test("holds the new namespaces, the identity and the view; compilePlan then reads no file", () => {
    const subids = {
      subuid: () => [{ start: 100000, count: 65536 }],
      subgid: () => [{ start: 200000, count: 65536 }],
    };
    const r = resolveSandbox(parseSpec(input), NOBODY, { subids });
    expect(r.namespaces).toContain("user");
    expect(r.namespaces).toContain("mount");
    expect(r.identity.maps?.uidVia).toBe("newuidmap");
    expect(r.view?.entries.map((o) => o.op)).toEqual(["bind"]);
    const { value: ops, calls } = withoutFiles(() => compilePlan(r));
    expect(calls).toEqual([]);
    expect(ops.map((o) => o.op)).toContain("pivotRoot");
    // The same plan as compiled with the files there.
    expect(compilePlan(r)).toEqual(ops);
  });

  test("root's default: mapped root, every facility reads it from the Resolved", () => {
    const r = resolveSandbox(parseSpec({ command: ["true"] }), ROOT, {
      subids: { subuid: () => [], subgid: () => [] },
    });
    expect(r.identity.mappedRoot).toBe(true);
    const { value: ops, calls } = withoutFiles(() => compilePlan(r));
    expect(calls).toEqual([]);
    const setIds = ops.find((o) => o.op === "setIds");
    expect(setIds?.op === "setIds" && setIds.args).toEqual({ uid: 0, gid: 0 });
  });

  test("resolving is where the files are read, and where a bad view is refused", () => {
    const { calls } = withoutFiles(() => {
      try {
        resolveSandbox(parseSpec(input), NOBODY);
      } catch {}
    });
    expect(calls.length).toBeGreaterThan(0);
    expect(() =>
      resolveSandbox(
        parseSpec({ command: ["true"], mounts: [{ type: "bind", src: "/nonexistent-x", dst: "/x" }] }),
        NOBODY,
      ),
    ).toThrow(/nonexistent-x/);
  });
});
