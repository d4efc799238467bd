/**
 * The trust boundary: writable mount sources never follow symlinks. A
 * sandbox can write its cwd (and binds, and overlay uppers); a link it leaves
 * there must not steer a later run's --bind, --dev-bind or --overlay (upper or
 * work) onto another host directory, and the overlay work dir isolate makes
 * is made and removed by fd, whatever the sandbox did to the names around it.
 *
 * Each scenario runs from a directory owned by 65534 (the writable cwd), as
 * root and as nobody. "out" is a host directory the caller can write but the
 * sandbox cannot see writable: it must be unchanged after every run.
 */
import { afterAll, describe, expect } from "bun:test";
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { BIN, IS_ROOT, isolate, NOBODY, needs, probe, ROOT, sh, sleep, tempDir, waitFor } from "../helpers/index.ts";

const t = tempDir("isolate-mntsrc-");
afterAll(() => t.remove());
if (IS_ROOT) chownSync(t.path, 65534, 65534);
chmodSync(t.path, 0o755); // a sandbox's root has no capabilities: it needs search permission

const HINT = "(isolate does not follow links in writable sources; pass the real path";
const linkError = (flag: string, link: string, target: string, real: string) =>
  `isolate: ${flag}: ${link} is a symbolic link to ${target} ${HINT}, ${real})\n`;

/** Every file below dir with its contents (links as "-> target"): to prove nothing changed. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      if (st.isSymbolicLink()) out[p] = "link";
      else if (st.isDirectory()) {
        out[p] = "dir";
        walk(p);
      } else out[p] = readFileSync(p, "utf8");
    }
  };
  walk(dir);
  return out;
}

interface Fix {
  /** The writable cwd, owned by 65534. */
  readonly w: string;
  /** A host directory outside every sandbox's writable view. */
  readonly out: string;
  readonly nobody: boolean;
  /** Ids for a run that plants things in w: as root, run the sandbox as 65534 (the owner of w). */
  readonly plantAs: string[];
}

let n = 0;
function fixture(nobody: boolean): Fix {
  const base = join(t.path, `f${n++}`);
  const w = join(base, "W");
  const out = join(base, "out");
  mkdirSync(w, { recursive: true });
  mkdirSync(join(out, "data"), { recursive: true });
  writeFileSync(join(out, "keep"), "keep\n");
  writeFileSync(join(out, "data", "keep"), "keep\n");
  if (IS_ROOT) {
    for (const p of [base, w]) chownSync(p, 65534, 65534);
    // As nobody, out is nobody's own: isolate (as nobody) could write it; the sandbox must not.
    if (nobody)
      for (const p of [out, join(out, "data"), join(out, "keep"), join(out, "data", "keep")])
        chownSync(p, 65534, 65534);
  }
  return { w, out, nobody, plantAs: IS_ROOT && !nobody ? ["--user", "65534"] : [] };
}

/**
 * As root these runs keep the host's user namespace (--userns host, its warning
 * dropped): they test the init's own source checks, which root mapped (the
 * default) leaves to the supervisor (src/facilities/identity/idmap.ts, RESOLVE_NO_SYMLINKS too).
 */
const run = async (f: Fix, args: string[]) => {
  const host = IS_ROOT && !f.nobody && args[0] === "exec" ? ["exec", "--userns", "host", ...args.slice(1)] : args;
  const r = await isolate(host, { cwd: f.w, nobody: f.nobody });
  return { ...r, stderr: r.stderr.replace(/^isolate: warning: --userns host: .*\n/m, "") };
};

