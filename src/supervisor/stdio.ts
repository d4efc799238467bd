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
    throw e;
  }
  return { child, parent, closeAfterSpawn };
}

/** A stream of an fd we own; the fd is closed when the stream ends or is cancelled. */
export function fdStream(shim: Shim, fd: number): ReadableStream<Uint8Array> {
  const reader = Bun.file(fd).stream().getReader();
  let closed = false;
  const close = () => {
    if (!closed) {
      closed = true;
      shim.close(fd);
    }
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) {
        close();
        controller.close();
      } else controller.enqueue(value);
    },
    async cancel(reason) {
      await reader.cancel(reason);
      close();
    },
  });
}

/** The writing end of the sandbox's stdin ("pipe"): write, then end() to close it. */
export interface StdinSink {
  write(data: string | Uint8Array): void;
  /** Flush and close: the command reads EOF. */
  end(): Promise<void>;
}

export function fdSink(shim: Shim, fd: number): StdinSink & { close(): void } {
  const sink = Bun.file(fd).writer();
  let closed = false;
  const close = () => {
    if (!closed) {
      closed = true;
      shim.close(fd);
    }
  };
  return {
    write(data) {
      if (!closed) sink.write(data);
    },
    async end() {
      if (closed) return;
      try {
        await sink.end();
      } catch {
        // the command may have exited without reading: EPIPE is its business
      }
      close();
    },
    close,
  };
}
