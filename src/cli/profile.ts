/**
 * `--profile FILE|NAME`: Spec fields from a TOML or JSON file, the base the
 * command line builds on.
 *
 *   - FILE: a path (it has a '/' or an extension); `.json` is JSON, anything
 *     else TOML. NAME (no '/', no '.'): $XDG_CONFIG_HOME/isolate/NAME.toml
 *     (default ~/.config), then /etc/isolate/NAME.toml. The current directory
 *     is never searched, and nothing is ever loaded unless named.
 *   - Opened without following a link in the last component, regular files
 *     only (src/cli/host-file.ts).
 *   - Keys are Spec fields (src/config/schema.ts), as a library caller writes
 *     them: `hostname`, `share`, `[limits] memory = "1G"`, `[[mounts]]`...
 *     `env` may also be a table (`[env] CI = "1"`): its entries in file order.
 *   - Merging (several profiles in order, then the flags): lists append
 *     (env, mounts, share, rlimits, ...), `limits` merges key by key,
 *     everything else, a non-empty command included, is overridden.
 *
 * Errors name the file, the field path, the TOML line and the flag that sets
 * the same field on the command line.
 */
import * as v from "valibot";
import { SpecInputSchema } from "../config/schema.ts";
import { SpecError } from "../errors.ts";
import { LimitsInputSchema } from "../facilities/limits/fields.ts";
import type { Draft } from "./flags.ts";
import { flagOf } from "./flags.ts";
import { readHostFile } from "./host-file.ts";
import { closest } from "./suggest.ts";

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === "object" && x !== null && !Array.isArray(x);

export interface Profile {
  /** The file it was read from. */
  readonly path: string;
  readonly fields: Obj;
}

const PartialSpec = v.partial(SpecInputSchema);

/** Where a profile named NAME is looked for, in order. */
export function profileDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const dirs: string[] = [];
  const xdg = env.XDG_CONFIG_HOME;
  // The XDG spec: a relative value is invalid and ignored.
  if (xdg?.startsWith("/")) dirs.push(`${xdg}/isolate`);
  else if (env.HOME?.startsWith("/")) dirs.push(`${env.HOME}/.config/isolate`);
  dirs.push("/etc/isolate");
  return dirs;
}

const isName = (s: string) => /^[^/.]+$/.test(s);

/** Find and read the profile. */
function readProfile(arg: string): { path: string; text: string } {
  if (arg === "") throw new SpecError("--profile: empty name");
  if (!isName(arg)) return { path: arg, text: readHostFile("--profile", arg) };
  const dirs = profileDirs();
  for (const dir of dirs) {
    const path = `${dir}/${arg}.toml`;
    const text = readHostFile("--profile", path, true);
    if (text !== undefined) return { path, text };
  }
  throw new SpecError(
    `--profile ${arg}: no ${arg}.toml in ${dirs.join(" or ")}`,
    `a file in the current directory is never looked for by name: pass ./${arg}.toml`,
  );
}

/** The line a TOML syntax error is on: the shortest prefix of the file that fails the same way. */
function syntaxLine(text: string, message: string): number | undefined {
  const lines = text.split("\n");
  for (let n = 1; n <= lines.length; n++) {
    try {
      Bun.TOML.parse(`${lines.slice(0, n).join("\n")}\n`);
    } catch (e) {
      if ((e as Error).message === message) return n;
    }
  }
  return undefined;
}

