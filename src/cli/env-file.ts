/**
 * `--env-file FILE`, docker's format (docker run --env-file):
 *
 *   - a line is trimmed of leading whitespace; empty lines and lines starting
 *     with '#' are skipped (a '#' later in a line is part of the value);
 *   - `KEY=VALUE` sets KEY to everything after the first '=', as it is: no
 *     quotes are removed, no escapes or `$VAR` expanded, trailing spaces kept;
 *   - `KEY` alone passes the caller's KEY through (nothing when it has none);
 *   - KEY must be non-empty and contain no space or tab; a UTF-8 byte order
 *     mark at the start of the file is skipped.
 *
 * Unlike docker, bytes that are not UTF-8 are kept as bytes, not refused.
 * Entries join --env's in command-line order: later ones win.
 */
import { SpecError } from "../errors.ts";
import { readHostFile } from "./host-file.ts";

export interface EnvEntry {
  name: string;
  value?: string;
}

/** Parse the text of an env file; errors name `file` and the line. */
export function parseEnvFile(file: string, text: string): EnvEntry[] {
  const out: EnvEntry[] = [];
  const lines = text.replace(/^\uFEFF/, "").split("\n");
  lines.forEach((raw, i) => {
    const line = raw.replace(/\r$/, "").replace(/^\s+/, "");
    if (line === "" || line.startsWith("#")) return;
    const eq = line.indexOf("=");
    const name = eq < 0 ? line : line.slice(0, eq);
    const where = `--env-file ${file}:${i + 1}`;
    if (name === "") throw new SpecError(`${where}: no variable name before '='`);
    if (/[ \t]/.test(name)) {
      throw new SpecError(
        `${where}: variable name "${name}" contains whitespace`,
        "write KEY=VALUE, no space before '='",
      );
    }
    if (name.includes("\0")) throw new SpecError(`${where}: variable name contains a NUL byte`);
    out.push(eq < 0 ? { name } : { name, value: line.slice(eq + 1) });
  });
  return out;
}

/** Read and parse `--env-file FILE` (see src/cli/host-file.ts for how it is opened). */
export function readEnvFileFlag(file: string): EnvEntry[] {
  if (file === "") throw new SpecError("--env-file: empty file name");
  return parseEnvFile(file, readHostFile("--env-file", file));
}
