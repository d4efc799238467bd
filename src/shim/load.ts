/**
 * The only bun:ffi user. Loads the C shim and the sandbox init from bytes
 * embedded in the binary, through sealed memfds: nothing is written to a
 * path anyone else could replace, and a noexec /tmp does not matter.
 */
import { dlopen, FFIType, ptr } from "bun:ffi";
import { readFileSync } from "node:fs";
import initPath from "../../build/isolate-init.elf" with { type: "file" };
import shimPath from "../../build/libisolate.so" with { type: "file" };
import { HostError } from "../errors.ts";
import { errnoText } from "../host/errno.ts";

const ABI = 1;
const MFD_CLOEXEC = 1;

const symbols = {
  isolate_abi: { args: [], returns: FFIType.i32 },
  isolate_plan_check: { args: [FFIType.ptr, FFIType.u32, FFIType.ptr], returns: FFIType.i32 },
  isolate_memfd: { args: [FFIType.cstring, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
  isolate_pipe: { args: [FFIType.ptr], returns: FFIType.i32 },
  isolate_spawn: {
    args: [FFIType.ptr, FFIType.u32, FFIType.i32, FFIType.ptr, FFIType.i32, FFIType.ptr],
    returns: FFIType.i32,
  },
  isolate_wait: { args: [FFIType.i32, FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
  isolate_signal: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  isolate_probe_ns: { args: [FFIType.u64, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  isolate_probe_overlay: { args: [FFIType.cstring, FFIType.ptr], returns: FFIType.i32 },
  isolate_probe_features: { args: [FFIType.ptr], returns: FFIType.void },
} as const;

export interface Spawned {
  readonly pid: number;
  readonly pidfd: number;
  readonly syncFd: number;
  readonly recordFd: number;
}

export interface Waited {
  /** CLD_EXITED 1, CLD_KILLED 2, CLD_DUMPED 3 */
  readonly code: number;
  readonly status: number;
  readonly userUs: number;
  readonly sysUs: number;
  readonly maxRssKiB: number;
}

export interface Shim {
  /** 0, or a negative plan error with the offset of the bad byte. */
  planCheck(plan: Uint8Array): { code: number; where: number };
  /** The spawned init, or -errno. */
  spawn(plan: Uint8Array, stdio: readonly [number, number, number], cgroupFd: number): Spawned | number;
  /** The init's end, or null when nohang and it is still running. */
  wait(pidfd: number, nohang: boolean): Waited | null;
  /** 0 or -errno. */
  signal(pidfd: number, sig: number): number;
  /** [read, write], both close-on-exec. */
  pipe(): [number, number];
  /** A sealed memfd with the given bytes, close-on-exec. */
  memfd(name: string, data: Uint8Array, exec: boolean): number;
  /** The init executable, held in a memfd for the life of the process. */
  readonly initFd: number;
  /** Probes for `isolate check` (ffi/probe.c). */
  readonly probe: ShimProbes;
}

export interface ShimProbes {
  /** Can these CLONE_NEW* flags be unshared (as uid:gid when uid >= 0)? 0 or -errno. */
  ns(flags: number, uid: number, gid: number): number;
  /** Does overlayfs mount in a new user namespace (on a tmpfs over dir)? stage 0 = yes. */
  overlay(dir: string): { stage: number; errno: number };
  /** Each >= 0 when present, else -errno; landlock is the ABI version; seccompMode is this process's. */
  features(): { clone3: number; pidfd: number; seccomp: number; landlock: number; seccompMode: number };
}

const cstr = (s: string) => Buffer.from(`${s}\0`);

function loadLibrary() {
  const libc = dlopen("libc.so.6", {
    memfd_create: { args: [FFIType.cstring, FFIType.u32], returns: FFIType.i32 },
    write: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
    close: { args: [FFIType.i32], returns: FFIType.i32 },
  });
  const bytes = readFileSync(shimPath);
  const fd = libc.symbols.memfd_create(cstr("isolate-shim"), MFD_CLOEXEC);
  if (fd < 0) throw new HostError("load the shim: memfd_create failed", "isolate needs Linux 3.17 or later");
  try {
    let off = 0;
    while (off < bytes.length) {
      const n = Number(libc.symbols.write(fd, ptr(bytes, off), bytes.length - off));
      if (n <= 0) throw new HostError("load the shim: cannot write its memfd");
      off += n;
    }
    return dlopen(`/proc/self/fd/${fd}`, symbols);
  } finally {
    libc.symbols.close(fd);
    libc.close();
  }
}

let loaded: Shim | undefined;

export function loadShim(): Shim {
  if (loaded) return loaded;
  const lib = loadLibrary();
  const s = lib.symbols;
  if (s.isolate_abi() !== ABI) throw new HostError("load the shim: ABI mismatch", "rebuild with npm run build");

  const memfd = (name: string, data: Uint8Array, exec: boolean): number => {
    const fd = s.isolate_memfd(cstr(name), data.length ? ptr(data) : null, data.length, exec ? 1 : 0);
    if (fd < 0) throw new HostError(`memfd for ${name}: ${errnoText(-fd)}`);
    return fd;
  };
  const initFd = memfd("isolate-init", readFileSync(initPath), true);

  const out32 = new Int32Array(4);
  const out64 = new BigInt64Array(6);
  const where = new Uint32Array(1);
  const fds = new Int32Array(2);
  const stdioBuf = new Int32Array(3);

  loaded = {
    initFd,
    memfd,
    planCheck(plan) {
      const code = s.isolate_plan_check(ptr(plan), plan.length, ptr(where));
      return { code, where: where[0] ?? 0 };
    },
    spawn(plan, stdio, cgroupFd) {
      stdioBuf.set(stdio);
      const rc = s.isolate_spawn(ptr(plan), plan.length, initFd, ptr(stdioBuf), cgroupFd, ptr(out32));
      if (rc < 0) return rc;
      return { pid: out32[0] ?? -1, pidfd: out32[1] ?? -1, syncFd: out32[2] ?? -1, recordFd: out32[3] ?? -1 };
    },
    wait(pidfd, nohang) {
      const rc = s.isolate_wait(pidfd, nohang ? 1 : 0, ptr(out64));
      if (rc < 0) throw new HostError(`wait for the sandbox: ${errnoText(-rc)}`);
      if (nohang && out64[5] === 0n) return null;
      return {
        code: Number(out64[0]),
        status: Number(out64[1]),
        userUs: Number(out64[2]),
        sysUs: Number(out64[3]),
        maxRssKiB: Number(out64[4]),
      };
    },
    signal(pidfd, sig) {
      return s.isolate_signal(pidfd, sig);
    },
    probe: {
      ns: (flags, uid, gid) => s.isolate_probe_ns(flags, uid, gid),
      overlay(dir) {
        const out = new Int32Array(2);
        s.isolate_probe_overlay(cstr(dir), ptr(out));
        return { stage: out[0] ?? -1, errno: -(out[1] ?? 0) };
      },
      features() {
        const out = new Int32Array(5);
        s.isolate_probe_features(ptr(out));
        return {
          clone3: out[0] ?? 0,
          pidfd: out[1] ?? 0,
          seccomp: out[2] ?? 0,
          landlock: out[3] ?? 0,
          seccompMode: out[4] ?? 0,
        };
      },
    },
    pipe() {
      const rc = s.isolate_pipe(ptr(fds));
      if (rc < 0) throw new HostError(`pipe: ${errnoText(-rc)}`);
      return [fds[0] ?? -1, fds[1] ?? -1];
    },
  };
  return loaded;
}
