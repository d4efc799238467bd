/**
 * Subordinate id ranges (/etc/subuid, /etc/subgid: `NAME_OR_ID:START:COUNT`
 * per line), the ranges newuidmap/newgidmap let a user map, and the caller's
 * login name they are keyed by.
 */
import { nodeFs, readSmallText } from "./files.ts";

export interface SubRange {
  readonly start: number;
  readonly count: number;
}

export const SUBUID = "/etc/subuid";
export const SUBGID = "/etc/subgid";

/** The ranges of `file` for a user known by uid or name (both spellings count). */
export function parseSubIds(text: string, user: { uid: number; name: string | undefined }): SubRange[] {
  const out: SubRange[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const [who, start, count] = line.split(":");
    if (who === undefined || start === undefined || count === undefined) continue;
    if (who !== String(user.uid) && who !== user.name) continue;
    const s = Number(start);
    const c = Number(count);
    if (Number.isSafeInteger(s) && Number.isSafeInteger(c) && s >= 0 && c > 0) out.push({ start: s, count: c });
  }
  return out;
}

export function readSubIds(file: string, user: { uid: number; name: string | undefined }): SubRange[] {
  try {
    return parseSubIds(readSmallText(file) ?? "", user);
  } catch {
    return [];
  }
}

/** The login name of a uid, from /etc/passwd; undefined when it has none there. */
export function userName(uid: number, passwd = "/etc/passwd"): string | undefined {
  try {
    for (const line of nodeFs().readFileSync(passwd, "utf8").split("\n")) {
      const f = line.split(":");
      if (f.length >= 3 && f[2] === String(uid)) return f[0];
    }
  } catch {}
  return undefined;
}

const HELPER_DIRS = ["/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin"];

/** Where newuidmap/newgidmap live (the usual places first: PATH is the caller's). */
export function findHelper(name: string): string | undefined {
  for (const dir of HELPER_DIRS) {
    const p = `${dir}/${name}`;
    try {
      nodeFs().accessSync(p, nodeFs().constants.X_OK);
      return p;
    } catch {}
  }
  return Bun.which(name) ?? undefined;
}
