/** Where the sandbox's stdin, stdout and stderr go. */
import { HostError } from "../errors.ts";
import { errnoText } from "../host/errno.ts";
import { O_RDONLY, O_WRONLY, type Shim } from "../shim/load.ts";

/** inherit: the caller's own; null: /dev/null; pipe: a stream on the handle; a number: that fd. */
export type StdioOption = "inherit" | "null" | "pipe" | number;

export interface StdioPlan {
  /** The fds the sandbox gets as 0, 1, 2. */
  readonly child: [number, number, number];
  /** Our ends of pipes, by stream (null when not piped). */
  readonly parent: [number | null, number | null, number | null];
  /** Fds to close once the sandbox holds its copies. */
  readonly closeAfterSpawn: number[];
}

export function planStdio(shim: Shim, opts: readonly [StdioOption, StdioOption, StdioOption]): StdioPlan {
  const child: [number, number, number] = [0, 1, 2];
  const parent: [number | null, number | null, number | null] = [null, null, null];
  const closeAfterSpawn: number[] = [];
  try {
    opts.forEach((opt, i) => {
      if (opt === "inherit" && shim.fdOk(i)) child[i] = i;
      else if (typeof opt === "number") child[i] = opt;
      else if (opt === "null" || opt === "inherit") {
        const fd = shim.open("/dev/null", i === 0 ? O_RDONLY : O_WRONLY);
        if (fd < 0) throw new HostError(`open /dev/null: ${errnoText(-fd)}`);
        child[i] = fd;
        closeAfterSpawn.push(fd);
      } else {
        const [r, w] = shim.pipe();
        child[i] = i === 0 ? r : w;
        parent[i] = i === 0 ? w : r;
        closeAfterSpawn.push(child[i]);
      }
    });
  } catch (e) {
    for (const fd of [...closeAfterSpawn, ...parent]) if (fd !== null) shim.close(fd);
    if (e instanceof HostError && /Too many open files/.test(e.message)) {
      throw new HostError(
        `stdio: out of file descriptors creating the sandbox's pipes: ${e.message}`,
        "raise the open-file limit (ulimit -n) or run fewer sandboxes at once",
      );
    }
    throw e;
  }
  return { child, parent, closeAfterSpawn };
}

/** Bytes of a pipe we keep once the sandbox has ended and nobody read them (a pipe holds at most 1 MiB unless root grows it). */
const LEFTOVER_MAX = 4 << 20;

/**
 * A stream of an fd we own (the read end of a pipe to the sandbox). It reads
 * only when its reader asks (highWaterMark 0). finish(), once the sandbox has
 * ended and no writer is left, moves what the pipe still holds into the
 * stream's queue and closes the fd: the caller can still read it, and an
 * unread stream holds no fd. Every read and the close go through one chain,
 * so the fd is never closed under a pending read.
 */
export interface OwnedStream {
  readonly stream: ReadableStream<Uint8Array>;
  finish(): Promise<void>;
  /**
   * finish() did not end in time (a writer outlived the sandbox: a process it
   * handed the pipe to): stop reading and close the fd anyway; the stream ends
   * with what it has.
   */
  abandon(): Promise<void>;
}

