/**
 * npm test: everything CI checks, in one command, ending with one line
 * "N passed, N failed" for the whole run.
 *
 *   build (C shim, init, dist/isolate), tsc --noEmit, biome check,
 *   bun test (test/), and the pure cgroup v2 VM lane (scripts/vm-lane.sh) when it can run here.
 *
 * Extra arguments go to bun test (e.g. `npm test -- test/config`), and then only
 * bun test runs after the build.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const bun = process.execPath;
const only = process.argv.slice(2);
let passed = 0;
let failed = 0;

async function step(name: string, argv: string[], env: Record<string, string> = {}): Promise<string> {
  console.log(`\n== ${name}: ${argv.join(" ")}`);
  const proc = Bun.spawn(argv, { cwd: root, stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env } });
  let text = "";
  const pump = async (stream: ReadableStream<Uint8Array>, out: NodeJS.WriteStream) => {
    const dec = new TextDecoder();
    for await (const chunk of stream) {
      const s = dec.decode(chunk, { stream: true });
      text += s;
      out.write(s);
    }
  };
  await Promise.all([pump(proc.stdout, process.stdout), pump(proc.stderr, process.stderr)]);
  const code = await proc.exited;
  (globalThis as { lastCode?: number }).lastCode = code;
  return `${text}\n__exit=${code}`;
}

const exitOf = (out: string) => Number(/__exit=(\d+)$/.exec(out)?.[1] ?? 1);

function check(name: string, ok: boolean): void {
  if (ok) passed++;
  else {
    failed++;
    console.log(`!! ${name} failed`);
  }
}

function countBunTest(out: string): void {
  const pass = Number(/^\s*(\d+) pass$/m.exec(out)?.[1] ?? 0);
  const fail = Number(/^\s*(\d+) fail$/m.exec(out)?.[1] ?? 0);
  const errors = Number(/^\s*(\d+) errors?$/m.exec(out)?.[1] ?? 0);
  passed += pass;
  failed += fail + errors;
  if (pass === 0 && fail === 0) failed++; // the runner itself broke
}

const build = await step("build", [bun, "scripts/build-binary.ts"]);
check("build", exitOf(build) === 0);
if (exitOf(build) === 0) {
  if (only.length === 0) {
    check("tsc", exitOf(await step("types", [join(root, "node_modules/.bin/tsc"), "--noEmit"])) === 0);
    check("biome", exitOf(await step("lint", [join(root, "node_modules/.bin/biome"), "check", "."])) === 0);
  }
  countBunTest(await step("bun test", [bun, "test", "--timeout", "120000", ...only]));
  // The tests' scratch space (test/helpers/index.ts SCRATCH): fixtures, probes, a copy of the binary.
  for (const dir of [join(root, ".test-tmp"), "/var/lib/isolate-test"]) rmSync(dir, { recursive: true, force: true });
  // The cgroup suites again on a kernel with cgroup v2 only (QEMU, ~2 min; ISOLATE_VMLANE=0 skips it).
  const laneCan = process.arch === "x64" && (process.getuid?.() === 0 || Bun.which("qemu-system-x86_64") !== null);
  if (only.length === 0 && process.env.ISOLATE_VMLANE !== "0") {
    if (laneCan) countBunTest(await step("cgroup v2 lane", ["bash", "scripts/vm-lane.sh"]));
    else console.log("\n== cgroup v2 lane: skipped (needs x86_64, and root or qemu-system-x86 installed)");
  }
}

console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
