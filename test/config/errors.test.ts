/** One error type names the Spec field; only the CLI names flags (src/errors.ts field()). */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { parseSpec } from "../../src/config/parse.ts";
import { field, IsolateError, SpecError } from "../../src/errors.ts";
import { probeHost } from "../../src/host/probe.ts";
import { checkName } from "../../src/named/state.ts";
import { resolveSandbox } from "../../src/plan/resolve.ts";
import { run } from "../../src/supervisor/run.ts";
import { isolate, ROOT } from "../helpers/index.ts";

describe("errors name the Spec field in the library, the flag in the CLI", () => {
  test("a library SpecError carries the field and speaks it", () => {
    let e: unknown;
    try {
      parseSpec({ command: ["true"], limits: { memorySwap: "1G" } });
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(SpecError);
    const err = e as SpecError;
    expect(err.field).toBe("limits.memorySwap");
    expect(err.message).toBe("limits.memorySwap: needs limits.memory (it is memory plus swap)");
    expect(err.message).not.toContain("--");
  });

  test("the same error through the CLI names the flags", async () => {
    const r = await isolate(["exec", "--memory-swap", "1G", "--", "true"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toBe("isolate: --memory-swap: needs --memory (it is memory plus swap)\n");
  });

  test("field() with a value: the library quotes it, a namer renders it its way", () => {
    const e = new IsolateError("host", `${field("userns", "host")} keeps host root`, { hint: `drop ${field("user")}` });
    expect(e.message).toBe('userns: "host" keeps host root');
    expect(e.hint).toBe("drop user");
    expect(e.field).toBe("userns");
    expect(e.text((p, v) => (v === undefined ? `--${p}` : `--${p} ${v}`))).toBe(
      "--userns host keeps host root (drop --user)",
    );
  });
});

/** The string literals of a TypeScript source (template literals' text parts too), outside comments. */
function stringLiterals(src: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  const templates: number[] = []; // the brace depth at each open `${`
  let depth = 0;
  let i = 0;
  let line = 1;
  const readString = (quote: string) => {
    const start = line;
    let text = "";
    while (i < src.length) {
      const c = src[i] as string;
      if (c === "\\") {
        text += src.slice(i, i + 2);
        i += 2;
        continue;
      }
      if (c === "\n") line++;
      i++;
      if (c === quote) break;
      if (quote === "`" && c === "$" && src[i] === "{") {
        i++;
        templates.push(depth++);
        break;
      }
      text += c;
    }
    out.push({ line: start, text });
  };
  while (i < src.length) {
    const c = src[i] as string;
    const next = src[i + 1];
    if (c === "/" && next === "/") {
      while (i < src.length && src[i] !== "\n") i++;
    } else if (c === "/" && next === "*") {
      const end = src.indexOf("*/", i + 2);
      const stop = end < 0 ? src.length : end + 2;
      line += src.slice(i, stop).split("\n").length - 1;
      i = stop;
    } else if (c === '"' || c === "'" || c === "`") {
      i++;
      readString(c);
    } else {
      if (c === "\n") line++;
      if (c === "{") depth++;
      i++;
      if (c === "}" && --depth === templates[templates.length - 1]) {
        templates.pop();
        readString("`");
      }
    }
  }
  return out;
}

/**
 * Text that spells another tool's flags, never isolate's: [file, what it
 * matches, why]. Everything else under src/ (but the CLI) names Spec fields.
 */
const OTHER_TOOLS: readonly [string, RegExp, string][] = [
  ["src/facilities/net/pasta.ts", /^--[a-z-]+(=.*)?$/, "the argv of pasta and setpriv"],
  ["src/facilities/net/rules.ts", /^--[a-z-]+$/, "the argv of pasta"],
  [
    "src/facilities/net/rules.ts",
    /^# written by isolate for --net pasta( --net-dns)?/,
    "a comment in the sandbox's resolv.conf: for whoever reads that file",
  ],
  ["*", /systemd-run( --[a-z]+)+/, "systemd-run's options, in a remedy"],
  ["*", /usermod --add-sub.*/, "usermod's options, in a remedy"],
  ["*", /unshare --map-auto --map-root-user, podman --userns=auto/, "util-linux's and podman's options"],
  ["*", /docker\/podman --security-opt/, "docker's and podman's options"],
];

function flagsInLibrary(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((n) => {
      const p = join(dir, n);
      return statSync(p).isDirectory() ? walk(p) : p.endsWith(".ts") ? [p] : [];
    });
  const found: string[] = [];
  for (const file of walk(join(ROOT, "src"))) {
    const rel = relative(ROOT, file);
    if (rel.startsWith("src/cli/") || /^src\/facilities\/[^/]+\/flags\.ts$/.test(rel)) continue;
    for (const s of stringLiterals(readFileSync(file, "utf8"))) {
      let text = s.text;
      for (const [where, re] of OTHER_TOOLS) if (where === "*" || where === rel) text = text.replace(re, "");
      if (/(^|[^-\w])--[a-z]/i.test(text)) found.push(`${rel}:${s.line}: ${JSON.stringify(s.text)}`);
    }
  }
  return found;
}

describe("only the CLI spells flags", () => {
  test("the scanner sees strings and template text, not comments", () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: TypeScript source, as text
    const src = '// "--no"\n/* `--no` */\nconst a = "--yes"; const b = `x ${f("--no2")} --yes2 ${`--yes3`}`;';
    expect(stringLiterals(src).map((s) => s.text)).toEqual(["--yes", "x ", "--no2", " --yes2 ", "--yes3", ""]);
  });

  test("no string under src/ outside the CLI and the flag tables spells a flag", () => {
    expect(flagsInLibrary()).toEqual([]);
  });
});

/** What `f` throws (or the promise it returns rejects with). */
async function thrown(f: () => unknown): Promise<IsolateError> {
  try {
    await f();
  } catch (e) {
    expect(e).toBeInstanceOf(IsolateError);
    return e as IsolateError;
  }
  throw new Error("nothing was thrown");
}

describe("library errors name Spec fields; the CLI's, flags", () => {
  test("identity: user without root", async () => {
    const host = { ...probeHost(), root: false };
    const e = await thrown(() => resolveSandbox(parseSpec({ command: ["true"], user: "1000" }), host));
    expect(e.code).toBe("host");
    expect(e.field).toBe("user");
    expect(e.text()).toBe(
      "user needs root (it switches to another host identity) (without root, use uid/gid: the identity seen inside a user namespace)",
    );
  });

  test("identity through the CLI", async () => {
    const r = await isolate(["exec", "--userns", "auto", "--map-uid", "0:100000:1", "--", "true"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toBe("isolate: --userns: --userns auto and explicit --map-uid/--map-gid exclude each other\n");
    const e = await thrown(() => parseSpec({ command: ["true"], userns: "auto", mapUid: ["0:100000:1"] }));
    expect(e.message).toBe('userns: userns: "auto" and explicit mapUid/mapGid exclude each other');
  });

  const missing = `/nonexistent-${process.pid}`;

  test("view: a mount entry is named by its type", async () => {
    const e = await thrown(() =>
      run({ command: ["true"], mounts: [{ type: "ro-bind", src: missing, dst: "/mnt" }], cwdMount: "none" }),
    );
    expect(e).toBeInstanceOf(SpecError);
    expect(e.field).toBe("mounts.ro-bind");
    expect(e.message).toBe(`mounts.ro-bind: "${missing}:/mnt": source ${missing} does not exist`);
    const r = await isolate(["exec", "--no-cwd", "--ro-bind", `${missing}:/mnt`, "--", "true"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toBe(`isolate: --ro-bind ${missing}:/mnt: source ${missing} does not exist\n`);
  });

  test("view: rootfs", async () => {
    const e = await thrown(() => run({ command: ["true"], rootfs: missing }));
    expect(e.field).toBe("rootfs");
    expect(e.message).toBe(`rootfs: "${missing}": no such directory`);
    const r = await isolate(["exec", "--rootfs", missing, "--", "true"]);
    expect(r.stderr).toBe(`isolate: --rootfs ${missing}: no such directory\n`);
  });

  test("named: a bad name", async () => {
    const e = await thrown(() => checkName("no way"));
    expect(e.field).toBe("name");
    expect(e.message).toBe('name: "no way": not a valid sandbox name');
    const r = await isolate(["exec", "--name", "no way", "--", "true"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toStartWith("isolate: --name no way: not a valid sandbox name (1 to 63 characters");
  });

  test("named: join", async () => {
    const { resolveJoin } = await import("../../src/named/join.ts");
    const spec = parseSpec({ command: ["true"] });
    const e = await thrown(() => resolveJoin(spec, ["web"]));
    expect(e.field).toBe("join");
    expect(e.text()).toBe('join: "web": expected NAME:NS[,NS...] (e.g. join: "web:net")');
    const r = await isolate(["exec", "--join", "web", "--", "true"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toBe("isolate: --join web: expected NAME:NS[,NS...] (e.g. --join web:net)\n");
  });

  test("a setup failure: the same words, rendered by whoever prints them", async () => {
    const { failureText, setupFailure } = await import("../../src/supervisor/result.ts");
    const f = setupFailure(
      { index: 3, op: "x", what: "x", errno: 13, errnoName: "EACCES" },
      `x: denied (run with ${field("userns", "host")})`,
    );
    expect(f.message).toBe('x: denied (run with userns: "host")');
    expect(failureText(f, (p, v) => `--${p} ${v}`)).toBe("x: denied (run with --userns host)");
    expect(JSON.stringify(f)).not.toContain("\u{E000}");
  });
});
