/**
 * Bytes are bytes: argv, --env values, the passed-through environment, the
 * working directory and paths that are not UTF-8 reach the command byte for
 * byte (Bun's own process.argv / process.env / process.cwd() replace such
 * bytes with U+FFFD). Every run starts from a directory owned by nobody, as
 * root and as nobody.
 *
 * Bun.spawn takes strings only, so each case is a sh script that makes its
 * bytes with printf and shows what arrived with od.
 */
import { afterAll, describe, expect } from "bun:test";
import { chmodSync, chownSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BIN, IS_ROOT, needs, sh, tempDir } from "../helpers/index.ts";

const t = tempDir("isolate-bytes-");
chmodSync(t.path, 0o755); // root runs mapped: the cwd below it must be searchable without capabilities
afterAll(() => t.remove());

/** W: a directory owned by nobody; W/caf\xe9 (Latin-1) with a file and a subdirectory in it. */
function workDir(name: string): string {
  const w = join(t.path, name);
  const latin = Buffer.concat([Buffer.from(`${w}/caf`), Buffer.from([0xe9])]);
  const sub = Buffer.concat([latin, Buffer.from("/sub")]);
  mkdirSync(sub, { recursive: true });
  writeFileSync(Buffer.concat([latin, Buffer.from("/file")]), "latin1 dir\n");
  writeFileSync(Buffer.concat([sub, Buffer.from("/file")]), "sub dir\n");
  if (IS_ROOT) for (const p of [t.path, w, latin, sub]) chownSync(p, 65534, 65534);
  // Root in the sandbox holds no capability: it writes there only as "other".
  chmodSync(latin, 0o777);
  return w;
}

/** Hex bytes as od prints them, whitespace collapsed: "ff fe". */
const hex = (s: string) => s.trim().split(/\s+/).join(" ");
const hexOf = (s: string) => [...Buffer.from(s)].map((c) => c.toString(16).padStart(2, "0")).join(" ");

/** Run a sh script with $ISOLATE (the binary), $W and $L (the Latin-1 dir) set, from W. */
function script(w: string, body: string, nobody: boolean) {
  const prelude = `set -u; L="$W/$(printf 'caf\\351')"; FF=$(printf '\\377\\376'); `;
  return sh(["sh", "-c", prelude + body], {
    cwd: w,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ISOLATE: BIN, W: w },
    nobody,
  });
}

for (const nobody of [false, true]) {
  const who = nobody ? " (as nobody)" : " (as root)";
  const it = needs(!nobody || IS_ROOT, "running as nobody needs root");
  describe(`bytes that are not UTF-8 pass through${who}`, () => {
    const w = workDir(nobody ? "nobody" : "caller");

    it("an argument reaches the command byte for byte", async () => {
      const r = await script(
        w,
        `"$ISOLATE" exec -- printf '%s|%s' "$FF" "$(printf 'x\\300\\200y')" | od -An -tx1`,
        nobody,
      );
      expect(r.stderr).toBe("");
      expect(hex(r.stdout)).toBe("ff fe 7c 78 c0 80 79");
    });

    it("--env K=V, --env K and the allowlist (LANG, LC_*) keep their bytes", async () => {
      const r = await script(
        w,
        `K="$FF" LANG="C.$FF" LC_ALL="$(printf '\\351')" "$ISOLATE" exec --env K --env J="v$FF" -- ` +
          `sh -c 'printf "%s|%s|%s|%s" "$K" "$LANG" "$J" "$LC_ALL"' | od -An -tx1`,
        nobody,
      );
      expect(r.stderr).toBe("");
      expect(hex(r.stdout)).toBe("ff fe 7c 43 2e ff fe 7c 76 ff fe 7c e9");
    });

    it("a variable whose name is not UTF-8 passes with --inherit-env, and --env names it", async () => {
      const r = await script(
        w,
        `env "$(printf 'N\\377=v\\376')" "$ISOLATE" exec --inherit-env -- env | grep -a '^N' | od -An -tx1; ` +
          `env "$(printf 'N\\377=w\\376')" "$ISOLATE" exec --env "$(printf 'N\\377')" -- env | grep -a '^N' | od -An -tx1`,
        nobody,
      );
      expect(r.stderr).toBe("");
      expect(hex(r.stdout)).toBe("4e ff 3d 76 fe 0a 4e ff 3d 77 fe 0a");
    });

    it("the caller's working directory in Latin-1 is bound and the command starts there", async () => {
      const r = await script(
        w,
        `cd "$L" && "$ISOLATE" exec -- sh -c 'pwd; cat file; touch made-inside' | od -An -tx1 && ls "$L"/made-inside >/dev/null && echo ok`,
        nobody,
      );
      expect(r.stderr).toBe("");
      const lines = r.stdout.trim().split("\n");
      expect(lines.at(-1)).toBe("ok");
      expect(hex(lines.slice(0, -1).join(" "))).toBe(hexOf(`${w}/caf\u00e9\nlatin1 dir\n`).replace("c3 a9", "e9"));
    });

    it("--chdir and --ro-bind take a Latin-1 directory (absolute, and relative to a Latin-1 cwd)", async () => {
      const r = await script(
        w,
        `"$ISOLATE" exec --no-cwd --chdir "$L" --ro-bind "$L" -- sh -c 'pwd; cat file' | od -An -tx1; ` +
          `"$ISOLATE" exec --no-cwd --ro-bind "$L:/mnt" -- cat /mnt/file; ` +
          `cd "$L" && "$ISOLATE" exec --ro-bind sub:/mnt -- cat /mnt/file`,
        nobody,
      );
      expect(r.stderr).toBe("");
      const lines = r.stdout.trim().split("\n");
      expect(hex(lines.slice(0, -2).join(" "))).toBe(hexOf(`${w}/caf\u00e9\nlatin1 dir\n`).replace("c3 a9", "e9"));
      expect(lines.slice(-2)).toEqual(["latin1 dir", "sub dir"]);
    });

    it("an error about such a path is one line, with the path's own bytes (exit 125)", async () => {
      const r = await script(
        w,
        `"$ISOLATE" exec --ro-bind "$W/missing$FF" -- true 2>&1 | od -An -tx1; ` +
          `"$ISOLATE" exec --chdir "/nonexistent$FF" -- true; echo "rc=$?"`,
        nobody,
      );
      const lines = r.stdout.trim().split("\n");
      expect(lines.at(-1)).toBe("rc=125");
      expect(hex(lines.slice(0, -1).join(" "))).toContain(hexOf(`${w}/missing`).concat(" ff fe"));
      expect(r.stderr).toBe('isolate: setup: chdir "/nonexistent\\xff\\xfe": No such file or directory\n');
    });
  });
}
