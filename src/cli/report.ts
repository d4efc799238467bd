/**
 * Where the run report goes: `--report FILE` and `--report-fd N`. Both are
 * settled before the sandbox starts, so nothing the command writes can steer
 * them: the file is opened then (never following a symlink in any component,
 * creating no directory: isolate_open_report in native/shim.c), and the
 * inherited descriptor is checked then and made close-on-exec (the sandbox
 * closes every fd but stdio anyway: the command never sees it). The report
 * is written to the descriptor when the run is done. `--json` is different:
 * it writes to stderr, which the command shares.
 */
import { HostError, SpecError } from "../errors.ts";
import { osPath, osString } from "../host/bytes.ts";
import { errnoText } from "../host/errno.ts";
import { nodeFs } from "../host/files.ts";
import { loadShim, REPORT_HARD_LINKED, REPORT_NOT_INHERITED, REPORT_NOT_REGULAR } from "../shim/load.ts";

const ENOENT = 2;
const EBADF = 9;
const EACCES = 13;
const ELOOP = 40;
const ENXIO = 6;

export interface ReportTarget {
  /** `--report FILE` or `--report-fd N`, for messages. */
  readonly flag: string;
  readonly fd: number;
}

/** The first component of `path` that is a symbolic link, and where it points (for the message). */
function firstLink(path: string): { link: string; target: string } | undefined {
  const parts = path.split("/");
  let cur = path.startsWith("/") ? "" : ".";
  for (const part of parts) {
    if (part === "") continue;
    cur = cur === "." ? part : `${cur}/${part}`;
    try {
      if (!nodeFs().lstatSync(osPath(cur)).isSymbolicLink()) continue;
      return { link: cur, target: osString(nodeFs().readlinkSync(osPath(cur), { encoding: "buffer" })) };
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Open `--report FILE` (before the sandbox starts). Throws a one-line error, exit 125. */
export function openReportFile(path: string): ReportTarget {
  const flag = `--report ${path}`;
  if (path === "") throw new SpecError("--report: empty file name");
  const fd = loadShim().openReport(path);
  if (fd >= 0) return { flag, fd };
  const errno = -fd;
  if (errno === ELOOP) {
    const l = firstLink(path);
    const what = l ? `${l.link} is a symbolic link (to ${l.target})` : "a component is a symbolic link";
    throw new HostError(`${flag}: ${what}: refusing to follow it`, "pass the real path");
  }
  if (errno === REPORT_NOT_REGULAR || errno === ENXIO /* a FIFO without a reader, a socket */) {
    throw new HostError(`${flag}: not a regular file`, "use --report-fd N to write the report to a pipe");
  }
  if (errno === REPORT_HARD_LINKED) {
    throw new HostError(`${flag}: the file has other hard links: refusing to overwrite it`, "remove it first");
  }
  if (errno === ENOENT) {
    const slash = path.lastIndexOf("/");
    const dir = slash > 0 ? path.slice(0, slash) : slash === 0 ? "/" : ".";
    throw new HostError(`${flag}: ${errnoText(errno)}`, `isolate creates no directory: make ${dir} first`);
  }
  throw new HostError(`${flag}: ${errnoText(errno)}`);
}

/** Check `--report-fd N` (before the sandbox starts). Throws a one-line error, exit 125. */
export function takeReportFd(value: string): ReportTarget {
  const flag = `--report-fd ${value}`;
  const n = /^[0-9]{1,9}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < 3) {
    throw new SpecError(
      `${flag}: must be a file descriptor number >= 3`,
      "0, 1 and 2 are the command's own stdio: it could write a forged report there",
    );
  }
  const rc = loadShim().takeFd(n);
  if (rc === 0) return { flag, fd: n };
  if (rc === -EBADF || rc === -REPORT_NOT_INHERITED) {
    throw new HostError(
      `${flag}: not an open descriptor isolate inherited`,
      `open it for isolate, e.g. ${n}>report.json`,
    );
  }
  if (rc === -EACCES)
    throw new HostError(`${flag}: not open for writing`, `open it for writing, e.g. ${n}>report.json`);
  throw new HostError(`${flag}: ${errnoText(-rc)}`);
}

/** Write the whole report to each target, then close it. */
export function writeReportTo(targets: readonly ReportTarget[], text: string): void {
  const shim = loadShim();
  const bytes = new TextEncoder().encode(text);
  let failed: HostError | undefined;
  for (const t of targets) {
    const rc = shim.write(t.fd, bytes);
    shim.close(t.fd);
    if (rc < 0) failed ??= new HostError(`${t.flag}: write: ${errnoText(-rc)}`);
  }
  if (failed) throw failed;
}
