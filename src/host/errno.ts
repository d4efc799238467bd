/** errno numbers to names and texts, for messages about failed setup ops. */
import { constants } from "node:os";

const names = new Map<number, string>();
for (const [name, num] of Object.entries(constants.errno)) {
  if (!names.has(num)) names.set(num, name);
}

const texts: Record<string, string> = {
  EPERM: "Operation not permitted",
  ENOENT: "No such file or directory",
  ESRCH: "No such process",
  EINTR: "Interrupted system call",
  EIO: "Input/output error",
  E2BIG: "Argument list too long",
  ENOEXEC: "Exec format error",
  EBADF: "Bad file descriptor",
  EAGAIN: "Resource temporarily unavailable",
  ENOMEM: "Cannot allocate memory",
  EACCES: "Permission denied",
  EFAULT: "Bad address",
  EBUSY: "Device or resource busy",
  EEXIST: "File exists",
  EXDEV: "Invalid cross-device link",
  ENODEV: "No such device",
  ENOTDIR: "Not a directory",
  EISDIR: "Is a directory",
  EINVAL: "Invalid argument",
  ENFILE: "Too many open files in system",
  EMFILE: "Too many open files",
  ETXTBSY: "Text file busy",
  EFBIG: "File too large",
  ENOSPC: "No space left on device",
  EROFS: "Read-only file system",
  EMLINK: "Too many links",
  EPIPE: "Broken pipe",
  ENAMETOOLONG: "File name too long",
  ENOSYS: "Function not implemented",
  ELOOP: "Too many levels of symbolic links",
  EDQUOT: "Disk quota exceeded",
  EOPNOTSUPP: "Operation not supported",
  EUSERS: "Too many users",
};

export function errnoName(errno: number): string {
  return names.get(errno) ?? `E${errno}`;
}

export function errnoText(errno: number): string {
  const name = errnoName(errno);
  return texts[name] ?? name;
}
