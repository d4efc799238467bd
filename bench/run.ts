/**
 * Side-by-side benchmark against peers, in one run: `npm run bench`.
 *
 *   one-shot   `isolate exec -- true` vs bwrap (same isolation) vs util-linux unshare
 *   library    N sequential sandboxes through spawn() in this process vs N bwrap runs
 *   parallel   N sandboxes 8 at a time through spawn() vs `xargs -P8` over bwrap
 *   floor      the same one-shot through bench/floor.ts: the shim, init, plan and memfds
 *              of `isolate exec -- true` and no other logic (the floor of this design)
 *   start-up   `isolate --version` vs a Bun hello-world compiled with the same flags
 *   breakdown  what parts of the default sandbox cost, in library mode
 *   network    (alone: BENCH_ONLY=net) what --net pasta adds to a one-shot run, as a ratio (pasta's start,
 *              nft's rules, the wait for pasta's routes); skipped when pasta cannot
 *              run here. Where /dev/net/tun is 0600 (no udev) and this is root, both
 *              sides run in a private mount namespace with a 0666 tun node (as the
 *              tests do). No traffic is sent: the command is `true`.
 *
 * Prints medians and ratios. Absolute times drift on a shared machine;
 * the ratios, measured interleaved in the same run, hold.
 * Needs: npm run build (dist/isolate), Debian packages bubblewrap and util-linux.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { COMPILE_FLAGS } from "../scripts/build-binary.ts";
import { parseSpec } from "../src/config/parse.ts";
import { idMapsFor, idmapRequests, mapText } from "../src/facilities/identity/idmap.ts";
import { pastaNeeds } from "../src/facilities/net/pasta.ts";
import { probeHost } from "../src/host/probe.ts";
import { spawn } from "../src/index.ts";
import { compilePlan } from "../src/plan/compile.ts";
import { encodePlan } from "../src/plan/encode.ts";
import { resolveSandbox } from "../src/plan/resolve.ts";

const ROOT = join(import.meta.dir, "..");
const BIN = join(ROOT, "dist", "isolate");
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 60);
const LIBRARY_N = Number(process.env.BENCH_LIBRARY_N ?? 200);

const BWRAP = [
  "bwrap",
  "--unshare-all",
  "--die-with-parent",
  "--ro-bind",
  "/",
  "/",
  "--dev",
  "/dev",
  "--proc",
  "/proc",
  "--tmpfs",
  "/tmp",
  "true",
];
const UNSHARE = ["unshare", "--fork", "--pid", "--mount-proc", "--mount", "--uts", "--ipc", "--net", "true"];
const ISOLATE = [BIN, "exec", "--", "true"];

/** The peers' build directories: removed when the bench ends, whatever way it ends (a failed build exits at once). */
const built: string[] = [];
process.on("exit", () => {
  for (const dir of built) rmSync(dir, { recursive: true, force: true });
});
process.on("SIGINT", () => process.exit(130));
process.on("SIGTERM", () => process.exit(143));

function buildDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "isolate-bench-"));
  built.push(dir);
  return dir;
}

/** A missing peer is an error, never a figure left out: every ratio needs its peer. */
function need(cmd: string, pkg: string): void {
  if (!Bun.which(cmd)) {
    console.error(`bench: FAILED: the peer ${cmd} is not installed (apt-get install ${pkg}); no ratio can be given`);
    process.exit(2);
  }
}

/** A Bun hello-world compiled as dist/isolate is (scripts/build-binary.ts): the floor of --version. */
function buildHello(): { path: string } {
  const dir = buildDir();
  writeFileSync(join(dir, "hello.ts"), 'void Bun.write(Bun.stdout, "hello\\n");\n');
  const out = join(dir, "hello");
  const r = Bun.spawnSync([process.execPath, "build", ...COMPILE_FLAGS, join(dir, "hello.ts"), "--outfile", out], {
    stdout: "ignore",
    stderr: "pipe",
  });
  if (r.exitCode !== 0) {
    console.error(`bench: FAILED: cannot compile the hello-world peer: ${r.stderr}`);
    process.exit(2);
  }
  return { path: out };
}

/**
 * bench/floor.ts compiled with the inputs of `isolate exec -- true` as run
 * here (this caller, this working directory): its plan, id maps and
 * idmapped binds, computed by the library.
 */
