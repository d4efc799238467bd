/** The filesystem view's pure parts: flag values, Spec normalization, the plan it compiles to. */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { CLI_SPEC_DEFAULTS, scanFlags } from "../../../src/cli/flags.ts";
import { flagNamer } from "../../../src/cli/output.ts";
import { parseSpec } from "../../../src/config/parse.ts";
import { type FieldNamer, SpecError } from "../../../src/errors.ts";
import { explainViewErrno } from "../../../src/facilities/view/describe.ts";
import { splitFields } from "../../../src/facilities/view/flags.ts";
import { MASKED_PATHS, READONLY_PATHS, VIEW } from "../../../src/facilities/view/ops.ts";
import { type Host, probeHost } from "../../../src/host/probe.ts";
import { compilePlan } from "../../../src/plan/compile.ts";
import { describeOp } from "../../../src/plan/describe.ts";
import { encodePlan } from "../../../src/plan/encode.ts";
import type { Op } from "../../../src/plan/op.ts";
import { resolveSandbox } from "../../../src/plan/resolve.ts";
import { loadShim } from "../../../src/shim/load.ts";
import { tempDir } from "../../helpers/index.ts";

const PLAN_E_VALUE = -9;

const spec = (input: Record<string, unknown>) => parseSpec({ command: ["true"], ...input });
const specError = (input: Record<string, unknown>, namer?: FieldNamer): string => {
  try {
    spec(input);
  } catch (e) {
    expect(e).toBeInstanceOf(SpecError);
    return (e as SpecError).text(namer);
  }
  throw new Error("no SpecError");
};

describe("mount flag values", () => {
  test("fields split on ':'; a backslash makes the next character literal", () => {
    expect(splitFields("/a:/b")).toEqual(["/a", "/b"]);
    expect(splitFields("/a\\:b:/c d")).toEqual(["/a:b", "/c d"]);
    expect(splitFields("/x\\ y\\\\z")).toEqual(["/x y\\z"]);
    expect(splitFields("/only")).toEqual(["/only"]);
  });

  test("each flag becomes one structured entry, in the order given", () => {
    const { draft } = scanFlags([
      "--ro-bind",
      "/etc",
      "--bind=/srv:/data",
      "--dev-bind",
      "/dev/kvm",
      "--tmpfs",
      "/scratch:64M",
      "--overlay",
      "/usr:/up:/wk",
      "--mask",
      "/etc/shadow",
      "--symlink",
      "usr/lib:/tmp/lib",
      "--dir",
      "/tmp/d:700",
      "--ro-bind",
      "/a\\:b:/c\\ d",
      "--",
      "true",
    ]);
    expect(draft.mounts).toEqual([
      { type: "ro-bind", src: "/etc", dst: "/etc" },
      { type: "bind", src: "/srv", dst: "/data" },
      { type: "dev-bind", src: "/dev/kvm", dst: "/dev/kvm" },
      { type: "tmpfs", dst: "/scratch", size: "64M" },
      { type: "overlay", dst: "/usr", upper: "/up", work: "/wk" },
      { type: "mask", path: "/etc/shadow" },
      { type: "symlink", target: "usr/lib", dst: "/tmp/lib" },
      { type: "dir", dst: "/tmp/d", mode: "700" },
      { type: "ro-bind", src: "/a:b", dst: "/c d" },
    ]);
  });

  test("host paths may be relative to the current directory; sandbox paths may not", () => {
    const { draft } = scanFlags(["--bind", "out", "--rootfs", "img", "--overlay", "/x:up", "--", "true"]);
    expect(draft.mounts?.[0]).toEqual({
      type: "bind",
      src: join(process.cwd(), "out"),
      dst: join(process.cwd(), "out"),
    });
    expect(draft.rootfs).toBe(join(process.cwd(), "img"));
    expect(draft.mounts?.[1]).toEqual({ type: "overlay", dst: "/x", upper: join(process.cwd(), "up") });
  });

  test("--ro-cwd and --no-cwd", () => {
    expect(scanFlags(["--ro-cwd", "true"]).draft.cwdMount).toBe("ro");
    expect(scanFlags(["--no-cwd", "true"]).draft.cwdMount).toBe("none");
  });

  test("a malformed value is rejected naming the flag", () => {
    expect(() => scanFlags(["--bind", "/a:/b:/c", "true"])).toThrow(/--bind \/a:\/b:\/c: expected SRC\[:DST\]/);
    expect(() => scanFlags(["--symlink", "/only", "true"])).toThrow(/--symlink \/only: expected TARGET:DST/);
    expect(() => scanFlags(["--tmpfs", ":1M", "true"])).toThrow(/expected DST\[:SIZE\]/);
  });
});

