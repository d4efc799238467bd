/**
 * The Landlock policy as pure code (src/facilities/landlock/ops.ts), for kernels this
 * host is not: a Host with another ABI. What the kernel then does is shown by
 * test/facilities/landlock/cli.test.ts. And the C plan checks for the new op.
 */
import { describe, expect, test } from "bun:test";
import { parseSpec } from "../../../src/config/parse.ts";
import type { SpecInput } from "../../../src/config/schema.ts";
import { HostError } from "../../../src/errors.ts";
import {
  LL_FS,
  LL_SCOPE,
  LL_STDIO,
  landlockReport,
  scopes,
  writeRights,
} from "../../../src/facilities/landlock/ops.ts";
import { type Host, probeHost } from "../../../src/host/probe.ts";
import { compilePlan } from "../../../src/plan/compile.ts";
import { encodePlan } from "../../../src/plan/encode.ts";
import type { Op } from "../../../src/plan/op.ts";
import { resolveSandbox } from "../../../src/plan/resolve.ts";
import { loadShim } from "../../../src/shim/load.ts";

const base: Host = { ...probeHost(), cwd: "/work/project", root: true, uid: 0, gid: 0 };
const host = (abi: number, extra: Partial<Host> = {}): Host => ({ ...base, landlockAbi: abi, ...extra });
const spec = (input: Partial<SpecInput> = {}) => parseSpec({ command: ["true"], ...input });
const landlockOf = (ops: Op[]) => {
  const o = ops.find((x) => x.op === "landlock");
  return o?.op === "landlock" ? o.args : undefined;
};

describe("what each ABI gets", () => {
  test("write-type rights only, growing with the ABI; scopes from ABI 6", () => {
    const reads = (1 << 0) | (1 << 2) | (1 << 3); // EXECUTE, READ_FILE, READ_DIR
    for (let abi = 1; abi <= 7; abi++) expect(writeRights(abi) & reads).toBe(0);
    expect(writeRights(0)).toBe(0);
    expect(writeRights(1) & LL_FS.REFER).toBe(0);
    expect(writeRights(2) & LL_FS.REFER).toBe(LL_FS.REFER);
    expect(writeRights(2) & LL_FS.TRUNCATE).toBe(0);
    expect(writeRights(3) & LL_FS.TRUNCATE).toBe(LL_FS.TRUNCATE);
    expect(writeRights(4) & LL_FS.IOCTL_DEV).toBe(0);
    expect(writeRights(5) & LL_FS.IOCTL_DEV).toBe(LL_FS.IOCTL_DEV);
    expect(scopes(5)).toBe(0);
    expect(scopes(6)).toBe(LL_SCOPE.SIGNAL | LL_SCOPE.ABSTRACT_UNIX_SOCKET);
  });

  test("auto: nothing without Landlock or with ABI 1 (renames would fail); the report says why", () => {
    for (const [abi, reason] of [
      [0, "unavailable"],
      [1, "old-abi"],
    ] as const) {
      const ops = compilePlan(resolveSandbox(spec(), host(abi)));
      expect(landlockOf(ops)).toBeUndefined();
      expect(landlockReport(spec(), host(abi), ops)).toEqual({
        applied: false,
        abi: abi || null,
        restricts: [],
        reason,
      });
    }
  });

  test("auto with ABI 3: writes and truncation, no scopes", () => {
    const ll = landlockOf(compilePlan(resolveSandbox(spec(), host(3))));
    expect(ll?.fs).toBe(writeRights(3));
    expect(ll?.scope).toBe(0);
    expect(ll?.flags).toBe(LL_STDIO);
  });

  test("on: refused below ABI 6 with the reason, before anything starts", () => {
    for (const abi of [0, 3, 5]) {
      expect(() => compilePlan(resolveSandbox(spec({ landlock: "on" }), host(abi)))).toThrow(HostError);
      expect(() => compilePlan(resolveSandbox(spec({ landlock: "on" }), host(abi)))).toThrow(/^landlock: "on": /);
    }
    expect(landlockOf(compilePlan(resolveSandbox(spec({ landlock: "on" }), host(6))))?.scope).toBe(3);
  });

  test("off: no op at any ABI", () => {
    expect(landlockOf(compilePlan(resolveSandbox(spec({ landlock: "off" }), host(7))))).toBeUndefined();
  });
});

describe("--share pid needs the signal scope when the command is isolate's own uid", () => {
  test("refused below ABI 6 and with off; allowed from ABI 6", () => {
    // As host root (--userns host); root mapped (the default) is another uid than isolate.
    expect(() => compilePlan(resolveSandbox(spec({ share: ["pid"], userns: "host" }), host(5)))).toThrow(
      /^share: "pid": .*could signal isolate/,
    );
    expect(() =>
      compilePlan(resolveSandbox(spec({ share: ["pid"], userns: "host", landlock: "off" }), host(7))),
    ).toThrow(/landlock: "off" removes/);
    expect(
      landlockOf(
        compilePlan(resolveSandbox(spec({ share: ["pid"], landlock: "off" }), { ...host(7), initialUserNs: true })),
      ),
    ).toBe(undefined);
    expect(() =>
      compilePlan(resolveSandbox(spec({ share: ["pid"] }), host(0, { root: false, uid: 1000, gid: 1000 }))),
    ).toThrow(/^share: "pid": /);
    expect(landlockOf(compilePlan(resolveSandbox(spec({ share: ["pid"] }), host(6))))?.scope).toBe(3);
  });
  test("another host uid (--user, as root) cannot signal isolate: allowed without", () => {
    const ops = compilePlan(resolveSandbox(spec({ share: ["pid"], user: "65534", landlock: "off" }), host(0)));
    expect(landlockOf(ops)).toBeUndefined();
  });
});

