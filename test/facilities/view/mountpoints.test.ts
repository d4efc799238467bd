/**
 * Mount points anywhere (src/facilities/view/mountpoints.ts, native/op_mountpoints.c): a
 * destination the host does not have works, as docker -v users expect, and
 * nothing is created on the host; the rebuilt directory stays read-only and
 * shows the host's entries. Through the built binary, as root and as nobody.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseSpec } from "../../../src/config/parse.ts";
import { type Host, probeHost } from "../../../src/host/probe.ts";
import { compilePlan } from "../../../src/plan/compile.ts";
import { encodePlan } from "../../../src/plan/encode.ts";
import type { Op } from "../../../src/plan/op.ts";
import { resolveSandbox } from "../../../src/plan/resolve.ts";
import { loadShim } from "../../../src/shim/load.ts";
import { hostDir, hostMountinfo, parseMountinfo, snapshot } from "../../helpers/fs.ts";
import { IS_ROOT, isolate, needs, tempDir } from "../../helpers/index.ts";

setDefaultTimeout(30_000);

let fix: ReturnType<typeof hostDir>;
let ws: ReturnType<typeof tempDir>;
let src: string;
let ro: string;
beforeAll(() => {
  fix = hostDir();
  src = join(fix.path, "src");
  mkdirSync(src);
  chmodSync(src, 0o777); // nobody writes here too
  writeFileSync(join(src, "f"), "from src\n");
  // A host directory the view shows read-only, with a file, a subdirectory and a symlink.
  ro = join(fix.path, "ro");
  mkdirSync(join(ro, "sub"), { recursive: true });
  writeFileSync(join(ro, "f"), "ro file\n");
  writeFileSync(join(ro, "sub", "g"), "ro sub\n");
  symlinkSync("f", join(ro, "l"));
  symlinkSync("ro", join(fix.path, "lnk"));
  chmodSync(fix.path, 0o755);
  // The cwd: a workspace anyone may write, with a link a previous run could have left.
  ws = tempDir("isolate-mp-");
  chmodSync(ws.path, 0o777);
  symlinkSync("/etc", join(ws.path, "p"));
});
afterAll(() => {
  fix.remove();
  ws.remove();
});

/** Writable mount points inside (the set, from the sandbox's mountinfo). */
const writable = (mountinfo: string) =>
  [
    ...new Set(
      parseMountinfo(mountinfo)
        .filter((m) => m.options.includes("rw"))
        .map((m) => m.point),
    ),
  ].sort();

const noWorkspace = !existsSync("/workspace");
/** Error text as the C locale quotes it. */
const plainQuotes = (s: string) => s.replace(/[‘’]/g, "'");

