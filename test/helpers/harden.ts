/** Builds the C probes of the hardening tests (test/helpers/fixtures) into a temp dir anyone can read. */
import { chmodSync } from "node:fs";
import { join } from "node:path";
import { sh, tempDir } from "./index.ts";

export const HAVE_GCC = Bun.which("gcc") !== null;

export interface Built {
  dir: string;
  path(name: string): string;
  remove(): void;
}

/** Compile fixtures/NAME.c into DIR/NAME for each name; `static` links them statically. */
export async function buildFixtures(names: string[], opts: { static?: boolean } = {}): Promise<Built> {
  const t = tempDir("isolate-harden-");
  chmodSync(t.path, 0o755);
  for (const name of names) {
    const src = join(import.meta.dir, "fixtures", `${name}.c`);
    const out = join(t.path, name);
    const r = await sh(["gcc", "-O1", "-Wall", ...(opts.static ? ["-static"] : []), "-o", out, src]);
    if (r.code !== 0) throw new Error(`gcc ${name}.c failed: ${r.stderr}`);
  }
  return { dir: t.path, path: (n) => join(t.path, n), remove: t.remove };
}

/** "name errno" lines of the syscall probe. */
export function probeResults(stdout: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of stdout.trim().split("\n")) {
    const [name, err] = line.split(" ");
    if (name && err !== undefined) m.set(name, Number(err));
  }
  return m;
}

/** The capability, no_new_privs and seccomp lines of a /proc/PID/status. */
export function securityStatus(status: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of status.split("\n")) {
    const m = /^(Cap\w+|NoNewPrivs|Seccomp):\s*(\S+)/.exec(line);
    if (m?.[1] && m[2] !== undefined) out[m[1]] = m[2];
  }
  return out;
}

export const LOCKED_DOWN = {
  CapInh: "0000000000000000",
  CapPrm: "0000000000000000",
  CapEff: "0000000000000000",
  CapBnd: "0000000000000000",
  CapAmb: "0000000000000000",
  NoNewPrivs: "1",
  Seccomp: "2",
};