describe("Spec normalization", () => {
  test("paths are made canonical", () => {
    const s = spec({ mounts: [{ type: "bind", src: "//etc/", dst: "/x//y/" }] });
    expect(s.mounts).toEqual([{ type: "bind", src: "/etc", dst: "/x/y" }]);
  });

  test("a relative or '..' destination, or a mount over /, is refused naming it", () => {
    // The library names the entry by its type; the CLI by its flag.
    expect(specError({ mounts: [{ type: "tmpfs", dst: "x/y" }] })).toBe(
      'mounts.tmpfs: "x/y": destination "x/y" is not an absolute path',
    );
    expect(specError({ mounts: [{ type: "tmpfs", dst: "x/y" }] }, flagNamer)).toBe(
      '--tmpfs x/y: destination "x/y" is not an absolute path',
    );
    expect(specError({ mounts: [{ type: "bind", src: "/etc", dst: "/a/../etc" }] })).toContain(
      '"/a/../etc" has a "." or ".." component',
    );
    expect(specError({ mounts: [{ type: "tmpfs", dst: "/" }] }, flagNamer)).toBe(
      "--tmpfs /: cannot mount over / (use --rootfs DIR to change the root)",
    );
    expect(specError({ mounts: [{ type: "bind", src: "/etc", dst: "/" }] })).toContain("cannot mount over /");
  });

  test("sizes and modes", () => {
    const s = spec({
      mounts: [
        { type: "tmpfs", dst: "/t", size: "1.5M", mode: "1777" },
        { type: "dir", dst: "/d" },
      ],
    });
    expect(s.mounts).toEqual([
      { type: "tmpfs", dst: "/t", size: 1572864, mode: 0o1777 },
      { type: "dir", dst: "/d", mode: 0o755 },
    ]);
    expect(specError({ mounts: [{ type: "tmpfs", dst: "/t", size: "lots" }] })).toContain("is not a size");
    expect(specError({ mounts: [{ type: "dir", dst: "/d", mode: "rwx" }] })).toContain("is not octal");
  });

  test("an overlay work dir needs an upper dir, apart from it", () => {
    expect(specError({ mounts: [{ type: "overlay", dst: "/d", work: "/w" }] })).toContain("needs an upper dir");
    expect(specError({ mounts: [{ type: "overlay", dst: "/d", upper: "/u", work: "/u/w" }] })).toContain(
      "must not contain each other",
    );
  });

  test("an unknown mount type is refused", () => {
    expect(() => spec({ mounts: [{ type: "nfs", dst: "/x" }] })).toThrow(SpecError);
  });

  test("the view needs a new mount namespace", () => {
    expect(specError({ share: ["mount"], mounts: [{ type: "tmpfs", dst: "/x" }] })).toContain(
      "share: the filesystem view",
    );
    expect(specError({ share: ["mount"], cwdMount: "ro" })).toContain("needs a new mount namespace");
  });

  test("without the caller's directory, the command starts at /", () => {
    expect(spec({}).cwd).toBeUndefined();
    expect(spec({ cwdMount: "none" }).cwd).toBe("/");
    expect(spec({ rootfs: "/srv/root" }).cwdMount).toBe("none");
    expect(spec({ rootfs: "/srv/root", cwd: "/work" }).cwd).toBe("/work");
  });
});

