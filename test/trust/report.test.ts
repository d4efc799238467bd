/**
 * The trust boundary, for the run report: a sandbox with a writable working
 * directory must not steer where isolate writes it. `--report FILE` is opened
 * before the sandbox starts, following no symlink and creating no directory;
 * `--report-fd N` writes to a descriptor the command never sees. Every run
 * starts from a directory owned by nobody, as root and as nobody.
 */
import { afterAll, describe, expect } from "bun:test";
import {
  chmodSync,
  chownSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { BIN, IS_ROOT, isolate, needs, sh, tempDir } from "../helpers/index.ts";

const t = tempDir("isolate-report-");
chmodSync(t.path, 0o755); // root runs mapped: the cwd below it must be searchable without capabilities
afterAll(() => t.remove());

/** W (owned by nobody, the sandbox's cwd) and `outside`, where nothing may appear. */
function dirs(name: string): { w: string; outside: string } {
  const base = join(t.path, name);
  const w = join(base, "W");
  const outside = join(base, "outside");
  mkdirSync(w, { recursive: true });
  mkdirSync(outside, { recursive: true });
  // The caller may write `outside` (so only isolate's refusal keeps it empty).
  chmodSync(outside, 0o777);
  if (IS_ROOT) for (const p of [t.path, base, w]) chownSync(p, 65534, 65534);
  return { w, outside };
}

const parsed = (text: string) => JSON.parse(text) as { exitCode: number; reason: string };

for (const nobody of [false, true]) {
  const who = nobody ? " (as nobody)" : " (as root)";
  const it = needs(!nobody || IS_ROOT, "running as nobody needs root");
  // As root the sandbox runs as nobody (--user), as the reproducer does.
  const user = nobody ? [] : ["--user", "65534"];

  describe(`--report and --report-fd${who}`, () => {
    it("a symlink the command plants at the report path is not followed, in this run or the next", async () => {
      const { w, outside } = dirs(`plant${nobody}`);
      const target = join(outside, "owned");
      const r = await isolate(
        ["exec", ...user, "--report", "r.json", "--", "sh", "-c", `rm -f r.json && ln -s ${target} r.json`],
        { cwd: w, nobody },
      );
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(existsSync(target)).toBe(false);
      expect(lstatSync(join(w, "r.json")).isSymbolicLink()).toBe(true);
      // The next run refuses the link, before anything runs.
      const again = await isolate(["exec", "--report", "r.json", "--", "touch", "ran"], { cwd: w, nobody });
      expect(again.code).toBe(125);
      expect(again.stderr).toBe(
        `isolate: --report r.json: r.json is a symbolic link (to ${target}): refusing to follow it (pass the real path)\n`,
      );
      expect(existsSync(target)).toBe(false);
      expect(existsSync(join(w, "ran"))).toBe(false);
    });

    it("a symlinked directory on the way is refused and named", async () => {
      const { w, outside } = dirs(`dirlink${nobody}`);
      symlinkSync(outside, join(w, "out"));
      const r = await isolate(["exec", "--report", "out/r.json", "--", "true"], { cwd: w, nobody });
      expect(r.code).toBe(125);
      expect(r.stderr).toBe(
        `isolate: --report out/r.json: out is a symbolic link (to ${outside}): refusing to follow it (pass the real path)\n`,
      );
      expect(existsSync(join(outside, "r.json"))).toBe(false);
    });

    it("no directory is created for the report", async () => {
      const { w, outside } = dirs(`nodir${nobody}`);
      const path = join(outside, "missing", "dir", "r.json");
      const r = await isolate(["exec", "--report", path, "--", "touch", "ran"], { cwd: w, nobody });
      expect(r.code).toBe(125);
      expect(r.stderr).toBe(
        `isolate: --report ${path}: No such file or directory (isolate creates no directory: make ${join(outside, "missing", "dir")} first)\n`,
      );
      expect(existsSync(join(outside, "missing"))).toBe(false);
      expect(existsSync(join(w, "ran"))).toBe(false);
    });

    it("a planted FIFO or hard link is refused without waiting or truncating", async () => {
      const { w, outside } = dirs(`special${nobody}`);
      await sh(["mkfifo", "-m", "666", join(w, "fifo.json")]);
      const fifo = await isolate(["exec", "--report", "fifo.json", "--", "true"], { cwd: w, nobody, timeoutMs: 5000 });
      expect(fifo.code).toBe(125);
      expect(fifo.stderr).toContain("isolate: --report fifo.json: not a regular file");
      const precious = join(outside, "precious");
      writeFileSync(precious, "keep me\n");
      chmodSync(precious, 0o666); // writable by the caller: only isolate's refusal keeps it
      linkSync(precious, join(w, "hard.json"));
      const hard = await isolate(["exec", "--report", "hard.json", "--", "true"], { cwd: w, nobody });
      expect(hard.code).toBe(125);
      expect(hard.stderr).toContain("other hard links");
      expect(readFileSync(precious, "utf8")).toBe("keep me\n");
    });

    it("a bad flag or mount is reported before the report file is created", async () => {
      const { w } = dirs(`early${nobody}`);
      const r = await isolate(["exec", "--report", "r.json", "--ro-bind", "/nonexistent-src", "--", "true"], {
        cwd: w,
        nobody,
      });
      expect(r.code).toBe(125);
      expect(existsSync(join(w, "r.json"))).toBe(false);
    });

    it("--report-fd N: the report goes to N, which the command cannot see or write", async () => {
      const { w } = dirs(`fd${nobody}`);
      const r = await sh(
        [
          "sh",
          "-c",
          `"$ISOLATE" exec ${user.join(" ")} --report-fd 3 -- sh -c 'ls /proc/$$/fd; echo forged >&3 || echo refused' 3>fd.json`,
        ],
        { cwd: w, nobody, env: { ...process.env, ISOLATE: BIN } },
      );
      expect(r.code).toBe(0);
      expect(r.stdout).toBe("0\n1\n2\nrefused\n");
      const text = readFileSync(join(w, "fd.json"), "utf8");
      expect(text).not.toContain("forged");
      expect(parsed(text).exitCode).toBe(0);
    });

    it("--report FILE: the command cannot see the report's descriptor either", async () => {
      const { w } = dirs(`file${nobody}`);
      const r = await isolate(["exec", "--report", "r.json", "--", "sh", "-c", "ls /proc/$$/fd"], { cwd: w, nobody });
      expect(r.code).toBe(0);
      expect(r.stdout).toBe("0\n1\n2\n");
      expect(parsed(readFileSync(join(w, "r.json"), "utf8")).reason).toBe("ok");
    });

    it("--report-fd N must be an inherited descriptor >= 3 open for writing (else 125)", async () => {
      const { w } = dirs(`fdbad${nobody}`);
      writeFileSync(join(w, "ro"), "");
      const env = { ...process.env, ISOLATE: BIN };
      for (const [redirect, n, why] of [
        ["", "2", "must be a file descriptor number >= 3"],
        ["", "x", "must be a file descriptor number >= 3"],
        ["", "-4", "must be a file descriptor number >= 3"],
        ["", "7", "not an open descriptor isolate inherited"],
        ["3<ro", "3", "not open for writing"],
      ] as const) {
        const r = await sh(["sh", "-c", `"$ISOLATE" exec --report-fd ${n} -- touch ran ${redirect}`], {
          cwd: w,
          nobody,
          env,
        });
        expect(r.code).toBe(125);
        expect(r.stderr).toStartWith(`isolate: --report-fd ${n}: ${why}`);
        expect(existsSync(join(w, "ran"))).toBe(false);
      }
    });
  });
}
