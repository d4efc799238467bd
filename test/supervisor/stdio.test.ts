/**
 * run()'s output and input under load (issue 15): a cap that ends the producer,
 * bytes, a UTF-8 cut, a process-wide budget, input streamed with backpressure,
 * and every fd of a sandbox closed when it ends, read or not.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { run, spawn } from "../../src/index.ts";
import { OUTPUT_BUDGET } from "../../src/supervisor/run.ts";
import { tempDir, waitFor } from "../helpers/index.ts";

const MiB = 1 << 20;
const fds = () => readdirSync("/proc/self/fd").length;

/** The process's peak RSS while f runs, sampled every 5 ms, and the longest gap between samples. */
async function watch<T>(f: () => Promise<T>): Promise<{ value: T; peakRss: number; maxGapMs: number }> {
  let peakRss = process.memoryUsage().rss;
  let maxGapMs = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    maxGapMs = Math.max(maxGapMs, now - last);
    last = now;
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 5);
  try {
    const value = await f();
    return { value, peakRss, maxGapMs };
  } finally {
    clearInterval(timer);
  }
}

describe("output", () => {
  test('outputLimit "kill" ends the producer at the cap: reason "output", the bytes up to the cap', async () => {
    const t0 = performance.now();
    const r = await run({ command: ["yes"] }, { maxOutputBytes: MiB, outputLimit: "kill" });
    expect(r.reason).toBe("output");
    expect(r.limits.fired).toContain("output");
    expect(r.truncated).toEqual({ stdout: true, stderr: false });
    expect(r.stdoutBytes).toBeInstanceOf(Uint8Array);
    expect(r.stdoutBytes.length).toBe(MiB);
    expect(r.stdout.length).toBe(MiB);
    expect(r.stdout.startsWith("y\ny\n")).toBe(true);
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  test("a command that ends by itself past the cap still reads output with kill, ok with truncate", async () => {
    const cmd = ["sh", "-c", "printf 0123456789"];
    const killed = await run({ command: cmd }, { maxOutputBytes: 4, outputLimit: "kill" });
    expect(killed.reason).toBe("output");
    expect(killed.stdout).toBe("0123");
    const kept = await run({ command: cmd }, { maxOutputBytes: 4 });
    expect(kept.reason).toBe("ok");
    expect(kept.exitCode).toBe(0);
    expect(kept.stdout).toBe("0123");
    expect(kept.truncated.stdout).toBe(true);
    const exact = await run({ command: cmd }, { maxOutputBytes: 10, outputLimit: "kill" });
    expect(exact.reason).toBe("ok");
    expect(exact.truncated.stdout).toBe(false);
  });

  test("a cap inside a UTF-8 character cuts before it: no U+FFFD; the bytes keep the cap", async () => {
    // "aé€😀": 1 + 2 + 3 + 4 bytes; every cap from 0 to 10
    for (let cap = 0; cap <= 10; cap++) {
      const r = await run(
        { command: ["printf", "a\\303\\251\\342\\202\\254\\360\\237\\230\\200"] },
        { maxOutputBytes: cap },
      );
      expect(r.stdout).not.toContain("\uFFFD");
      const whole = ["", "a", "a", "aé", "aé", "aé", "aé€", "aé€", "aé€", "aé€", "aé€😀"][cap];
      expect(r.stdout).toBe(whole as string);
      expect(r.stdoutBytes.length).toBe(cap);
    }
  });

  test("bytes that are not UTF-8 come through stdoutBytes as they are", async () => {
    const r = await run({ command: ["printf", "\\377\\000\\200"] });
    expect([...r.stdoutBytes]).toEqual([0xff, 0, 0x80]);
    expect(r.stderrBytes.length).toBe(0);
  });

  test("maxOutputBytes of -1, NaN, 1.5 or a string is refused by a rejected promise, never a throw", async () => {
    for (const bad of [-1, Number.NaN, 1.5, "1M", Number.POSITIVE_INFINITY]) {
      let p: Promise<unknown> | undefined;
      expect(() => {
        p = run({ command: ["true"] }, { maxOutputBytes: bad as number });
      }).not.toThrow();
      await expect(p).rejects.toThrow(/maxOutputBytes/);
    }
    await expect(run({ command: ["true"] }, { outputLimit: "stop" as "kill" })).rejects.toThrow(/outputLimit/);
  });

  test("20 floods at once with outputLimit kill and a 1 MiB cap keep the supervisor under 200 MB RSS", async () => {
    const floods = (n: number) =>
      Promise.all(
        Array.from({ length: n }, (_, i) =>
          run(
            { command: i % 2 ? ["yes"] : ["head", "-c", "1G", "/dev/zero"] },
            { maxOutputBytes: MiB, outputLimit: "kill" },
          ),
        ),
      );
    const { value: rs, peakRss } = await watch(() => floods(20));
    for (const r of rs) {
      expect(r.reason).toBe("output");
      expect(r.stdoutBytes.length).toBe(MiB);
    }
    expect(peakRss).toBeLessThan(200 * MiB);
  }, 60_000);

  test("all run() calls together hold at most OUTPUT_BUDGET: past it a stream is cut and says so", async () => {
    const each = 40 * MiB;
    const n = Math.ceil(OUTPUT_BUDGET / each) + 2;
    const rs = await Promise.all(
      Array.from({ length: n }, () =>
        // Each holds its output until it ends, 2 s after writing it: the runs overlap however they start.
        run({ command: ["sh", "-c", `head -c ${each} /dev/zero; sleep 2`] }, { maxOutputBytes: 64 * MiB }),
      ),
    );
    const kept = rs.reduce((sum, r) => sum + r.stdoutBytes.length, 0);
    expect(kept).toBeLessThanOrEqual(OUTPUT_BUDGET);
    expect(rs.some((r) => r.truncated.stdout)).toBe(true);
    for (const r of rs) expect(r.truncated.stdout).toBe(r.stdoutBytes.length < each);
  }, 60_000);
});

describe("input", () => {
  test("100 MB of input is streamed: RSS does not grow by it and the loop keeps ticking", async () => {
    const big = new Uint8Array(100 * MiB).fill(97);
    Bun.gc(true);
    const before = process.memoryUsage().rss;
    const { value: r, peakRss, maxGapMs } = await watch(() => run({ command: ["wc", "-c"] }, { input: big }));
    expect(r.stdout.trim()).toBe(String(100 * MiB));
    expect(peakRss - before).toBeLessThan(40 * MiB);
    // Copying it whole stalled the loop 100-450 ms; written in pieces, a gap is one spawn at most.
    expect(maxGapMs).toBeLessThan(250);
  }, 60_000);

  test("a string, a Blob, a ReadableStream and an async generator are all fed, then EOF", async () => {
    const cat = { command: ["cat"] };
    expect((await run(cat, { input: "héllo\n" })).stdout).toBe("héllo\n");
    expect((await run(cat, { input: new Blob(["a", "b"]) })).stdout).toBe("ab");
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode("x"));
        c.enqueue(new TextEncoder().encode("y"));
        c.close();
      },
    });
    expect((await run(cat, { input: stream })).stdout).toBe("xy");
    async function* gen() {
      yield "1";
      yield new Uint8Array([50]);
    }
    expect((await run(cat, { input: gen() })).stdout).toBe("12");
    // A long string is encoded piece by piece without splitting a surrogate pair.
    const long = "😀".repeat(100_000);
    expect((await run(cat, { input: long })).stdout).toBe(long);
  });

  test("input the command never reads neither hangs nor crashes the supervisor", async () => {
    const r = await run({ command: ["true"] }, { input: new Uint8Array(8 * MiB) });
    expect(r.exitCode).toBe(0);
  });
});

