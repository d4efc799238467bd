/**
 * The package (issue 12): `npm pack`, then `bun add` of the tarball into a
 * fresh project, from its path: `import { run } from "isolate"` runs a
 * sandbox, the consumer's tsc resolves the types, and under Node the import
 * fails with one line saying that isolate needs Bun.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, sh, tempDir } from "../helpers/index.ts";

const BUN = process.execPath;
const TSC = join(ROOT, "node_modules", ".bin", "tsc");
const NODE = Bun.which("node");
let scratch: ReturnType<typeof tempDir>;
let tarball = "";
let files: string[] = [];
let project = "";

beforeAll(async () => {
  scratch = tempDir("isolate-pkg-");
  // --ignore-scripts: build/ is already built (npm run build); `npm pack` alone runs prepack, which builds it.
  const packed = await sh(["npm", "pack", "--ignore-scripts", "--pack-destination", scratch.path], {
    cwd: ROOT,
    timeoutMs: 120_000,
  });
  if (packed.code !== 0) throw new Error(`npm pack: ${packed.stderr}`);
  tarball = join(scratch.path, readdirSync(scratch.path).find((f) => f.endsWith(".tgz")) ?? "");
  files = (await sh(["tar", "tzf", tarball])).stdout.trim().split("\n");
  project = join(scratch.path, "consumer");
  await sh(["mkdir", project]);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  const added = await sh([BUN, "add", tarball], { cwd: project, timeoutMs: 120_000 });
  if (added.code !== 0) throw new Error(`bun add: ${added.stderr}`);
}, 240_000);

afterAll(() => scratch?.remove());

test("the tarball holds the library and its built shim and init; no tests, benches, C sources or binary", () => {
  expect(files).toContain("package/src/index.ts");
  expect(files).toContain("package/build/embedded.ts");
  expect(files).toContain("package/node.mjs");
  const unwanted = files.filter((f) => /^package\/(test|bench|dist|ffi|scripts|src\/cli)\//.test(f));
  expect(unwanted).toEqual([]);
  const pkg = JSON.parse(Bun.spawnSync(["tar", "xzOf", tarball, "package/package.json"]).stdout.toString());
  expect(pkg.private).toBeUndefined();
});

test('a fresh project imports { run } from "isolate" and runs a sandbox, without a C compiler', async () => {
  writeFileSync(
    join(project, "main.ts"),
    [
      'import { run } from "isolate";',
      'const r = await run({ command: ["sh", "-c", "echo hi from $(hostname)"], hostname: "pkg" });',
      "console.log(r.stdout.trim(), r.reason);",
    ].join("\n"),
  );
  const r = await sh([BUN, "main.ts"], { cwd: project, env: { ...process.env, CC: "/bin/false" } });
  expect(r.stderr).toBe("");
  expect(r.stdout).toBe("hi from pkg ok\n");
});

test("the consumer's tsc resolves the types: fields, options and the Result's narrowing", async () => {
  writeFileSync(
    join(project, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        lib: ["ESNext"],
        target: "ESNext",
        module: "Preserve",
        moduleResolution: "bundler",
        allowImportingTsExtensions: true,
        verbatimModuleSyntax: true,
        noEmit: true,
        strict: true,
        skipLibCheck: true,
        types: ["bun"],
        typeRoots: [join(ROOT, "node_modules", "@types")],
      },
      include: ["typed.ts"],
    }),
  );
  writeFileSync(
    join(project, "typed.ts"),
    [
      'import { type RunResult, run } from "isolate";',
      'const r: RunResult = await run({ command: ["true"], env: { A: "b" } }, { outputLimit: "kill" });',
      'if (r.reason === "setup") console.log(r.error.message);',
      "// @ts-expect-error: not a Spec field",
      'await run({ command: ["true"], memroy: 1 });',
      "// @ts-expect-error: not an outputLimit",
      'await run({ command: ["true"] }, { outputLimit: "stop" });',
    ].join("\n"),
  );
  const r = await sh([TSC, "-p", "."], { cwd: project, timeoutMs: 60_000 });
  expect(r.stdout + r.stderr).toBe("");
  expect(r.code).toBe(0);
}, 90_000);

test("the Node entry names every runtime export of the library (so a named import reaches its line)", async () => {
  const lib = Object.keys(await import("../../src/index.ts")).sort();
  const stub = await Bun.file(join(ROOT, "node.mjs")).text();
  const names = (stub.split("export let")[1] ?? "")
    .replace(";", "")
    .split(",")
    .map((n) => n.trim())
    .filter(Boolean)
    .sort();
  expect(names).toEqual(lib);
});

(NODE ? test : test.skip)("under Node the import fails with one line: isolate needs Bun", async () => {
  writeFileSync(join(project, "main.mjs"), 'import { run } from "isolate";\nconsole.log(typeof run);\n');
  const r = await sh([NODE ?? "node", "main.mjs"], { cwd: project });
  expect(r.code).not.toBe(0);
  expect(r.stdout).toBe("");
  // Node shows the throwing source line above it; the error is one line.
  const lines = r.stderr.split("\n").filter((l) => l.includes("needs Bun") && !l.startsWith("throw"));
  expect(lines).toEqual([
    "Error: isolate needs Bun: it uses bun:ffi, which Node does not have (run your program with bun)",
  ]);
  // Caught, it is one message.
  writeFileSync(join(project, "caught.mjs"), 'import("isolate").catch((e) => console.log(e.message));\n');
  expect((await sh([NODE ?? "node", "caught.mjs"], { cwd: project })).stdout).toBe(
    "isolate needs Bun: it uses bun:ffi, which Node does not have (run your program with bun)\n",
  );
});
