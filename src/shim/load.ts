/**
 * The bun:ffi user (with landlock-abi.ts, for one system call). Loads the C
 * shim and the sandbox init from bytes embedded in this program
 * (build/embedded.ts), through sealed memfds: nothing is written to a path
 * anyone else could replace, and a noexec /tmp does not matter. It also
 * carries the few file operations the supervisor needs, so the hot path
 * never loads node:fs.
 */
import { dlopen, FFIType, JSCallback, ptr } from "bun:ffi";
import { INIT_BASE64, SHIM_BASE64 } from "../../build/embedded.ts";
import { HostError } from "../errors.ts";
import { osBytes, splitNul } from "../host/bytes.ts";
import { errnoText } from "../host/errno.ts";
import { setFastFs, setFastReader } from "../host/files.ts";
import { setProcReader } from "../host/probe.ts";

const ABI = 3;
/** native/worker.c's job kinds. */
const JOB_SPAWN = 1;
const JOB_WRITES = 2;
const JOB_WAIT = 3;
const JOB_IDMAP = 4;
const MFD_CLOEXEC = 1;
const ERANGE = 34;
/** The largest directory listing read through the shim (bytes of names). */
const MAX_LIST = 1 << 24;
const GO = Uint8Array.of(1);
const MFD_ALLOW_SEALING = 2;
const F_ADD_SEALS = 1033;
/** F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE: the same seals isolate_memfd() sets. */
const ALL_SEALS = 0x1 | 0x2 | 0x4 | 0x8;