export function fdStream(shim: Shim, fd: number): OwnedStream {
  type Reader = ReadableStreamDefaultReader<Uint8Array>;
  let reader: Reader | undefined;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let closed = false;
  let chain: Promise<unknown> = Promise.resolve();
  const rd = (): Reader => {
    if (!reader) reader = Bun.file(fd).stream().getReader() as unknown as Reader;
    return reader;
  };
  const closeFd = () => {
    if (closed) return;
    closed = true;
    shim.close(fd);
    try {
      controller.close();
    } catch {
      // cancelled by the reader, or already closed
    }
  };
  const serial = (f: () => Promise<void>): Promise<void> => {
    const next = chain.then(f, f);
    chain = next.catch(() => {});
    return next;
  };
  const stream = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
      },
      pull: () =>
        serial(async () => {
          if (closed) return;
          const { done, value } = await rd().read();
          if (done) closeFd();
          else controller.enqueue(value);
        }),
      cancel: (reason) =>
        serial(async () => {
          if (closed) return;
          closed = true;
          try {
            await reader?.cancel(reason);
          } finally {
            shim.close(fd);
          }
        }),
    },
    { highWaterMark: 0 },
  );
  const finish = () =>
    serial(async () => {
      let kept = 0;
      while (!closed) {
        const { done, value } = await rd().read();
        if (done) break;
        kept += value.length;
        if (kept > LEFTOVER_MAX) continue;
        try {
          controller.enqueue(value);
        } catch {
          break;
        }
      }
      closeFd();
    });
  const abandon = async () => {
    if (closed) return;
    closed = true;
    try {
      // Ends a pending read first (its turn of the chain), so the fd is not closed
      // under it. Bun lets go of its own copy of the fd a moment later.
      await reader?.cancel();
      await chain;
    } catch {
      // already ended
    }
    shim.close(fd);
    try {
      controller.close();
    } catch {
      // cancelled by the reader, or already closed
    }
  };
  return { stream, finish, abandon };
}

/**
 * The writing end of the sandbox's stdin ("pipe"), like Bun's FileSink with
 * backpressure: write() resolves once the bytes are in the pipe, with their
 * count; await it before writing more. It never rejects: once the command has
 * closed its stdin (or ended), the rest is dropped and write() resolves with 0.
 * end() closes it: the command reads EOF.
 */
export interface StdinSink {
  write(data: string | Uint8Array | ArrayBuffer): Promise<number>;
  /** Flush and close: the command reads EOF. */
  end(): Promise<void>;
  /** True once nothing more can be written: end() was called, or the command closed its stdin. */
  readonly closed: boolean;
}

/** Bytes handed to the pipe at a time: no write copies more than this. */
const CHUNK = 64 << 10;

/** data in pieces of at most CHUNK bytes; a string is encoded one piece at a time (never a pair split). */
export function* chunksOf(data: string | Uint8Array): Generator<Uint8Array> {
  if (typeof data !== "string") {
    for (let off = 0; off < data.length; off += CHUNK) yield data.subarray(off, off + CHUNK);
    return;
  }
  const step = CHUNK / 4;
  for (let off = 0; off < data.length; ) {
    let end = Math.min(data.length, off + step);
    const last = data.charCodeAt(end - 1);
    if (end < data.length && last >= 0xd800 && last <= 0xdbff) end++;
    yield enc.encode(data.slice(off, end));
    off = end;
  }
}

const enc = new TextEncoder();

export function fdSink(shim: Shim, fd: number): StdinSink & { close(): Promise<void> } {
  const sink = Bun.file(fd).writer({ highWaterMark: CHUNK });
  let broken = false;
  let ended = false;
  let fdClosed = false;
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(f: () => Promise<T>): Promise<T> => {
    const next = chain.then(f);
    chain = next.catch(() => {});
    return next;
  };
  const put = async (piece: Uint8Array): Promise<boolean> => {
    try {
      const n = sink.write(piece);
      if (typeof n !== "number") await n;
      const f = sink.flush();
      if (typeof f !== "number") await f;
      return true;
    } catch {
      // EPIPE: the command closed its stdin; what it did not read is its business
      broken = true;
      return false;
    }
  };
  const finish = async () => {
    if (fdClosed) return;
    if (!broken) {
      try {
        await sink.end();
      } catch {
        // as above
      }
    }
    fdClosed = true;
    shim.close(fd);
  };
  return {
    get closed() {
      return broken || ended;
    },
    write(data) {
      const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : data;
      return serial(async () => {
        let n = 0;
        for (const piece of chunksOf(bytes)) {
          if (broken || fdClosed || !(await put(piece))) return n;
          n += piece.length;
        }
        return n;
      });
    },
    end() {
      ended = true;
      return serial(finish);
    },
    /** The sandbox has ended: no reader is left, so a pending write fails at once. */
    close() {
      ended = true;
      return serial(finish);
    },
  };
}
