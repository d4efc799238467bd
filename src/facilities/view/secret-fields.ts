/**
 * Credential stores masked in the default view, and `--unmask PATH` to keep
 * one. `~/` stands for each home isolate masks in: the caller's (its passwd
 * entry and its $HOME) and root's (/root). A `*` matches within one name.
 * src/facilities/view/secrets.ts turns the list into mask ops for the paths that exist.
 */
import { canonicalPath } from "./fields.ts";

/** Under each home. */
export const HOME_SECRETS = [
  ".ssh",
  ".gnupg",
  ".aws",
  ".azure",
  ".config/gcloud",
  ".kube",
  ".docker/config.json",
  ".netrc",
  ".git-credentials",
  ".npmrc",
  ".pypirc",
  ".cargo/credentials*",
] as const;

/** Host-wide. */
export const SYSTEM_SECRETS = ["/etc/shadow", "/etc/gshadow", "/etc/ssh/ssh_host_*_key"] as const;

/** The whole list, as the README and messages spell it. */
export const SECRETS: readonly string[] = [...HOME_SECRETS.map((p) => `~/${p}`), ...SYSTEM_SECRETS];

const patterns = new Map<string, RegExp>();

/** A pattern of the list (`*` within one name) as an anchored regex of the rest of a path (built once each). */
function pattern(glob: string): RegExp {
  let re = patterns.get(glob);
  if (re) return re;
  const body = glob
    .split("*")
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
    .join("[^/]*");
  re = new RegExp(`^${body}$`);
  patterns.set(glob, re);
  return re;
}

/**
 * An --unmask entry: a list entry as spelled (`~/.ssh` keeps it in every
 * home), or one path it stands for (`/home/me/.ssh`, `/etc/ssh/ssh_host_rsa_key`).
 */
export type Unmask =
  | { readonly entry: string }
  | { readonly entry: string; readonly path: string; readonly home?: string };

/** What an --unmask value names, or an error message naming the list. */
export function parseUnmask(value: string): Unmask | string {
  const bad = `not one of the masked paths (${SECRETS.join(" ")})`;
  if (SECRETS.includes(value)) return { entry: value };
  const c = canonicalPath(value);
  if (typeof c !== "string") return bad;
  for (const sys of SYSTEM_SECRETS) if (pattern(sys).test(c)) return { entry: sys, path: c };
  for (const rel of HOME_SECRETS) {
    // HOME/REL: the home is what comes before REL's first component.
    const depth = rel.split("/").length;
    const parts = c.split("/");
    if (parts.length - 1 <= depth) continue;
    const tail = parts.slice(-depth).join("/");
    if (pattern(rel).test(tail)) {
      const home = parts.slice(0, -depth).join("/") || "/";
      return { entry: `~/${rel}`, path: c, home };
    }
  }
  return bad;
}