const KEY = `(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')`;
const DOTTED = String.raw`${KEY}(?:\s*\.\s*${KEY})*`;
const HEADER = new RegExp(String.raw`^\s*(\[\[?)\s*(${DOTTED})\s*\]\]?`);
const ASSIGN = new RegExp(String.raw`^\s*(${DOTTED})\s*=`);
const splitKey = (k: string) =>
  (k.match(new RegExp(KEY, "g")) ?? []).map((p) => (/^["']/.test(p) ? p.slice(1, -1) : p));

/**
 * The line of a field path (`limits.memory`, `mounts.2.src`) in TOML text:
 * the line of its longest prefix that the text spells as a key or a table.
 */
export function tomlLine(text: string, path: readonly (string | number)[]): number | undefined {
  const seen = new Map<string, number>();
  const counts = new Map<string, number>();
  let table: string[] = [];
  text.split("\n").forEach((line, i) => {
    const h = HEADER.exec(line);
    if (h) {
      const keys = splitKey(h[2] ?? "");
      if (h[1] === "[[") {
        const k = keys.join(".");
        const n = counts.get(k) ?? 0;
        counts.set(k, n + 1);
        table = [...keys, String(n)];
      } else table = keys;
      const at = table.join(".");
      if (!seen.has(at)) seen.set(at, i + 1);
      return;
    }
    const a = ASSIGN.exec(line);
    if (a) {
      const at = [...table, ...splitKey(a[1] ?? "")].join(".");
      if (!seen.has(at)) seen.set(at, i + 1);
    }
  });
  for (let n = path.length; n > 0; n--) {
    const line = seen.get(path.slice(0, n).join("."));
    if (line !== undefined) return line;
  }
  return undefined;
}

/** `env` as a table: its entries as the list the Spec takes. */
function envTable(fields: Obj): Obj {
  if (!isObj(fields.env)) return fields;
  const env = Object.entries(fields.env).map(([name, value]) => (value === undefined ? { name } : { name, value }));
  return { ...fields, env };
}

/** Read, parse and check one profile (its fields alone: the command line comes later). */
export function loadProfile(arg: string): Profile {
  const { path, text } = readProfile(arg);
  const json = path.endsWith(".json");
  let data: unknown;
  try {
    data = json ? JSON.parse(text) : Bun.TOML.parse(text);
  } catch (e) {
    const msg = (e as Error).message.replace(/^(TOML|JSON) Parse error: /, "");
    const line = json ? undefined : syntaxLine(text, (e as Error).message);
    throw new SpecError(`--profile ${path}${line ? `:${line}` : ""}: not valid ${json ? "JSON" : "TOML"}: ${msg}`);
  }
  if (!isObj(data)) throw new SpecError(`--profile ${path}: must hold an object of Spec fields`);
  const fields = envTable(data);
  const r = v.safeParse(PartialSpec, fields);
  if (!r.success) {
    const issue = r.issues[0];
    const keys = (issue.path ?? []).map((p) => p.key as string | number);
    const dotted = keys.join(".");
    const line = json ? undefined : tomlLine(text, keys);
    const field = keys.filter((k) => typeof k === "string").join(".");
    const flag = field ? flagOf(field) : "";
    const value = issue.input;
    const shown = typeof value === "string" && value.length <= 80 ? ` "${value}"` : "";
    const where = `--profile ${path}${line ? `:${line}` : ""}`;
    if (issue.type === "strict_object" && keys.length > 0) {
      const parent = keys.slice(0, -1).join(".");
      const known = parent === "" ? SpecInputSchema.entries : parent === "limits" ? LimitsInputSchema.entries : {};
      const near = closest(String(keys.at(-1)), Object.keys(known));
      throw new SpecError(`${where}: unknown field ${dotted}`, near ? `did you mean ${near}?` : undefined);
    }
    throw new SpecError(
      `${where}: ${dotted || "(top)"}${shown}: ${issue.message}`,
      flag.startsWith("--") ? `the field ${flag} sets` : undefined,
    );
  }
  return { path, fields };
}

/** Merge `over` into `base`: lists append, `limits` merges key by key, the rest is replaced. */
export function mergeFields(base: Obj, over: Obj, nested = false): Obj {
  const out: Obj = { ...base };
  for (const [k, b] of Object.entries(over)) {
    if (b === undefined) continue;
    const a = out[k];
    if (k === "command" && !nested) {
      if (Array.isArray(b) && b.length === 0) continue;
      out[k] = b;
    } else if (Array.isArray(a) && Array.isArray(b)) out[k] = [...a, ...b];
    else if (k === "limits" && !nested && isObj(a) && isObj(b)) out[k] = mergeFields(a, b, true);
    else out[k] = b;
  }
  return out;
}

/** The profiles in order, then the command line's draft: the SpecInput to parse. */
export function applyProfiles(args: readonly string[], draft: Draft): { input: Obj; profiles: Profile[] } {
  const profiles = args.map(loadProfile);
  let input: Obj = {};
  for (const p of profiles) input = mergeFields(input, p.fields);
  return { input: mergeFields(input, draft as Obj), profiles };
}