function buildFloor(): { path: string } {
  const resolved = resolveSandbox(parseSpec({ command: ["true"] }), probeHost());
  const ops = compilePlan(resolved);
  const maps = idMapsFor(resolved);
  if (maps.uidVia !== "write" || maps.gidVia !== "write") {
    console.error(
      "bench: FAILED: the floor peer writes its id maps itself; run the bench as root (or without subordinate ids)",
    );
    process.exit(2);
  }
  const writes: [string, string][] = [["uid_map", mapText(maps.uid)]];
  if (maps.denySetgroups) writes.push(["setgroups", "deny"]);
  writes.push(["gid_map", mapText(maps.gid)]);
  const input = {
    plan: encodePlan(ops).toBase64(),
    maps: writes,
    idmap: idmapRequests(ops).map((r) => [r.src, r.attrs, r.plain]),
  };
  const template = readFileSync(join(ROOT, "bench", "floor.ts"), "utf8");
  const dir = buildDir();
  const src = join(dir, "floor.ts");
  writeFileSync(
    src,
    template.replace('"__FLOOR_INPUT__"', JSON.stringify(JSON.stringify(input))).replaceAll("../src/", `${ROOT}/src/`),
  );
  const out = join(dir, "floor");
  const r = Bun.spawnSync([process.execPath, "build", ...COMPILE_FLAGS, src, "--outfile", out], {
    stdout: "ignore",
    stderr: "pipe",
  });
  if (r.exitCode !== 0) {
    console.error(`bench: FAILED: cannot compile the floor peer: ${r.stderr}`);
    process.exit(2);
  }
  return { path: out };
}

/** n runs of one, k at a time: total ms. */
async function parallel(n: number, k: number, one: () => Promise<void>): Promise<number> {
  const t = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: k }, async () => {
      while (next < n) {
        next++;
        await one();
      }
    }),
  );
  return performance.now() - t;
}

async function sh(argv: string[]): Promise<void> {
  const p = Bun.spawn(argv, { stdout: "ignore", stderr: "ignore" });
  if ((await p.exited) !== 0) throw new Error(`${argv.join(" ")} failed`);
}

function once(argv: string[]): number {
  const t = performance.now();
  const r = Bun.spawnSync(argv, { stdout: "ignore", stderr: "pipe" });
  const ms = performance.now() - t;
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")} failed (${r.exitCode}): ${r.stderr}`);
  return ms;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
};
const fmt = (ms: number) => `${ms.toFixed(2)} ms`;

async function main(): Promise<void> {
  if (!existsSync(BIN)) {
    console.error("bench: dist/isolate missing (npm run build)");
    process.exit(2);
  }
  need("bwrap", "bubblewrap");
  need("unshare", "util-linux");

  const hello = buildHello();
  const floor = buildFloor();
  // One-shot: interleave them so drift hits them alike.
  const cases = {
    isolate: ISOLATE,
    bwrap: BWRAP,
    unshare: UNSHARE,
    floor: [floor.path],
    version: [BIN, "--version"],
    hello: [hello.path],
  };
  const times: Record<string, number[]> = { isolate: [], bwrap: [], unshare: [], floor: [], version: [], hello: [] };
  for (const argv of Object.values(cases)) once(argv); // warm caches
  for (let i = 0; i < ROUNDS; i++) for (const [name, argv] of Object.entries(cases)) times[name]?.push(once(argv));
  const m = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));

  // Library: N sandboxes in this process, against N bwrap processes; alternate blocks of 10.
  const lib: number[] = [];
  const bw: number[] = [];
  for (let i = 0; i < 5; i++) await spawn({ command: ["true"] }).exited; // warm
  for (let done = 0; done < LIBRARY_N; done += 10) {
    for (let k = 0; k < 10; k++) {
      const t = performance.now();
      const r = await spawn({ command: ["true"] }).exited;
      lib.push(performance.now() - t);
      if (r.exitCode !== 0) throw new Error(`library sandbox failed: ${JSON.stringify(r.error ?? r.status)}`);
    }
    for (let k = 0; k < 10; k++) bw.push(once(BWRAP));
  }
  const libM = median(lib);
  const bwM = median(bw);

  // 8 at a time: the library against `xargs -P8` over bwrap, alternating, totals.
  const P = 8;
  const libPar: number[] = [];
  const xargsPar: number[] = [];
  const xargs = ["sh", "-c", `seq ${LIBRARY_N} | xargs -P${P} -I{} ${BWRAP.join(" ")}`];
  for (let i = 0; i < 3; i++) {
    libPar.push(
      await parallel(LIBRARY_N, P, async () => {
        const r = await spawn({ command: ["true"] }, { stdout: "null", stderr: "null" }).exited;
        if (r.exitCode !== 0) throw new Error("library sandbox failed");
      }),
    );
    const t = performance.now();
    await sh(xargs);
    xargsPar.push(performance.now() - t);
  }

  // Breakdown, interleaved: the default sandbox without one part at a time.
  const variants: [string, Record<string, unknown>][] = [
    ["default", {}],
    ["no filesystem view (--share mount)", { share: ["mount"] }],
    ["no network namespace (--share net)", { share: ["net"] }],
    ["no seccomp filter (--seccomp none)", { seccomp: "none" }],
    ["none of them", { share: ["mount", "net"], seccomp: "none" }],
  ];
  const parts: number[][] = variants.map(() => []);
  for (let i = 0; i < LIBRARY_N / 4; i++) {
    for (const [k, [, extra]] of variants.entries()) {
      const t = performance.now();
      await spawn({ command: ["true"], ...extra }).exited;
      parts[k]?.push(performance.now() - t);
    }
  }

  const isoM = m.isolate ?? 0;
  const bwrapM = m.bwrap ?? 1;
  const unshareM = m.unshare ?? 1;
  console.log(`isolate bench: ${ROUNDS} one-shot rounds, ${LIBRARY_N} library sandboxes (medians)`);
  console.log("");
  console.log("one-shot `true`                         median      vs bwrap");
  console.log(`  isolate exec -- true                  ${fmt(isoM).padEnd(11)} ${(isoM / bwrapM).toFixed(2)}x`);
  console.log(`  bwrap --unshare-all ... true          ${fmt(bwrapM).padEnd(11)} 1.00x`);
  console.log(`  unshare --fork --pid ... true         ${fmt(unshareM).padEnd(11)} ${(unshareM / bwrapM).toFixed(2)}x`);
  const floorM = m.floor ?? 1;
  console.log(`  floor: same shim and plan, no logic   ${fmt(floorM).padEnd(11)} ${(floorM / bwrapM).toFixed(2)}x`);
  const verM = m.version ?? 0;
  const helloM = m.hello ?? 1;
  console.log("");
  console.log("start-up                                median      vs hello-world");
  console.log(`  isolate --version                     ${fmt(verM).padEnd(11)} ${(verM / helloM).toFixed(2)}x`);
  console.log(`  compiled Bun hello-world, same flags  ${fmt(helloM).padEnd(11)} 1.00x`);
  console.log("");
  console.log("per sandbox, sequential                 median      vs bwrap");
  console.log(`  library spawn() x${LIBRARY_N}                 ${fmt(libM).padEnd(11)} ${(libM / bwM).toFixed(2)}x`);
  console.log(`  bwrap x${LIBRARY_N}                           ${fmt(bwM).padEnd(11)} 1.00x`);
  console.log("");
  const lp = median(libPar);
  const xp = median(xargsPar);
  console.log(`${LIBRARY_N} sandboxes, ${P} at a time (total)      median      vs xargs -P${P} bwrap`);
  console.log(`  library spawn()                       ${fmt(lp).padEnd(11)} ${(lp / xp).toFixed(2)}x`);
  console.log(`  xargs -P${P} bwrap                       ${fmt(xp).padEnd(11)} 1.00x`);
  console.log("");
  console.log("library, per sandbox, by part (medians)");
  for (const [k, [label]] of variants.entries()) console.log(`  ${label.padEnd(38)} ${fmt(median(parts[k] ?? []))}`);
  console.log("");
  console.log(`ratio one-shot isolate/bwrap:      ${(isoM / bwrapM).toFixed(2)} (target <= 2.2, issue 13)`);
  console.log(
    `ratio one-shot isolate/floor:      ${(isoM / floorM).toFixed(2)} (the floor itself: ${(floorM / bwrapM).toFixed(2)}x bwrap)`,
  );
  console.log(`ratio --version/hello-world:       ${(verM / helloM).toFixed(2)} (target <= 1.2)`);
  console.log(`ratio library isolate/bwrap:       ${(libM / bwM).toFixed(2)} (target <= 0.5)`);
  console.log(`ratio library 8 at a time/xargs:   ${(lp / xp).toFixed(2)} (target <= 0.45)`);
  network();
}