for (const nobody of [false, true]) {
  const who = nobody ? "as nobody" : "as root";
  const t = (ok: boolean, why: string) =>
    nobody ? needs(IS_ROOT && ok, `${why}; switching to nobody needs root`) : needs(ok, why);
  const run = async (args: string[]) => {
    const r = await isolate(["exec", ...args], { cwd: ws.path, nobody });
    return { ...r, stdout: plainQuotes(r.stdout) };
  };
  const mark = nobody ? "nobody" : "root";

  describe(`mount points ${who}`, () => {
    t(noWorkspace, "the host has no /workspace")(
      "--bind SRC:/workspace, missing on the host: files visible, writes land in SRC",
      async () => {
        const before = hostMountinfo();
        const r = await run([
          "--bind",
          `${src}:/workspace`,
          "--",
          "sh",
          "-c",
          `cat /workspace/f; echo ${who} > /workspace/w-${mark}; ls -d /workspace`,
        ]);
        expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({
          code: 0,
          stdout: "from src\n/workspace\n",
          stderr: "",
        });
        expect(readFileSync(join(src, `w-${mark}`), "utf8")).toBe(`${who}\n`);
        expect(existsSync("/workspace")).toBe(false);
        expect(hostMountinfo()).toBe(before);
      },
    );

    t(noWorkspace, "the host has no /workspace")(
      "--dir /workspace/a/b, and the root stays read-only with the same writable mounts",
      async () => {
        const before = hostMountinfo();
        const script =
          "test -d /workspace/a/b && echo dir; touch /x 2>&1; mkdir /workspace/c 2>&1; cat /proc/self/mountinfo >&2";
        const r = await run(["--dir", "/workspace/a/b", "--", "sh", "-c", script]);
        expect(r.code).toBe(0);
        expect(r.stdout).toBe(
          "dir\ntouch: cannot touch '/x': Read-only file system\nmkdir: cannot create directory '/workspace/c': Read-only file system\n",
        );
        // What is writable inside is what it is without the rebuilt root.
        const plain = await run(["--", "cat", "/proc/self/mountinfo"]);
        expect(plain.code).toBe(0);
        expect(writable(r.stderr)).toEqual(writable(plain.stdout));
        // One root, the rebuilt one: the old root and the view root under it were detached.
        const roots = parseMountinfo(r.stderr).filter((m) => m.point === "/");
        expect(roots.map((m) => [m.fstype, m.options.includes("ro")])).toEqual([["tmpfs", true]]);
        // The root shows the host's entries (and the new mount point).
        const ls = await run(["--dir", "/workspace", "--", "ls", "-A", "/"]);
        const hostRoot = readdirSync("/").sort();
        expect(ls.stdout.trim().split("\n").sort()).toEqual([...hostRoot, "workspace"].sort());
        expect(existsSync("/workspace")).toBe(false);
        expect(hostMountinfo()).toBe(before);
      },
    );

    test("a missing destination deep under a read-only host dir: the parent stays read-only, the same entries", async () => {
      const before = hostMountinfo();
      const tree = snapshot(fix.path);
      const dst = join(ro, "missing", "deep");
      const script = [
        `cat '${dst}/f'`,
        `ls -A '${ro}'`,
        `cat '${ro}/f' '${ro}/sub/g'; readlink '${ro}/l'`,
        `touch '${ro}/new' 2>&1; touch '${ro}/sub/new' 2>&1; mkdir '${ro}/missing/x' 2>&1; true`,
      ].join("; ");
      const r = await run(["--ro-bind", `${src}:${dst}`, "--", "sh", "-c", script]);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
      expect(r.stdout).toBe(
        [
          "from src",
          "f",
          "l",
          "missing",
          "sub",
          "ro file",
          "ro sub",
          "f",
          `touch: cannot touch '${ro}/new': Read-only file system`,
          `touch: cannot touch '${ro}/sub/new': Read-only file system`,
          `mkdir: cannot create directory '${ro}/missing/x': Read-only file system`,
          "",
        ].join("\n"),
      );
      expect(existsSync(join(ro, "missing"))).toBe(false);
      expect(snapshot(fix.path)).toEqual(tree);
      expect(hostMountinfo()).toBe(before);
    });

    test("--tmpfs and --symlink at missing destinations under a read-only host dir", async () => {
      const r = await run([
        "--tmpfs",
        `${ro}/t`,
        "--symlink",
        `/etc/hostname:${ro}/sub/host`,
        "--",
        "sh",
        "-c",
        `echo x > '${ro}/t/x' && cat '${ro}/t/x'; readlink '${ro}/sub/host'; cat '${ro}/sub/g'`,
      ]);
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({
        code: 0,
        stdout: "x\n/etc/hostname\nro sub\n",
        stderr: "",
      });
      expect(existsSync(join(ro, "t"))).toBe(false);
      expect(existsSync(join(ro, "sub", "host"))).toBe(false);
    });

    test("refused before anything is made: symlinks on the way, a writable parent, an overlay of nothing", async () => {
      const before = hostMountinfo();
      const tree = snapshot(fix.path);
      const wsTree = snapshot(ws.path);
      const cases: [string[], string][] = [
        [
          ["--bind", `${src}:${fix.path}/lnk/new`],
          `isolate: --bind ${src}:${fix.path}/lnk/new: ${fix.path}/lnk is a symbolic link inside the sandbox (mount paths never follow symlinks)\n`,
        ],
        [
          ["--dir", `${ro}/l/x`],
          `isolate: --dir ${ro}/l/x:755: ${ro}/l is a symbolic link inside the sandbox (mount paths never follow symlinks)\n`,
        ],
        // A link left in the writable workspace: a path through it is refused too.
        [
          ["--tmpfs", `${ws.path}/p/new`],
          `isolate: --tmpfs ${ws.path}/p/new: ${ws.path}/p is a symbolic link inside the sandbox (mount paths never follow symlinks)\n`,
        ],
        // The cwd is a writable host directory: rebuilding it would make it read-only.
        [
          ["--bind", `${src}:${ws.path}/new/dir`],
          `isolate: --bind ${src}:${ws.path}/new/dir: ${ws.path}/new/dir does not exist, and ${ws.path} is a writable host directory (a bind), where isolate creates nothing (create ${ws.path}/new/dir on the host first, or choose a destination outside it)\n`,
        ],
        [
          ["--overlay", "/nonexistent-overlay"],
          "isolate: --overlay /nonexistent-overlay: /nonexistent-overlay is not in the sandbox's view, so there is nothing to overlay (add --ro-bind DIR:/nonexistent-overlay to show a host directory there, or choose a directory in the view)\n",
        ],
        [
          ["--overlay", `${ro}/missing`],
          `isolate: --overlay ${ro}/missing: ${ro}/missing is not in the sandbox's view, so there is nothing to overlay (add --ro-bind DIR:${ro}/missing to show a host directory there, or choose a directory in the view)\n`,
        ],
        [
          ["--overlay", "/tmp/not-made"],
          "isolate: --overlay /tmp/not-made: /tmp/not-made is not in the sandbox's view, so there is nothing to overlay (add --ro-bind DIR:/tmp/not-made to show a host directory there, or choose a directory in the view)\n",
        ],
      ];
      for (const [flags, message] of cases) {
        const r = await run([...flags, "--", "echo", "RAN"]);
        expect({ flags, code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({
          flags,
          code: 125,
          stdout: "",
          stderr: message,
        });
      }
      expect(existsSync("/nonexistent-overlay")).toBe(false);
      expect(snapshot(fix.path)).toEqual(tree);
      expect(snapshot(ws.path)).toEqual(wsTree);
      expect(hostMountinfo()).toBe(before);
    });

    test("an overlay of a directory made in the view works", async () => {
      const r = await run([
        "--dir",
        `${ro}/made`,
        "--overlay",
        `${ro}/made`,
        "--",
        "sh",
        "-c",
        `echo y > '${ro}/made/y' && cat '${ro}/made/y'`,
      ]);
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: "y\n", stderr: "" });
      expect(existsSync(join(ro, "made"))).toBe(false);
    });
  });
}

