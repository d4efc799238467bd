/**
 * Files the CLI reads on the host because the caller named them (`--env-file`,
 * `--profile`): never autoloaded, and opened so that the last component is
 * never a symbolic link (O_NOFOLLOW: a link planted in a directory a sandbox
 * could write is refused, not followed), only a regular file (a FIFO cannot
 * make isolate hang), read through the descriptor it opened.
 */
import { HostError } from "../errors.ts";
import { osPath, osString } from "../host/bytes.ts";
import { errnoByName, errnoText } from "../host/errno.ts";
import { nodeFs } from "../host/files.ts";

/** More is not a profile or an env file. */
const MAX_BYTES = 1 << 20;

/** The file's text (bytes that are not UTF-8 kept as src/host/bytes.ts does). Throws HostError naming `flag` and the file. */
export function readHostFile(flag: string, path: string): string;
export function readHostFile(flag: string, path: string, missingOk: true): string | undefined;
export function readHostFile(flag: string, path: string, missingOk = false): string | undefined {
  const fs = nodeFs();
  const c = fs.constants;
  const shown = `${flag} ${path}`;
  let fd: number;
  try {
    fd = fs.openSync(osPath(path), c.O_RDONLY | c.O_NOFOLLOW | c.O_NONBLOCK | c.O_NOCTTY);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "";
    if (missingOk && code === "ENOENT") return undefined;
    if (code === "ELOOP") {
      throw new HostError(`${shown}: is a symbolic link: refusing to follow it`, "pass the path it points to");
    }
    const errno = errnoByName(code);
    throw new HostError(`${shown}: ${errno === undefined ? code || String(e) : errnoText(errno)}`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new HostError(`${shown}: not a regular file`);
    if (st.size > MAX_BYTES) throw new HostError(`${shown}: larger than 1 MiB`);
    const buf = Buffer.alloc(Math.min(MAX_BYTES + 1, Math.max(st.size + 1, 4096)));
    let n = 0;
    for (;;) {
      const r = fs.readSync(fd, buf, n, buf.length - n, null);
      if (r === 0) break;
      n += r;
      if (n > MAX_BYTES) throw new HostError(`${shown}: larger than 1 MiB`);
      if (n === buf.length) break;
    }
    return osString(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
}