/** --net pasta against the default (no network), one-shot, interleaved. */
function network(): void {
  const root = process.geteuid?.() === 0;
  const missing = pastaNeeds(root).filter((n) => !n.ok);
  const tunOnly = missing.length === 1 && missing[0]?.id === "net.tun" && root;
  console.log("");
  if (missing.length > 0 && !tunOnly) {
    console.log(`--net pasta: skipped (${missing.map((n) => n.value).join("; ")})`);
    return;
  }
  const wrap = tunOnly
    ? [
        "unshare",
        "-m",
        "--propagation",
        "private",
        "sh",
        "-c",
        'mount -t tmpfs -o size=16k,mode=755 none /dev/net && mknod -m 666 /dev/net/tun c 10 200 && exec "$@"',
        "sh",
      ]
    : [];
  const plain = [...wrap, BIN, "exec", "--", "true"];
  const pasta = [...wrap, BIN, "exec", "--net", "pasta", "--", "true"];
  const rounds = Math.max(5, Math.round(ROUNDS / 2));
  const a: number[] = [];
  const b: number[] = [];
  once(plain);
  once(pasta);
  for (let i = 0; i < rounds; i++) {
    a.push(once(plain));
    b.push(once(pasta));
  }
  const am = median(a);
  const bm = median(b);
  console.log(`one-shot, ${rounds} rounds${tunOnly ? " (private tun node)" : ""}     median      vs default`);
  console.log(`  isolate exec -- true                  ${fmt(am).padEnd(11)} 1.00x`);
  console.log(`  isolate exec --net pasta -- true      ${fmt(bm).padEnd(11)} ${(bm / am).toFixed(2)}x`);
  console.log(`ratio one-shot --net pasta/default: ${(bm / am).toFixed(2)} (+${fmt(bm - am)})`);
}

// BENCH_ONLY=net: the network part alone.
if (process.env.BENCH_ONLY === "net") network();
else await main();