describe("the plan", () => {
  const host: Host = { ...probeHost(), cwd: "/work/project", root: true, initialUserNs: true };
  const names = (input: Record<string, unknown>, h: Host = host) =>
    compilePlan(resolveSandbox(spec(input), h)).map((o) => o.op);

  test("the default view: root first, then /proc, /dev, scratch, the cwd; pivot_root last", () => {
    // The CLI's default view (a read-write cwd); the library's default binds it read-only (test/library/manners.test.ts).
    const ops = compilePlan(resolveSandbox(parseSpec({ command: ["true"] }, undefined, CLI_SPEC_DEFAULTS), host));
    const view = ops.map((o) => o.op);
    const viewOps = ["mountRoot", "bind", "tmpfs", "mountProc", "mountDev", "mask", "readonly", "pivotRoot"];
    expect(view.find((o) => viewOps.includes(o))).toBe("mountRoot");
    expect(view.indexOf("mountRoot")).toBeGreaterThan(view.indexOf("mountPrivate"));
    expect(view.indexOf("mountProc")).toBeGreaterThan(view.indexOf("mountRoot"));
    expect(view.indexOf("pivotRoot")).toBeGreaterThan(view.lastIndexOf("bind"));
    // Docker's masked paths first; the host's secrets (secrets-mask.test.ts) after the cwd.
    const masks = ops.filter((o) => o.op === "mask").map((o) => (o.args as { path: string }).path);
    expect(masks.slice(0, MASKED_PATHS.length)).toEqual([...MASKED_PATHS]);
    expect(ops.filter((o) => o.op === "readonly").map((o) => (o.args as { path: string }).path)).toEqual([
      ...READONLY_PATHS,
    ]);
    // Root runs mapped: the writable cwd is idmapped (files keep their host owners).
    const cwd = ops.find((o) => o.op === "bind");
    expect(cwd?.args).toEqual({ src: "/work/project", dst: "/work/project", flags: VIEW.IDMAP });
    const hostRoot = compilePlan(resolveSandbox(spec({ userns: "host", cwdMount: "rw" }), host)).find(
      (o) => o.op === "bind",
    );
    expect(hostRoot?.args).toEqual({ src: "/work/project", dst: "/work/project", flags: 0 });
    const tmps = ops.filter((o) => o.op === "tmpfs").map((o) => (o.args as { dst: string }).dst);
    expect(tmps).toContain("/tmp");
    expect(tmps).toContain("/run");
    expect(ops.map(describeOp)).toContain('read-only root from "/"');
  });

  test("--ro-cwd binds read-only; --no-cwd and a cwd of / or in /proc bind nothing", () => {
    const cwdBind = (input: Record<string, unknown>, cwd = "/work/project") =>
      compilePlan(resolveSandbox(spec(input), { ...host, cwd })).find((o) => o.op === "bind" && o.args.src === cwd)
        ?.args;
    expect(cwdBind({ cwdMount: "ro" })).toEqual({
      src: "/work/project",
      dst: "/work/project",
      flags: VIEW.RO | VIEW.IDMAP,
    });
    expect(cwdBind({ cwdMount: "ro", userns: "host" })).toEqual({
      src: "/work/project",
      dst: "/work/project",
      flags: VIEW.RO,
    });
    expect(cwdBind({ cwdMount: "none" })).toBeUndefined();
    expect(cwdBind({}, "/")).toBeUndefined();
    expect(cwdBind({}, "/proc/self")).toBeUndefined();
  });

  test("entries follow the defaults, in order", () => {
    const ops = compilePlan(
      resolveSandbox(
        spec({
          cwdMount: "none",
          mounts: [
            { type: "tmpfs", dst: "/tmp/a" },
            { type: "ro-bind", src: "/etc", dst: "/tmp/a/etc" },
            { type: "dir", dst: "/tmp/a/d", mode: "700" },
          ],
        }),
        host,
      ),
    );
    const tail = ops.slice(ops.findIndex((o) => o.op === "tmpfs" && o.args.dst === "/tmp/a"));
    expect(tail.slice(0, 4).map((o) => o.op)).toEqual(["tmpfs", "bind", "mkdir", "pivotRoot"]);
    expect(tail[1]?.args).toEqual({ src: "/etc", dst: "/tmp/a/etc", flags: VIEW.RO | VIEW.IDMAP });
    expect(tail[2]?.args).toEqual({ dst: "/tmp/a/d", mode: 0o700 });
  });

  test("no new mount namespace: no view at all", () => {
    expect(names({ share: ["mount"] })).not.toContain("mountRoot");
  });

  test("an old kernel's ENOSYS from the root op is explained", () => {
    const root = compilePlan(resolveSandbox(spec({}), host)).find((o) => o.op === "mountRoot");
    expect(root).toBeDefined();
    if (root) expect(explainViewErrno(root, 38)).toMatch(/Linux 5.12 or later/);
  });

  test("devpts names the tty group only without a new user namespace", () => {
    const pts = (h: Host, input: Record<string, unknown> = {}) =>
      (
        compilePlan(resolveSandbox(spec(input), h)).find((o) => o.op === "mountDev")?.args as
          | { ptsOptions: string }
          | undefined
      )?.ptsOptions;
    expect(pts(host, { userns: "host" })).toContain("gid=5");
    expect(pts(host)).not.toContain("gid=");
    expect(pts({ ...host, root: false, uid: 1000, gid: 1000 })).not.toContain("gid=");
  });

  test("the C plan check accepts every view op and refuses bad paths", () => {
    const shim = loadShim();
    const dir = tempDir();
    // As host root: an overlay upper is refused while root runs mapped.
    const all = spec({
      userns: "host",
      mounts: [
        { type: "bind", src: "/etc", dst: "/etc" },
        { type: "dev-bind", src: "/dev/null", dst: "/tmp/null" },
        { type: "tmpfs", dst: "/tmp/t", size: "1M" },
        { type: "overlay", dst: "/usr" },
        { type: "overlay", dst: "/opt", upper: dir.path, work: `${dir.path}.work` },
        { type: "mask", path: "/etc/shadow" },
        { type: "symlink", target: "x", dst: "/tmp/l" },
        { type: "dir", dst: "/tmp/d" },
      ],
    });
    const ops = compilePlan(resolveSandbox(all, { ...host, cwd: "/" }));
    dir.remove();
    expect(shim.planCheck(encodePlan(ops)).code).toBe(0);
    // Root mapped: binds take idmapped mounts, which the decoder accepts too.
    const mapped = compilePlan(resolveSandbox(spec({ mounts: [{ type: "bind", src: "/etc", dst: "/etc" }] }), host));
    expect(mapped.some((o) => o.op === "bind" && (Number(o.args.flags) & VIEW.IDMAP) !== 0)).toBe(true);
    expect(shim.planCheck(encodePlan(mapped)).code).toBe(0);
    // A plan built by hand with a bad path: the decoder refuses it before clone.
    const bad = (args: Record<string, unknown>) =>
      shim.planCheck(encodePlan(ops.map((o) => (o.op === "mask" ? ({ ...o, args: { ...o.args, ...args } } as Op) : o))))
        .code;
    expect(bad({ path: "/proc/../etc" })).toBe(PLAN_E_VALUE);
    expect(bad({ path: "relative" })).toBe(PLAN_E_VALUE);
    expect(bad({ path: "/a//b" })).toBe(PLAN_E_VALUE);
    expect(bad({ path: "/" })).toBe(PLAN_E_VALUE);
    expect(bad({ flags: 0x100 })).toBe(PLAN_E_VALUE);
  });
});