const symbols = {
  isolate_abi: { args: [], returns: FFIType.i32 },
  isolate_plan_check: { args: [FFIType.ptr, FFIType.u32, FFIType.ptr], returns: FFIType.i32 },
  isolate_memfd: { args: [FFIType.cstring, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
  isolate_pipe: { args: [FFIType.ptr], returns: FFIType.i32 },
  isolate_spawn: {
    args: [FFIType.ptr, FFIType.u32, FFIType.i32, FFIType.ptr, FFIType.i32, FFIType.ptr],
    returns: FFIType.i32,
  },
  isolate_submit: {
    args: [FFIType.i32, FFIType.ptr, FFIType.u32, FFIType.i32, FFIType.ptr, FFIType.i32, FFIType.i32],
    returns: FFIType.i32,
  },
  isolate_worker_init: { args: [FFIType.ptr], returns: FFIType.void },
  isolate_wait: { args: [FFIType.i32, FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
  isolate_signal: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  isolate_sched_init: { args: [FFIType.i32], returns: FFIType.i32 },
  isolate_close: { args: [FFIType.i32], returns: FFIType.i32 },
  isolate_fd_ok: { args: [FFIType.i32], returns: FFIType.i32 },
  isolate_open: { args: [FFIType.cstring, FFIType.i32], returns: FFIType.i32 },
  isolate_write: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i32 },
  isolate_read_file: { args: [FFIType.cstring, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
  isolate_write_file: { args: [FFIType.cstring, FFIType.ptr, FFIType.u64], returns: FFIType.i32 },
  isolate_go: { args: [FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  isolate_idmap_tree: {
    args: [FFIType.cstring, FFIType.i32, FFIType.u64, FFIType.i32, FFIType.ptr],
    returns: FFIType.i32,
  },
  isolate_open_dir_nofollow: { args: [FFIType.cstring], returns: FFIType.i32 },
  isolate_type_at: { args: [FFIType.i32, FFIType.cstring], returns: FFIType.i32 },
  isolate_remove_at: { args: [FFIType.i32, FFIType.cstring], returns: FFIType.i32 },
  isolate_list_dir: { args: [FFIType.cstring, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
} as const;

/** Bound only when `isolate check` asks: every symbol bound costs startup time. */
const probeSymbols = {
  isolate_probe_ns: { args: [FFIType.u64, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  isolate_probe_overlay: { args: [FFIType.cstring, FFIType.ptr], returns: FFIType.i32 },
  isolate_probe_features: { args: [FFIType.ptr], returns: FFIType.void },
} as const;

/** Bound only for --report and --report-fd. */
const reportSymbols = {
  isolate_open_report: { args: [FFIType.cstring], returns: FFIType.i32 },
  isolate_take_fd: { args: [FFIType.i32], returns: FFIType.i32 },
} as const;

/** Bound only for --pty (ffi/tty.c). */
const ttySymbols = {
  isolate_recv_pty: { args: [FFIType.i32], returns: FFIType.i32 },
  isolate_tty_get: { args: [FFIType.i32, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
  isolate_tty_set: { args: [FFIType.i32, FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
  isolate_tty_winsize: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
  isolate_pty_resize: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  isolate_pty_eof: { args: [FFIType.i32], returns: FFIType.i32 },
} as const;

/** Bound only for named sandboxes (src/named/). */
const namedSymbols = {
  isolate_enter: {
    args: [FFIType.ptr, FFIType.u32, FFIType.i32, FFIType.ptr, FFIType.i32, FFIType.i32, FFIType.ptr],
    returns: FFIType.i32,
  },
  isolate_spawn_join: {
    args: [FFIType.ptr, FFIType.u32, FFIType.i32, FFIType.ptr, FFIType.i32, FFIType.i32, FFIType.u64, FFIType.ptr],
    returns: FFIType.i32,
  },
  isolate_pidfd_open: { args: [FFIType.i32], returns: FFIType.i32 },
  isolate_flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  isolate_setsid: { args: [], returns: FFIType.i32 },
  isolate_dup2: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
} as const;

/** native/shim.c's own refusals of a report destination, beyond errno values. */
export const REPORT_NOT_REGULAR = 4096;
export const REPORT_HARD_LINKED = 4097;
export const REPORT_NOT_INHERITED = 4098;

export interface Spawned {
  readonly pid: number;
  readonly pidfd: number;
  readonly syncFd: number;
  readonly recordFd: number;
}

/** One failed write of writeFiles(): its index in the list and -errno. */
export interface WriteFailure {
  readonly index: number;
  readonly rc: number;
}

/**
 * Where the slow system calls of a sandbox's start run: a worker thread of
 * the shim (the library: the event loop is free meanwhile), or the calling
 * thread (the one-shot CLI: nothing else waits, and no thread is started).
 */
export interface StartIO {
  spawn(plan: Uint8Array, stdio: readonly [number, number, number], cgroupFd: number): Promise<Spawned | number>;
  /** Each [path, text] in one write(2), in order: null, or the first that failed. */
  writeFiles(files: readonly (readonly [string, string])[]): Promise<WriteFailure | null>;
  /** Reap the init (it has closed its record pipe: it is exiting). */
  wait(pidfd: number): Promise<Waited>;
  /** Shim.idmapTree(). */
  idmapTree(path: string, usernsFd: number, attrs: number, plainOk: PlainBind): Promise<IdmapResult>;
}

export function startIO(shim: Shim, inline: boolean): StartIO {
  if (!inline) {
    return {
      spawn: shim.spawnAsync,
      writeFiles: shim.writeFilesAsync,
      wait: shim.waitAsync,
      idmapTree: shim.idmapTreeAsync,
    };
  }
  return {
    spawn: async (plan, stdio, cgroupFd) => shim.spawn(plan, stdio, cgroupFd),
    writeFiles: async (files) => shim.writeFiles(files),
    wait: async (pidfd) => shim.wait(pidfd, false) as Waited,
    idmapTree: async (path, usernsFd, attrs, plainOk) => shim.idmapTree(path, usernsFd, attrs, plainOk),
  };
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
  /**
   * spawn() on a worker thread of the shim (native/worker.c): the JS thread is
   * not held while the init is cloned and execs; the answer is read from a
   * pipe on the event loop.
   */
  spawnAsync(plan: Uint8Array, stdio: readonly [number, number, number], cgroupFd: number): Promise<Spawned | number>;
  /**
   * Each [path, text] written as writeFile() does, in order, on a worker thread
   * of the shim (a cgroup.procs write waits for an RCU grace period): null, or
   * the first write that failed.
   */
  writeFilesAsync(files: readonly (readonly [string, string])[]): Promise<WriteFailure | null>;
  /** The same, on the calling thread. */
  writeFiles(files: readonly (readonly [string, string])[]): WriteFailure | null;
  /** wait(pidfd, false) on a worker thread of the shim: the init's last exit work may wait for RCU grace periods. */
  waitAsync(pidfd: number): Promise<Waited>;
  /** The init's end, or null when nohang and it is still running. */
  wait(pidfd: number, nohang: boolean): Waited | null;
  /** 0 or -errno. */
  signal(pidfd: number, sig: number): number;
  /** Make the init real-time (not its children): 0 or -errno. */
  schedInit(pid: number): number;
  /** [read, write], both close-on-exec. */
  pipe(): [number, number];
  /** A sealed memfd with the given bytes, close-on-exec. */
  memfd(name: string, data: Uint8Array, exec: boolean): number;
  /** The init executable, held in a memfd for the life of the process. */
  readonly initFd: number;
  close(fd: number): void;
  /** Whether fd is open. */
  fdOk(fd: number): boolean;
  /** open(2) with O_CLOEXEC added: the fd or -errno. */
  open(path: string, flags: number): number;
  /** Write all of data: 0 or -errno. */
  write(fd: number, data: Uint8Array): number;
  /** A small file's text, or -errno. */
  readFile(path: string, max?: number): string | number;
  /** The whole text in one write(2), as /proc and cgroup files want: 0 or -errno. */
  writeFile(path: string, text: string): number;
  /** Release the init (GO), passing it these fds: 0 or -errno. */
  go(syncFd: number, fds: readonly number[]): number;
  /**
   * A detached clone of the tree at path (no symlink followed), idmapped
   * through the user namespace of usernsFd, with these MOUNT_ATTR_* bits set,
   * private: the mount fd, or the errno and the step that failed. Where the
   * filesystem has no idmapped mounts, plainOk allows a plain clone: "always",
   * or "file" (only when the source is not a directory); "only": never idmapped.
   */
  idmapTree(path: string, usernsFd: number, attrs: number, plainOk: PlainBind): IdmapResult;
  /** idmapTree() on a worker thread of the shim: mount calls wait for locks other sandboxes hold. */
  idmapTreeAsync(path: string, usernsFd: number, attrs: number, plainOk: PlainBind): Promise<IdmapResult>;
  /**
   * The report file, opened before the sandbox starts: no symlink followed in
   * any component, no directory created, truncated only when it is a regular
   * file with one link. The fd, or -errno, -REPORT_NOT_REGULAR, -REPORT_HARD_LINKED.
   */
  openReport(path: string): number;
  /** An inherited fd for the report, made close-on-exec: 0, -EBADF, -EACCES, or -REPORT_NOT_INHERITED. */
  takeFd(fd: number): number;
  /** --pty (ffi/tty.c): bound on first use. */
  readonly tty: TtyShim;
  /** Named sandboxes (src/named/): bound on first use. */
  readonly named: NamedShim;
  /** Probes for `isolate check` (native/probe.c). */
  readonly probe: ShimProbes;
  /** Host files a sandbox may have written, never through a symlink (native/hostfs.c). */
  readonly hostFs: HostFs;
}

/** Where a plain clone may stand in for an idmapped one (Shim.idmapTree). */
export type PlainBind = "never" | "always" | "file" | "only";

/** The mount fd, or the errno and the step that failed. */
export type IdmapResult = number | { errno: number; stage: "open" | "clone" | "idmap" };

const PLAIN_CODE: Record<PlainBind, number> = { never: 0, always: 1, file: 2, only: 3 };
const idmapStage = (n: number) => (n === 1 ? "open" : n === 2 ? "clone" : "idmap");

export interface HostFs {
  /** An O_PATH fd of a directory, opened with no symlink in any component: the fd, or -errno (ELOOP for a link). */
  openDir(path: string): number;
  /** The S_IFMT bits of name in the directory fd, the name itself not followed; or -errno. */
  typeAt(dir: number, name: string): number;
  /** Remove name in the directory fd and all below it, following no link: 0 or -errno. */
  removeAt(dir: number, name: string): number;
  /** The names in the directory at path (following links, as readdir does), as OS strings; or -errno. */
  list(path: string): string[] | number;
}

/** --pty: the master the init passes back, and the caller's terminal. */
export interface TtyShim {
  /** The pty master the init sent on the sync socket: the fd (close-on-exec), or -errno (EAGAIN: not yet; ENODATA: none will come; EBADMSG: not a pty master). */
  recvPty(syncFd: number): number;
  /** A terminal's settings (to restore later) and window size, or -errno (ENOTTY: not a terminal). */
  get(fd: number): { saved: Uint8Array; rows: number; cols: number } | number;
  /** Raw mode from the saved settings, or (raw false) the saved settings back: 0 or -errno. */
  set(fd: number, saved: Uint8Array, raw: boolean): number;
  /** A terminal's window size, or -errno. */
  winsize(fd: number): { rows: number; cols: number } | number;
  /** Set the pty's window size (its foreground process group gets SIGWINCH): 0 or -errno. */
  resize(master: number, rows: number, cols: number): number;
  /** The pty's EOF character, if its line discipline is canonical: 1 written, 0 not, or -errno. */
  eof(master: number): number;
}

export interface NamedShim {
  /** Spawn an init that joins the sandbox whose init `target` (a pidfd) is: Spawned or -errno. */
  enter(plan: Uint8Array, stdio: readonly [number, number, number], cgroupFd: number, target: number): Spawned | number;
  /** isolate_spawn, first joining the namespaces `flags` names of the process `joinFd` is: Spawned or -errno. */
  spawnJoin(
    plan: Uint8Array,
    stdio: readonly [number, number, number],
    cgroupFd: number,
    joinFd: number,
    flags: number,
  ): Spawned | number;
  /** After spawnJoin failed: whether the join itself (setns) was refused. */
  joinRefused(): boolean;
  /** A close-on-exec pidfd, or -errno. */
  pidfdOpen(pid: number): number;
  /** flock(2): 0 or -errno (op: LOCK_SH 1, LOCK_EX 2, LOCK_NB 4, LOCK_UN 8). */
  flock(fd: number, op: number): number;
  /** setsid(2): the sid or -errno. */
  setsid(): number;
  /** dup3(fd, to, 0): 0 or -errno. */
  dup2(fd: number, to: number): number;
}

export interface ShimProbes {
  /** Can these CLONE_NEW* flags be unshared (as uid:gid when uid >= 0)? 0 or -errno. */
  ns(flags: number, uid: number, gid: number): number;
  /** Does overlayfs mount in a new user namespace (on a tmpfs over dir)? stage 0 = yes. */
  overlay(dir: string): { stage: number; errno: number };
  /** Each >= 0 when present, else -errno; landlock is the ABI version; seccompMode is this process's. */
  features(): { clone3: number; pidfd: number; seccomp: number; landlock: number; seccompMode: number };
}

export const O_RDONLY = 0;
export const O_WRONLY = 1;
export const O_RDWR = 2;
export const S_IFDIR = 0o040000;

const enc = new TextEncoder();
const dec = new TextDecoder();
/** A C string from an OS string (src/host/bytes.ts): paths that are not UTF-8 keep their bytes. */
const cstr = (s: string) => osBytes(`${s}\0`);

/** The shim, opened from a memfd that stays open (close-on-exec) so probes can bind later. */
function loadLibrary() {
  const libc = dlopen("libc.so.6", {
    memfd_create: { args: [FFIType.cstring, FFIType.u32], returns: FFIType.i32 },
    write: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
    close: { args: [FFIType.i32], returns: FFIType.i32 },
    fcntl: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  });
  const bytes = Uint8Array.fromBase64(SHIM_BASE64);
  const fd = libc.symbols.memfd_create(cstr("isolate-shim"), MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) throw new HostError("load the shim: memfd_create failed", "isolate needs Linux 5.12 or later");
  try {
    let off = 0;
    while (off < bytes.length) {
      const n = Number(libc.symbols.write(fd, ptr(bytes, off), bytes.length - off));
      if (n <= 0) throw new HostError("load the shim: cannot write its memfd");
      off += n;
    }
    // Sealed before it is mapped: nobody, not even isolate, can change it from here on.
    if (libc.symbols.fcntl(fd, F_ADD_SEALS, ALL_SEALS) < 0) throw new HostError("load the shim: cannot seal its memfd");
    const path = `/proc/self/fd/${fd}`;
    return { lib: dlopen(path, symbols), path };
  } catch (e) {
    libc.symbols.close(fd);
    throw e;
  } finally {
    libc.close();
  }
}

let loaded: Shim | undefined;

export function loadShim(): Shim {
  if (loaded) return loaded;
  const { lib, path } = loadLibrary();
  const s = lib.symbols;
  let probes: ReturnType<typeof dlopen<typeof probeSymbols>>["symbols"] | undefined;
  let reports: ReturnType<typeof dlopen<typeof reportSymbols>>["symbols"] | undefined;
  // dlopen of the same file returns the same mapping; only the bindings are new.
  const p = () => {
    probes ??= dlopen(path, probeSymbols).symbols;
    return probes;
  };
  const r = () => {
    reports ??= dlopen(path, reportSymbols).symbols;
    return reports;
  };
  let ttySyms: ReturnType<typeof dlopen<typeof ttySymbols>>["symbols"] | undefined;
  const t = () => {
    ttySyms ??= dlopen(path, ttySymbols).symbols;
    return ttySyms;
  };
  const winBuf = new Int32Array(2);
  let namedSyms: ReturnType<typeof dlopen<typeof namedSymbols>>["symbols"] | undefined;
  const n = () => {
    namedSyms ??= dlopen(path, namedSymbols).symbols;
    return namedSyms;
  };
  if (s.isolate_abi() !== ABI) throw new HostError("load the shim: ABI mismatch", "rebuild with npm run build");

  const memfd = (name: string, data: Uint8Array, exec: boolean): number => {
    const fd = s.isolate_memfd(cstr(name), data.length ? ptr(data) : null, data.length, exec ? 1 : 0);
    if (fd < 0) throw new HostError(`memfd for ${name}: ${errnoText(-fd)}`);
    return fd;
  };
  const initFd = memfd("isolate-init", Uint8Array.fromBase64(INIT_BASE64), true);

  const out32 = new Int32Array(4);
  const joinOut = new Int32Array(5);
  const out64 = new BigInt64Array(6);
  const where = new Uint32Array(1);
  const fds = new Int32Array(2);
  const stdioBuf = new Int32Array(3);
  const stageBuf = new Int32Array(1);
  let readBuf = new Uint8Array(4096);
  let listBuf = new Uint8Array(4096);

  /**
   * Jobs on the shim's worker threads (native/worker.c). Their results come
   * back through a thread-safe callback, queued on this thread's event loop;
   * while any is out, a timer keeps the loop alive. The callback is made on
   * first use: the one-shot CLI never makes it.
   */
  type Answer = readonly [number, number, number, number, number, number];
  const jobs = new Map<number, (a: Answer) => void>();
  let nextJob = 1;
  let done: JSCallback | undefined;
  let keepAlive: ReturnType<typeof setInterval> | undefined;
  const submit = (
    kind: number,
    data: Uint8Array,
    stdio: Int32Array | null,
    initFd: number,
    cgroupFd: number,
  ): Promise<Answer> => {
    if (!done) {
      done = new JSCallback(
        (id: number, rc: number, v0: number, v1: number, v2: number, v3: number, v4: number) => {
          const resolve = jobs.get(id);
          jobs.delete(id);
          if (jobs.size === 0 && keepAlive !== undefined) {
            clearInterval(keepAlive);
            keepAlive = undefined;
          }
          resolve?.([rc, v0, v1, v2, v3, v4]);
        },
        {
          args: [FFIType.i32, FFIType.i32, FFIType.f64, FFIType.f64, FFIType.f64, FFIType.f64, FFIType.f64],
          returns: FFIType.void,
          threadsafe: true,
        },
      );
      s.isolate_worker_init(done.ptr);
    }
    const id = nextJob++ & 0x7fffffff;
    const rc = s.isolate_submit(
      kind,
      data.length ? ptr(data) : null,
      data.length,
      initFd,
      stdio ? ptr(stdio) : null,
      cgroupFd,
      id,
    );
    if (rc < 0) return Promise.resolve([rc, 0, 0, 0, 0, 0]);
    keepAlive ??= setInterval(() => {}, 1 << 30);
    return new Promise((resolve) => jobs.set(id, resolve));
  };
  const encodeWrites = (files: readonly (readonly [string, string])[]): Uint8Array => {
    const parts: Uint8Array[] = [];
    for (const [path, text] of files) {
      const p = cstr(path);
      const d = enc.encode(text);
      const head = new Uint32Array([p.length]);
      parts.push(new Uint8Array(head.buffer), p, new Uint8Array(new Uint32Array([d.length]).buffer), d);
    }
    return Buffer.concat(parts);
  };

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
    async spawnAsync(plan, stdio, cgroupFd) {
      const [rc, pid, pidfd, syncFd, recordFd] = await submit(
        JOB_SPAWN,
        plan,
        Int32Array.from(stdio),
        initFd,
        cgroupFd,
      );
      return rc < 0 ? rc : { pid, pidfd, syncFd, recordFd };
    },
    async writeFilesAsync(files) {
      if (files.length === 0) return null;
      const [rc, index] = await submit(JOB_WRITES, encodeWrites(files), null, -1, -1);
      return rc < 0 ? { index, rc } : null;
    },
    async waitAsync(pidfd) {
      const [rc, code, status, userUs, sysUs, maxRssKiB] = await submit(JOB_WAIT, new Uint8Array(0), null, -1, pidfd);
      if (rc < 0) throw new HostError(`wait for the sandbox: ${errnoText(-rc)}`);
      return { code, status, userUs, sysUs, maxRssKiB };
    },
    writeFiles(files) {
      for (const [i, [path, text]] of files.entries()) {
        const data = enc.encode(text);
        const rc = s.isolate_write_file(cstr(path), data.length ? ptr(data) : null, data.length);
        if (rc < 0) return { index: i, rc };
      }
      return null;
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
    schedInit(pid) {
      return s.isolate_sched_init(pid);
    },
    openReport: (path) => r().isolate_open_report(cstr(path)),
    takeFd: (fd) => r().isolate_take_fd(fd),
    signal(pidfd, sig) {
      return s.isolate_signal(pidfd, sig);
    },
    named: {
      enter(plan, stdio, cgroupFd, target) {
        stdioBuf.set(stdio);
        const rc = n().isolate_enter(ptr(plan), plan.length, initFd, ptr(stdioBuf), cgroupFd, target, ptr(out32));
        if (rc < 0) return rc;
        return { pid: out32[0] ?? -1, pidfd: out32[1] ?? -1, syncFd: out32[2] ?? -1, recordFd: out32[3] ?? -1 };
      },
      spawnJoin(plan, stdio, cgroupFd, joinFd, flags) {
        stdioBuf.set(stdio);
        joinOut.fill(0);
        const rc = n().isolate_spawn_join(
          ptr(plan),
          plan.length,
          initFd,
          ptr(stdioBuf),
          cgroupFd,
          joinFd,
          flags,
          ptr(joinOut),
        );
        if (rc < 0) return rc;
        return { pid: joinOut[0] ?? -1, pidfd: joinOut[1] ?? -1, syncFd: joinOut[2] ?? -1, recordFd: joinOut[3] ?? -1 };
      },
      joinRefused: () => joinOut[4] === 1,
      pidfdOpen: (pid) => n().isolate_pidfd_open(pid),
      flock: (fd, op) => n().isolate_flock(fd, op),
      setsid: () => n().isolate_setsid(),
      dup2: (fd, to) => n().isolate_dup2(fd, to),
    },
    tty: {
      recvPty: (fd) => t().isolate_recv_pty(fd),
      get(fd) {
        const saved = new Uint8Array(128);
        const rc = t().isolate_tty_get(fd, ptr(saved), ptr(winBuf));
        return rc < 0 ? rc : { saved, rows: winBuf[0] ?? 0, cols: winBuf[1] ?? 0 };
      },
      set: (fd, saved, raw) => t().isolate_tty_set(fd, ptr(saved), raw ? 1 : 0),
      winsize(fd) {
        const rc = t().isolate_tty_winsize(fd, ptr(winBuf));
        return rc < 0 ? rc : { rows: winBuf[0] ?? 0, cols: winBuf[1] ?? 0 };
      },
      resize: (master, rows, cols) => t().isolate_pty_resize(master, rows, cols),
      eof: (master) => t().isolate_pty_eof(master),
    },
    go(syncFd, fds) {
      if (fds.length === 0) return s.isolate_write(syncFd, ptr(GO), 1);
      const a = Int32Array.from(fds);
      return s.isolate_go(syncFd, ptr(a), a.length);
    },
    idmapTree(path, usernsFd, attrs, plainOk) {
      const rc = s.isolate_idmap_tree(cstr(path), usernsFd, attrs, PLAIN_CODE[plainOk], ptr(stageBuf));
      if (rc >= 0) return rc;
      return { errno: -rc, stage: idmapStage(stageBuf[0] ?? 0) };
    },
    async idmapTreeAsync(path, usernsFd, attrs, plainOk) {
      const args = Int32Array.of(PLAIN_CODE[plainOk], attrs, -1);
      const [rc, stage] = await submit(JOB_IDMAP, cstr(path), args, usernsFd, -1);
      if (rc >= 0) return rc;
      return { errno: -rc, stage: idmapStage(stage) };
    },
    probe: {
      ns: (flags, uid, gid) => p().isolate_probe_ns(flags, uid, gid),
      overlay(dir) {
        const out = new Int32Array(2);
        p().isolate_probe_overlay(cstr(dir), ptr(out));
        return { stage: out[0] ?? -1, errno: -(out[1] ?? 0) };
      },
      features() {
        const out = new Int32Array(5);
        p().isolate_probe_features(ptr(out));
        return {
          clone3: out[0] ?? 0,
          pidfd: out[1] ?? 0,
          seccomp: out[2] ?? 0,
          landlock: out[3] ?? 0,
          seccompMode: out[4] ?? 0,
        };
      },
    },
    hostFs: {
      openDir: (path) => s.isolate_open_dir_nofollow(cstr(path)),
      typeAt: (dir, name) => s.isolate_type_at(dir, cstr(name)),
      removeAt: (dir, name) => s.isolate_remove_at(dir, cstr(name)),
      list(path) {
        for (;;) {
          const n = Number(s.isolate_list_dir(cstr(path), ptr(listBuf), listBuf.length));
          if (n === -ERANGE && listBuf.length < MAX_LIST) {
            listBuf = new Uint8Array(listBuf.length * 4);
            continue;
          }
          return n < 0 ? n : splitNul(listBuf.subarray(0, n));
        }
      },
    },
    pipe() {
      const rc = s.isolate_pipe(ptr(fds));
      if (rc < 0) throw new HostError(`pipe: ${errnoText(-rc)}`);
      return [fds[0] ?? -1, fds[1] ?? -1];
    },
    close(fd) {
      s.isolate_close(fd);
    },
    fdOk(fd) {
      return s.isolate_fd_ok(fd) === 0;
    },
    open(path, flags) {
      return s.isolate_open(cstr(path), flags);
    },
    write(fd, data) {
      return data.length ? s.isolate_write(fd, ptr(data), data.length) : 0;
    },
    readFile(path, max = 65536) {
      if (readBuf.length < max) readBuf = new Uint8Array(max);
      const n = Number(s.isolate_read_file(cstr(path), ptr(readBuf), max));
      return n < 0 ? n : dec.decode(readBuf.subarray(0, n));
    },
    writeFile(path, text) {
      const data = enc.encode(text);
      return s.isolate_write_file(cstr(path), data.length ? ptr(data) : null, data.length);
    },
  };
  const shim = loaded;
  setFastReader((path, max) => shim.readFile(path, max));
  setFastFs({ typeAt: shim.hostFs.typeAt, list: shim.hostFs.list });
  setProcReader((path) => {
    const r = shim.readFile(path);
    return typeof r === "string" ? r : undefined;
  });
  return loaded;
}
