/**
 * The trust boundary: the binary reads no configuration from its working
 * directory, its parents or the caller's home. A sandbox can write the first
 * (the writable cwd) and often the others; Bun's compiled executables
 * autoload bunfig.toml (whose preloads are code) and .env unless built not to.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BIN, HAS_STRACE, IS_ROOT, isolate, needs, sh, tempDir, traced } from "../helpers/index.ts";

const t = tempDir("isolate-autoload-");
chmodSync(t.path, 0o755); // root runs mapped: the cwd below it must be searchable without capabilities
afterAll(() => t.remove());

/** A directory owned by nobody, as a sandbox started with --user 65534 would leave it. */
function plantedDir(name: string): { dir: string; marker: string; home: string } {
  const dir = join(t.path, name);
  const sub = join(dir, "work");
  const home = join(dir, "home");
  mkdirSync(sub, { recursive: true });
  mkdirSync(home, { recursive: true });
  const marker = join(dir, "owned");
  const preload = join(dir, "x.js");
  writeFileSync(preload, `require("fs").writeFileSync(${JSON.stringify(marker)}, String(process.getuid()));\n`);
  const bunfig = `preload = [${JSON.stringify(preload)}]\n`;
  // In the working directory, in its parent, and as the global config in $HOME and $XDG_CONFIG_HOME.
  for (const d of [dir, sub, home]) {
    writeFileSync(join(d, "bunfig.toml"), bunfig);
    writeFileSync(join(d, ".bunfig.toml"), bunfig);
    writeFileSync(join(d, ".env"), "ISOLATE_PLANTED=1\nPATH=/planted\n");
  }
  if (IS_ROOT) {
    for (const p of [t.path, dir, sub, home]) chownSync(p, 65534, 65534);
  }
  return { dir: sub, marker, home };
}

describe("no configuration is autoloaded from where a sandbox can write", () => {
  test("the planted files do act on a Bun process that autoloads (the effect can show)", async () => {
    const p = plantedDir("control");
    const r = await sh([process.execPath, "-e", "console.log(process.env.ISOLATE_PLANTED ?? 'clean')"], {
      cwd: p.dir,
      env: { ...process.env, HOME: p.home, XDG_CONFIG_HOME: p.home },
    });
    expect(r.stdout.trim()).toBe("1");
    expect(existsSync(p.marker)).toBe(true);
  });

  for (const nobody of [false, true]) {
    needs(!nobody || IS_ROOT, "running as nobody needs root")(
      `bunfig.toml preloads, .env and the global bunfig change nothing${nobody ? " (as nobody)" : ""}`,
      async () => {
        const p = plantedDir(nobody ? "nobody" : "caller");
        const env = { ...process.env, HOME: p.home, XDG_CONFIG_HOME: p.home };
        for (const args of [
          ["exec", "--inherit-env", "--", "sh", "-c", 'echo "$ISOLATE_PLANTED" "$PATH"'],
          ["--version"],
          ["plan", "--", "true"],
        ]) {
          const r = await isolate(args, { cwd: p.dir, env, nobody });
          expect(r.stderr).toBe("");
          if (args[0] === "exec") expect(r.stdout).toBe(` ${process.env.PATH}\n`);
          expect(existsSync(p.marker)).toBe(false);
        }
      },
    );
  }

  test("a sandbox plants a preload in its writable cwd; the next run does not execute it", async () => {
    const dir = join(t.path, "two-runs");
    mkdirSync(dir);
    if (IS_ROOT) chownSync(dir, 65534, 65534);
    const marker = join(dir, "owned-by-run");
    const script = join(dir, "y.js");
    const plant = `echo 'preload = ["${script}"]' > bunfig.toml; echo 'require("fs").writeFileSync("${marker}", "x")' > ${script}; echo X=1 > .env`;
    const user = IS_ROOT ? ["--user", "65534"] : [];
    const first = await isolate(["exec", ...user, "--", "sh", "-c", plant], { cwd: dir });
    expect(first.stderr).toBe("");
    expect(existsSync(join(dir, "bunfig.toml"))).toBe(true);
    const second = await isolate(["exec", ...user, "--inherit-env", "--", "sh", "-c", 'echo "[$X]"'], {
      cwd: dir,
    });
    expect(second.stdout).toBe("[]\n");
    expect(existsSync(marker)).toBe(false);
  });

  // The binary is ESM split into chunks (scripts/build-binary.ts); each is
  // embedded and loaded from memory. Were one looked up relative to the
  // working directory, a sandbox could plant code there for the next run.
  needs(HAS_STRACE, "strace (apt-get install strace)")(
    "no code or configuration is looked up on the disk: every chunk of the program is embedded",
    async () => {
      for (const args of [["--version"], ["exec", "--", "true"], ["plan", "--", "true"], ["check"]]) {
        const { ran, calls } = await traced("%file", [BIN, ...args]);
        expect([args.join(" "), ran.code]).toEqual([args.join(" "), 0]);
        const looked = [...calls.matchAll(/"([^"]*)"/g)].map((m) => m[1] ?? "");
        const code = looked.filter((p) =>
          /\.(m?js|cjs|tsx?|jsc)$|(^|\/)(\.?bunfig\.toml|\.env[^/]*|package\.json|tsconfig\.json)$/.test(p),
        );
        expect([args.join(" "), code]).toEqual([args.join(" "), []]);
        // The trace did see the run's own file calls (the filter matched something).
        expect(looked.length).toBeGreaterThan(0);
      }
    },
  );
});
