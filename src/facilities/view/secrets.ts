/**
 * The credential stores masked in the default view (src/facilities/view/secret-fields.ts
 * lists them), resolved on the host at compile time: one `mask` op for each
 * path that exists now. A path that disappears before the init runs is
 * skipped there (a mask of nothing); one that becomes a symlink fails the run.
 *
 * Homes: the caller's, from its passwd entry and from its $HOME (the caller's
 * own environment, read before anything runs; a sandbox cannot set it), and
 * root's (/root). A store that is a symlink is masked where it leads, so the
 * link shows an empty directory or file.
 *
 * The masks come after the cwd bind (a cwd of ~ must not bring ~/.ssh back)
 * and before the Spec's own mounts: an explicit `--ro-bind ~/.ssh:/keys` still
 * shows them. A cwd inside a masked store is refused (125): the command would
 * start in a directory it cannot see.
 */

import type { Spec } from "../../config/schema.ts";
import { SpecError, field as specField } from "../../errors.ts";
import { osEnvEntry, osPath, osString } from "../../host/bytes.ts";
import { listNames, lstatKind, nodeFs, readSmallText } from "../../host/files.ts";
import { basename, dirname } from "../../host/paths.ts";
import type { Host } from "../../host/probe.ts";
import { canonicalPath, within } from "./fields.ts";
import { HOME_SECRETS, SECRETS, SYSTEM_SECRETS, type Unmask } from "./secret-fields.ts";

/** The caller's home in /etc/passwd, if it has one. */
function passwdHome(uid: number): string | undefined {
  const text = readSmallText("/etc/passwd");
  if (text === undefined) return undefined;
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f.length >= 7 && f[2] === String(uid)) return f[5];
  }
  return undefined;
}

/** The homes whose stores are masked: canonical, without duplicates. */
export function secretHomes(host: Host): string[] {
  const out: string[] = [];
  const env = host.env.HOME;
  const home = env === undefined ? undefined : osEnvEntry("HOME", env)[1];
  for (const h of ["/root", passwdHome(host.uid), home]) {
    if (h === undefined || h === "") continue;
    const c = canonicalPath(h);
    if (typeof c === "string" && !out.includes(c)) out.push(c);
  }
  return out;
}

/** A one-name glob (`*` within the name) as a regex; the list is fixed, so each is built once. */
const globs = new Map<string, RegExp>();
function globRegex(name: string): RegExp {
  let re = globs.get(name);
  if (!re) {
    re = new RegExp(
      `^${name
        .split("*")
        .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
        .join("[^/]*")}$`,
    );
    globs.set(name, re);
  }
  return re;
}

/** Names in dir matching a one-name glob (`*` within the name). */
function globIn(base: string, dir: string, name: string): string[] {
  if (!name.includes("*")) return [name];
  const re = globRegex(name);
  return (listNames(base === "/" ? dir : base + dir) ?? []).filter((n) => re.test(n)).sort();
}

/** The path to mask for `path` in the base: itself, where a symlink leads (host root only), or nothing. */
function existing(base: string, path: string): string | undefined {
  const kind = lstatKind(base === "/" ? path : base + path);
  if (kind === "none") return undefined;
  if (kind !== "link") return path;
  if (base !== "/") return undefined;
  try {
    // A symlinked store (rare): node:fs for its target.
    const real = osString(nodeFs().realpathSync(osPath(path), { encoding: "buffer" }));
    return typeof canonicalPath(real) === "string" ? real : undefined;
  } catch {
    return undefined;
  }
}

const join = (dir: string, name: string) => (dir === "/" ? `/${name}` : `${dir}/${name}`);

function kept(unmask: readonly Unmask[], entry: string, path: string): boolean {
  return unmask.some((u) => u.entry === entry && (!("path" in u) || u.path === path));
}

export interface SecretMask {
  /** The list entry (`~/.ssh`). */
  readonly entry: string;
  /** The path masked inside. */
  readonly path: string;
}

/** The masks for a Spec on this host, in a stable order. */
export function secretMasks(spec: Spec, host: Host): SecretMask[] {
  const base = spec.rootfs ?? "/";
  const homes = secretHomes(host);
  // A concrete --unmask under a home isolate does not mask in names nothing.
  for (const u of spec.unmask) {
    if ("home" in u && u.home !== undefined && !homes.includes(u.home)) {
      throw new SpecError(
        `${specField("unmask", u.path)}: not one of the masked paths: ${u.home} is not a home isolate masks in (${homes.join(", ")})`,
        `the list: ${SECRETS.join(" ")}`,
      );
    }
  }
  const out: SecretMask[] = [];
  // Every path here is made from its entry (globs through the entry's own
  // regex), so it matches the entry by construction: only --unmask is checked.
  const add = (entry: string, path: string) => {
    if (kept(spec.unmask, entry, path)) return;
    const target = existing(base, path);
    if (target !== undefined && !out.some((m) => m.path === target)) out.push({ entry, path: target });
  };
  for (const home of homes) {
    for (const rel of HOME_SECRETS) {
      const entry = `~/${rel}`;
      const full = `${home === "/" ? "" : home}/${rel}`;
      for (const name of globIn(base, dirname(full), basename(full))) add(entry, join(dirname(full), name));
    }
  }
  for (const sys of SYSTEM_SECRETS) {
    for (const name of globIn(base, dirname(sys), basename(sys))) add(sys, join(dirname(sys), name));
  }
  return out;
}

/** 125 when the working directory bound into the view lies inside a masked store. */
export function checkCwdNotMasked(masks: readonly SecretMask[], cwd: string): void {
  const m = masks.find((s) => within(cwd, s.path));
  if (m) {
    throw new SpecError(
      `the working directory ${cwd} is inside ${m.path}, a credential store masked by default (${m.entry})`,
      `pass ${specField("unmask", m.path)} to keep it visible, or ${specField("cwdMount", "none")}`,
    );
  }
}