describe("the plan", () => {
  const host: Host = { ...probeHost(), cwd: "/", root: true, initialUserNs: true };
  const plan = (mounts: unknown[]) =>
    compilePlan(resolveSandbox(parseSpec({ command: ["true"], cwdMount: "none", mounts }), host));
  const points = (ops: Op[]) => ops.filter((o) => o.op === "mountPoints").map((o) => String(o.args.dir));
  const PLAN_E_VALUE = -9;

  test("one rebuild per directory, at the deepest existing one, just before the entry that needs it", () => {
    const ops = plan([
      { type: "ro-bind", src: "/etc", dst: "/mp-test-a" },
      { type: "ro-bind", src: "/etc", dst: "/mp-test-b/c" },
      { type: "dir", dst: `${ro}/x/y` },
      { type: "dir", dst: `${ro}/x/z` },
      { type: "tmpfs", dst: "/etc" },
    ]);
    expect(points(ops)).toEqual(["/", ro]);
    const at = ops.findIndex((o) => o.op === "mountPoints");
    expect(ops[at + 1]).toMatchObject({ op: "bind", args: { dst: "/mp-test-a" } });
    expect(shim().planCheck(encodePlan(ops)).code).toBe(0);
  });

  test("none where the destination exists or the sandbox owns its parent", () => {
    expect(points(plan([{ type: "ro-bind", src: "/etc", dst: "/usr" }]))).toEqual([]);
    expect(points(plan([{ type: "ro-bind", src: "/etc", dst: "/tmp/a/b" }]))).toEqual([]);
    expect(
      points(
        plan([
          { type: "tmpfs", dst: "/mp-t" },
          { type: "dir", dst: "/mp-t/d" },
        ]),
      ),
    ).toEqual(["/"]);
  });

  test("the C plan check refuses a bad mountPoints path", () => {
    const ops = plan([{ type: "ro-bind", src: "/etc", dst: "/mp-test-a" }]);
    const bad = (dir: string) =>
      shim().planCheck(encodePlan(ops.map((o) => (o.op === "mountPoints" ? ({ ...o, args: { dir } } as Op) : o)))).code;
    expect(bad("/")).toBe(0);
    expect(bad("relative")).toBe(PLAN_E_VALUE);
    expect(bad("/a/../b")).toBe(PLAN_E_VALUE);
    expect(bad("/a//b")).toBe(PLAN_E_VALUE);
  });
});

let loaded: ReturnType<typeof loadShim> | undefined;
function shim() {
  loaded ??= loadShim();
  return loaded;
}