/** What the sandbox of an earlier run does: plant in the writable cwd. */
async function plant(f: Fix, script: string): Promise<void> {
  const r = await run(f, ["exec", ...f.plantAs, "--", "sh", "-c", script]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
}

const asWho = (nobody: boolean) => (nobody ? " (as nobody)" : "");
const canNobody = (nobody: boolean) => needs(!nobody || IS_ROOT, "running as nobody needs root");

for (const nobody of [false, true]) {
  describe(`a link left in the writable cwd steers no later mount${asWho(nobody)}`, () => {
    canNobody(nobody)("--overlay DST:UPPER, UPPER replaced by a link (issue 8, item 3)", async () => {
      const f = fixture(nobody);
      const up = join(f.w, "up");
      mkdirSync(up);
      if (IS_ROOT) chownSync(up, 65534, 65534);
      await plant(f, `rm -rf ${up}; ln -s ${f.out} ${up}`);
      const before = snapshot(f.out);
      const r = await run(f, ["exec", "--overlay", `/opt:${up}`, "--", "sh", "-c", "echo hi > /opt/planted"]);
      expect(r.stderr).toBe(linkError(`--overlay /opt:${up}`, up, f.out, f.out));
      expect(r.code).toBe(125);
      expect(snapshot(f.out)).toEqual(before);
    });

    canNobody(nobody)("--bind SRC:DST, SRC replaced by a link", async () => {
      const f = fixture(nobody);
      const data = join(f.w, "data");
      await plant(f, `ln -s ${f.out} ${data}`);
      const before = snapshot(f.out);
      const r = await run(f, ["exec", "--bind", `${data}:/mnt`, "--", "sh", "-c", "echo hi > /mnt/planted"]);
      expect(r.stderr).toBe(linkError(`--bind ${data}:/mnt`, data, f.out, f.out));
      expect(r.code).toBe(125);
      expect(snapshot(f.out)).toEqual(before);
    });

    canNobody(nobody)("--dev-bind and a link in an intermediate component (W/link/data)", async () => {
      const f = fixture(nobody);
      const link = join(f.w, "link");
      await plant(f, `ln -s ${f.out} ${link}`);
      const before = snapshot(f.out);
      for (const flag of ["--bind", "--dev-bind"]) {
        const src = join(link, "data");
        const r = await run(f, ["exec", flag, `${src}:/mnt`, "--", "sh", "-c", "echo hi > /mnt/keep"]);
        expect(r.stderr).toBe(linkError(`${flag} ${src}:/mnt`, link, f.out, join(f.out, "data")));
        expect(r.code).toBe(125);
      }
      expect(snapshot(f.out)).toEqual(before);
    });

    canNobody(nobody)("--overlay work dirs: a link as WORK, or as the default work dir beside UPPER", async () => {
      const f = fixture(nobody);
      const up = join(f.w, "up");
      const wk = join(f.w, "wk");
      const auto = join(f.w, ".up.isolate-work");
      await plant(f, `mkdir ${up}; ln -s ${f.out} ${wk}; ln -s ${f.out} ${auto}`);
      const before = snapshot(f.out);
      const cmd = ["--", "sh", "-c", "echo hi > /opt/planted"];
      let r = await run(f, ["exec", "--overlay", `/opt:${up}:${wk}`, ...cmd]);
      expect(r.stderr).toBe(linkError(`--overlay /opt:${up}:${wk}`, wk, f.out, f.out));
      expect(r.code).toBe(125);
      r = await run(f, ["exec", "--overlay", `/opt:${up}`, ...cmd]);
      expect(r.stderr).toBe(linkError(`--overlay /opt:${up}`, auto, f.out, f.out));
      expect(r.code).toBe(125);
      expect(snapshot(f.out)).toEqual(before);
      expect(lstatSync(auto).isSymbolicLink()).toBe(true); // not isolate's to remove: it was refused
    });

    canNobody(nobody)("read-only sources may follow links; `isolate plan` shows the real path", async () => {
      const f = fixture(nobody);
      const link = join(f.w, "link");
      await plant(f, `ln -s ${f.out} ${link}`);
      const r = await run(f, ["exec", "--ro-bind", `${link}/data:/mnt`, "--", "cat", "/mnt/keep"]);
      expect(r.stderr).toBe("");
      expect(r.stdout).toBe("keep\n");
      const p = await run(f, ["plan", "--ro-bind", `${link}/data:/mnt`, "--", "true"]);
      expect(p.code).toBe(0);
      expect(p.stdout).toContain(`bind ${JSON.stringify(join(realpathSync(f.out), "data"))} on "/mnt" (read-only)`);
    });
  });
}

/**
 * The init is the authority: the checks before the spawn can be raced. A
 * directory and a link to `out` trade places, over and over, while sandboxes
 * mount the path; whatever a run sees, nothing lands in `out`, and some runs
 * must have been refused by the init itself (openat2, RESOLVE_NO_SYMLINKS).
 */
for (const nobody of [false, true]) {
  describe(`racing the checks${asWho(nobody)}`, () => {
    canNobody(nobody)(
      "a writable source or overlay upper turned into a link after the checks: the init refuses it",
      async () => {
        const swap = await probe("swap");
        const f = fixture(nobody);
        const d = join(f.w, "d");
        const alt = join(f.w, "alt");
        mkdirSync(d);
        mkdirSync(alt);
        symlinkSync(f.out, join(alt, "d"));
        // The command must be able to write d: as root it is root (without capabilities), as nobody nobody.
        if (IS_ROOT && nobody) for (const p of [d, alt]) chownSync(p, 65534, 65534);
        const before = snapshot(f.out);
        const swapper = Bun.spawn([...(f.nobody ? NOBODY : []), swap, d, join(alt, "d"), "60"], { stdout: "ignore" });
        let refusedByInit = 0;
        try {
          for (const mount of [
            ["--bind", `${d}:/mnt`],
            ["--overlay", `/mnt:${d}`],
          ]) {
            let seen = 0;
            for (let i = 0; i < 80 && seen < 2; i++) {
              const r = await run(f, ["exec", ...mount, "--", "sh", "-c", "echo hi > /mnt/planted-by-race"]);
              if (r.stderr.includes("setup:") && r.stderr.includes("symbolic link")) seen++;
              expect([0, 125]).toContain(r.code);
            }
            refusedByInit += seen;
            expect(snapshot(f.out)).toEqual(before);
          }
        } finally {
          swapper.kill("SIGKILL");
          await swapper.exited;
        }
        expect(refusedByInit).toBeGreaterThan(0);
      },
      60_000,
    );

    canNobody(nobody)(
      "the working directory reached through a link after getcwd: the init refuses it",
      async () => {
        // With --rootfs the cwd's destination is in the rootfs (no link there ever), so only the
        // host source can be refused: the library, as the CLI has no flag to share the cwd then.
        const swap = await probe("swap");
        const f = fixture(nobody);
        const d = join(f.w, "d");
        const alt = join(f.w, "alt");
        mkdirSync(join(d, "sub"), { recursive: true });
        mkdirSync(alt);
        mkdirSync(join(f.out, "sub"));
        symlinkSync(f.out, join(alt, "d"));
        const root = join(f.w, "..", "root");
        for (const dir of ["proc", "dev", "usr", join(d, "sub"), join(f.out, "sub")]) {
          mkdirSync(join(root, dir), { recursive: true });
        }
        for (const l of ["bin", "lib", "lib64"]) symlinkSync(`usr/${l}`, join(root, l));
        if (IS_ROOT && nobody) for (const p of [d, join(d, "sub"), alt, join(f.out, "sub")]) chownSync(p, 65534, 65534);
        const realSub = statSync(join(d, "sub")).ino;
        const outSub = statSync(join(f.out, "sub")).ino;
        const script = (i: number) =>
          [
            `const { run, IsolateError } = await import(${JSON.stringify(join(ROOT, "src", "index.ts"))});`,
            "try {",
            `  const r = await run({ command: ["sh", "-c", "echo x > planted-${i}"], rootfs: ${JSON.stringify(root)},`,
            '    cwdMount: "rw", mounts: [{ type: "ro-bind", src: "/usr", dst: "/usr" }] });',
            '  console.log(JSON.stringify({ code: r.exitCode, why: r.error?.message ?? "" }));',
            "} catch (e) {",
            "  if (!(e instanceof IsolateError)) throw e;",
            "  console.log(JSON.stringify({ code: e.exitCode, why: e.message }));",
            "}",
          ].join("\n");
        const swapper = Bun.spawn([...(f.nobody ? NOBODY : []), swap, d, join(alt, "d"), "60"], { stdout: "ignore" });
        let refusedByInit = 0;
        const ran: { i: number; ino: number }[] = [];
        try {
          for (let i = 0; i < 60 && refusedByInit < 2; i++) {
            // The cwd the run gets is whichever sub `cd` reached; its inode says which.
            const r = await sh(
              ["sh", "-c", `cd ${d}/sub && stat -c %i . && exec "$0" -e "$1"`, process.execPath, script(i)],
              {
                cwd: f.w,
                nobody,
              },
            );
            expect(r.stderr).toBe("");
            const [ino, out] = r.stdout.trim().split("\n");
            const res = JSON.parse(out ?? "{}") as { code: number; why: string };
            // Root runs mapped: its writable sources are opened by the supervisor, with the same rule.
            const byInit = res.why.includes("setup: bind") && res.why.includes("symbolic link");
            const bySupervisor = res.why.includes("a symlink in the path");
            if (res.code === 125 && (byInit || bySupervisor)) refusedByInit++;
            expect([realSub, outSub]).toContain(Number(ino));
            // (2: the command's own chdir, inside, went through the link to a read-only directory.)
            expect([0, 2, 125]).toContain(res.code);
            if (res.code === 0) ran.push({ i, ino: Number(ino) });
          }
        } finally {
          swapper.kill("SIGKILL");
          await swapper.exited;
        }
        // Each run that wrote wrote into its own cwd, never into the other directory.
        const realDir = lstatSync(d).isSymbolicLink() ? join(alt, "d", "sub") : join(d, "sub");
        expect(statSync(realDir).ino).toBe(realSub);
        for (const { i, ino } of ran) {
          expect(existsSync(join(realDir, `planted-${i}`))).toBe(ino === realSub);
          expect(existsSync(join(f.out, "sub", `planted-${i}`))).toBe(ino === outSub);
        }
        expect(refusedByInit).toBeGreaterThan(0);
      },
      90_000,
    );
  });
}

/** The overlay work dir isolate makes beside UPPER: there during the run, gone after, on every path. */
for (const nobody of [false, true]) {
  describe(`the overlay work dir${asWho(nobody)}`, () => {
    const upperIn = (f: Fix) => {
      const up = join(f.w, "up");
      mkdirSync(up);
      // Writable by the command: as root that is root without capabilities, as nobody nobody.
      if (IS_ROOT && f.nobody) chownSync(up, 65534, 65534);
      return { up, work: join(f.w, ".up.isolate-work") };
    };

    canNobody(nobody)(
      "is made for the run and removed after a normal exit, a failing command and a failed setup",
      async () => {
        const f = fixture(nobody);
        const { up, work } = upperIn(f);
        let r = await run(f, ["exec", "--overlay", `/opt:${up}`, "--", "sh", "-c", `test -d ${work} && echo there`]);
        expect(r.stderr).toBe("");
        expect(r.stdout).toBe("there\n");
        expect(existsSync(work)).toBe(false);
        r = await run(f, ["exec", "--overlay", `/opt:${up}`, "--", "sh", "-c", "echo x > /opt/changed; exit 3"]);
        expect(r.code).toBe(3);
        expect(existsSync(join(up, "changed"))).toBe(true);
        expect(existsSync(work)).toBe(false);
        // The init fails after the overlay is mounted: a mount point cannot be made in it.
        r = await run(f, ["exec", "--overlay", `/opt:${up}`, "--bind", `${f.w}:/opt/no/such/dir`, "--", "true"]);
        expect(r.code).toBe(125);
        expect(r.stderr).toContain("setup: bind");
        expect(existsSync(work)).toBe(false);
        r = await run(f, [
          "exec",
          "--timeout",
          "200ms",
          "--kill-after",
          "0",
          "--overlay",
          `/opt:${up}`,
          "--",
          "sleep",
          "10",
        ]);
        expect(r.code).not.toBe(0);
        expect(existsSync(work)).toBe(false);
      },
    );

    canNobody(nobody)("after isolate is SIGKILLed it stays, and the next run with that UPPER removes it", async () => {
      const f = fixture(nobody);
      const { up, work } = upperIn(f);
      const asHost = IS_ROOT && !nobody ? ["--userns", "host"] : []; // see run()
      const proc = Bun.spawn(
        [...(nobody ? NOBODY : []), BIN, "exec", ...asHost, "--overlay", `/opt:${up}`, "--", "sleep", "30"],
        {
          cwd: f.w,
          stdout: "ignore",
          stderr: "ignore",
        },
      );
      expect(await waitFor(() => existsSync(work))).toBe(true);
      await sleep(100);
      proc.kill("SIGKILL");
      await proc.exited;
      await sleep(200);
      expect(existsSync(work)).toBe(true);
      const r = await run(f, ["exec", "--overlay", `/opt:${up}`, "--", "true"]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(existsSync(work)).toBe(false);
    });

    canNobody(nobody)("its removal follows no link the sandbox made, in it or in place of its parent", async () => {
      const f = fixture(nobody);
      // UPPER's parent is in the writable cwd: the sandbox moves it away and puts a link to out in its place,
      // where out holds a directory of the work dir's name.
      const parent = join(f.w, "sub");
      const up = join(parent, "up");
      mkdirSync(up, { recursive: true });
      mkdirSync(join(f.out, ".up.isolate-work"));
      writeFileSync(join(f.out, ".up.isolate-work", "precious"), "precious\n");
      if (IS_ROOT) {
        for (const p of [parent, up]) chownSync(p, 65534, 65534);
        if (nobody) {
          chownSync(join(f.out, ".up.isolate-work"), 65534, 65534);
          chownSync(join(f.out, ".up.isolate-work", "precious"), 65534, 65534);
        }
      }
      const before = snapshot(f.out);
      const r = await run(f, [
        "exec",
        ...f.plantAs,
        "--overlay",
        `/opt:${up}`,
        "--",
        "sh",
        "-c",
        `mv ${parent} ${f.w}/moved && ln -s ${f.out} ${parent}`,
      ]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(snapshot(f.out)).toEqual(before);
      expect(existsSync(join(f.w, "moved", ".up.isolate-work"))).toBe(false);
      expect(existsSync(join(f.w, "moved", "up"))).toBe(true);
    });

    needs(!nobody || IS_ROOT, "running as nobody needs root")(
      "links planted inside it are removed, not followed",
      async () => {
        const f = fixture(nobody);
        const { up, work } = upperIn(f);
        const before = snapshot(f.out);
        // As root the command is root without capabilities: it owns the work dir. As nobody it is mapped root.
        const r = await run(f, [
          "exec",
          "--overlay",
          `/opt:${up}`,
          "--",
          "sh",
          "-c",
          `ln -s ${f.out} ${work}/dir && ln -s ${f.out}/keep ${work}/file && mkdir ${work}/d && ln -s ${f.out} ${work}/d/x`,
        ]);
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        expect(existsSync(work)).toBe(false);
        expect(snapshot(f.out)).toEqual(before);
      },
    );
  });
}