describe("the writable paths come from the compiled view", () => {
  test("default view: the cwd, /tmp, /var/tmp, /dev/shm; the few /dev nodes and pts with ioctls", () => {
    // The CLI's default view (the cwd read-write); the library binds it read-only unless asked (README: Defaults).
    const ll = landlockOf(compilePlan(resolveSandbox(spec({ cwdMount: "rw" }), host(7))));
    expect(ll?.write).toEqual(expect.arrayContaining(["/work/project", "/tmp", "/var/tmp", "/dev/shm"]));
    expect(ll?.device).toEqual(["/dev/null", "/dev/zero", "/dev/full", "/dev/tty", "/dev/pts"]);
    for (const no of ["/run", "/var/run", "/dev/random", "/dev/urandom", "/proc", "/", "/sys"]) {
      expect([...(ll?.write ?? []), ...(ll?.device ?? [])]).not.toContain(no);
    }
  });

  test("--ro-cwd and --no-cwd take the cwd out; --bind, --tmpfs, --overlay add theirs; --ro-bind does not", () => {
    expect(landlockOf(compilePlan(resolveSandbox(spec({ cwdMount: "ro" }), host(7))))?.write).not.toContain(
      "/work/project",
    );
    expect(landlockOf(compilePlan(resolveSandbox(spec({ cwdMount: "none" }), host(7))))?.write).not.toContain(
      "/work/project",
    );
    const ll = landlockOf(
      compilePlan(
        resolveSandbox(
          spec({
            mounts: [
              { type: "tmpfs", dst: "/tmp/a" },
              { type: "bind", src: "/usr", dst: "/tmp/a/rw" },
              { type: "ro-bind", src: "/usr", dst: "/tmp/a/ro" },
              { type: "dev-bind", src: "/dev/null", dst: "/tmp/a/dev" },
              // (an overlay needs a directory the view shows)
              { type: "dir", dst: "/tmp/a/ov" },
              { type: "overlay", dst: "/tmp/a/ov" },
            ],
          }),
          host(7),
        ),
      ),
    );
    expect(ll?.write).toEqual(expect.arrayContaining(["/tmp/a", "/tmp/a/rw", "/tmp/a/ov"]));
    expect(ll?.write).not.toContain("/tmp/a/ro");
    expect(ll?.device).toContain("/tmp/a/dev");
  });

  test("--share mount: the caller's directory and the usual scratch places, not the host's terminals or /proc", () => {
    const ll = landlockOf(compilePlan(resolveSandbox(spec({ share: ["mount"] }), host(7))));
    expect(ll?.write).toEqual(["/work/project", "/tmp", "/var/tmp", "/dev/shm"]);
    expect(ll?.device).toEqual(["/dev/null", "/dev/zero", "/dev/full", "/dev/tty"]);
    expect(
      landlockOf(compilePlan(resolveSandbox(spec({ share: ["mount"] }), host(7, { cwd: "/" }))))?.write,
    ).not.toContain("/");
  });
});

describe("the C plan checks the op", () => {
  const shim = loadShim();
  const ops = compilePlan(resolveSandbox(spec(), host(7)));
  const at = ops.findIndex((o) => o.op === "landlock");
  const check = (args: Record<string, unknown>) => {
    const o = ops[at];
    if (o?.op !== "landlock") throw new Error("no landlock op");
    const changed = [...ops];
    changed[at] = { op: "landlock", args: { ...o.args, ...args } } as Op;
    return shim.planCheck(encodePlan(changed)).code;
  };
  const VALUE = -9;

  test("a valid one passes", () => expect(check({})).toBe(0));
  test("unknown rights, scopes or flags", () => {
    expect(check({ fs: 1 << 16 })).toBe(VALUE);
    expect(check({ scope: 1 << 2 })).toBe(VALUE);
    expect(check({ flags: 2 })).toBe(VALUE);
  });
  test("nothing to restrict, or rules without filesystem rights", () => {
    expect(check({ fs: 0, scope: 0, write: [], device: [], flags: 0 })).toBe(VALUE);
    expect(check({ fs: 0, scope: 3 })).toBe(VALUE);
    expect(check({ fs: 0, scope: 3, write: [], device: [], flags: 0 })).toBe(0);
  });
  test("a relative path", () => {
    expect(check({ write: ["tmp"] })).toBe(VALUE);
    expect(check({ device: [""] })).toBe(VALUE);
  });
  test("in the sandbox phase it is out of order", () => {
    const moved = [...ops];
    const [ll] = moved.splice(at, 1);
    if (!ll) throw new Error("no landlock op");
    moved.splice(2, 0, ll);
    expect(shim.planCheck(encodePlan(moved)).code).toBe(-7);
  });
});