describe("stdin backpressure", () => {
  test("write() resolves once the command has taken the bytes, with their count", async () => {
    const sb = spawn({ command: ["sh", "-c", "sleep 0.5; wc -c"] }, { stdin: "pipe", stdout: "pipe" });
    const t0 = performance.now();
    const n = await sb.stdin?.write(new Uint8Array(MiB));
    // A pipe holds 64 KiB: the rest waited for the reader.
    expect(performance.now() - t0).toBeGreaterThan(300);
    expect(n).toBe(MiB);
    await sb.stdin?.end();
    expect((await new Response(sb.stdout).text()).trim()).toBe(String(MiB));
    expect((await sb.exited).exitCode).toBe(0);
  });

  test("writing to a command that closed its stdin resolves with 0, and never rejects", async () => {
    const sb = spawn({ command: ["true"] }, { stdin: "pipe" });
    await sb.exited;
    expect(await sb.stdin?.write(new Uint8Array(MiB))).toBe(0);
    expect(sb.stdin?.closed).toBe(true);
    await sb.stdin?.end();
  });
});

describe("file descriptors", () => {
  test("300 spawn() runs whose streams are never read leave the fd count at baseline", async () => {
    const batch = () =>
      Promise.all(
        Array.from(
          { length: 30 },
          () =>
            spawn(
              { command: ["sh", "-c", "echo out; echo err >&2"] },
              { stdin: "pipe", stdout: "pipe", stderr: "pipe" },
            ).exited,
        ),
      );
    // One batch first: the shim, the init and the worker threads are set up once per process.
    await batch();
    const base = fds();
    for (let i = 0; i < 10; i++) await batch();
    // Bun lets go of its own copy of a stream's fd a moment after the stream ends: allow it that moment.
    expect(await waitFor(() => fds() <= base, 1000)).toBe(true);
  }, 120_000);

  test("a writer that outlives the sandbox (its stdout handed to a host process) holds the result up only briefly, and our fds still close", async () => {
    // A host process takes the sandbox's stdout over a unix socket (SCM_RIGHTS) and keeps it 30 s:
    // the pipe never reaches EOF. After a bounded wait the supervisor closes its end anyway.
    const dir = tempDir("stdio-holder-");
    const sock = `${dir.path}/s`;
    const holder = Bun.spawn(
      [
        "/usr/bin/python3",
        "-c",
        "import socket,sys,time\ns=socket.socket(socket.AF_UNIX);s.bind(sys.argv[1]);s.listen(1);print('ready',flush=True)\nc,_=s.accept();m,f,_,_=socket.recv_fds(c,1,4);print('held',len(f),flush=True);time.sleep(30)",
        sock,
      ],
      { stdout: "pipe", stderr: "inherit" },
    );
    let said = "";
    void (async () => {
      for await (const c of holder.stdout) said += new TextDecoder().decode(c);
    })();
    try {
      await waitFor(() => said.includes("ready"), 10_000);
      // One run first: the shim and the worker threads are set up once per process.
      await spawn({ command: ["true"] }, { stdout: "pipe", stderr: "pipe" }).exited;
      const base = fds();
      const t0 = performance.now();
      const sb = spawn(
        {
          command: [
            "/usr/bin/python3",
            "-c",
            "import socket,sys\ns=socket.socket(socket.AF_UNIX);s.connect(sys.argv[1]);socket.send_fds(s,[b'x'],[1])",
            sock,
          ],
          mounts: [{ type: "bind", src: dir.path, dst: dir.path }],
        },
        { stdout: "pipe", stderr: "pipe" },
      );
      const r = await sb.exited;
      const took = performance.now() - t0;
      expect(r.exitCode).toBe(0);
      expect(said).toContain("held 1");
      expect(took).toBeLessThan(15_000);
      // The holder keeps its copy 30 s: without the bound our read end would stay open that long.
      // Bun releases its own copy of a cancelled stream's fd a moment after the result.
      expect(await waitFor(() => fds() <= base, 1000)).toBe(true);
    } finally {
      holder.kill("SIGKILL");
      await holder.exited;
      dir.remove();
    }
  }, 40_000);

  test("what a pipe held when the sandbox ended can still be read after exited", async () => {
    const sb = spawn({ command: ["sh", "-c", "echo late; echo err >&2"] }, { stdout: "pipe", stderr: "pipe" });
    const r = await sb.exited;
    expect(r.exitCode).toBe(0);
    expect(await new Response(sb.stdout).text()).toBe("late\n");
    expect(await new Response(sb.stderr).text()).toBe("err\n");
  });
});
