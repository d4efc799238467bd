/**
 * `isolate exec --pty`: a terminal of the sandbox's own. script(1) gives
 * isolate a real terminal (the outer one); its stdin is a pipe the test types into.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { BIN, IS_ROOT, isolate, marker, NOBODY, needs, pidsWith, sh, sleep, waitFor } from "../helpers/index.ts";

setDefaultTimeout(30_000);

const HAVE_SCRIPT = (await sh(["sh", "-c", "command -v script"])).code === 0;
const withTerm = needs(HAVE_SCRIPT, "script(1) from util-linux is not installed");

const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** A shell command line run on a fresh terminal (script -qec), typed into through `type`. */
function onTerminal(cmd: string, nobody = false) {
  const argv = ["script", "-qec", cmd, "/dev/null"];
  const proc = Bun.spawn(nobody ? [...NOBODY, ...argv] : argv, {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, TERM: "dumb" },
  });
  let out = "";
  const reading = (async () => {
    const dec = new TextDecoder();
    for await (const c of proc.stdout) out += dec.decode(c, { stream: true });
  })();
  const timer = setTimeout(() => proc.kill("SIGKILL"), 25_000);
  return {
    type: (s: string) => {
      proc.stdin.write(s);
      proc.stdin.flush();
    },
    output: () => out,
    waitOutput: (re: RegExp) => waitFor(() => re.test(out), 15_000),
    async done() {
      // script ends when its command does; its stdin stays open until then (an EOF would be typed).
      const code = await proc.exited;
      await reading;
      proc.stdin.end();
      clearTimeout(timer);
      return { code, out, err: await new Response(proc.stderr).text() };
    },
  };
}

const I = q(BIN);

describe("isolate exec --pty", () => {
  withTerm(
    "the command's terminal is /dev/pts/N of the sandbox's devpts, with the caller's size; the exit code passes",
    async () => {
      const t = onTerminal(`stty rows 37 cols 101; ${I} exec --pty -- sh -c 'tty; stty size; ls /dev/pts; exit 5'`);
      const r = await t.done();
      expect(r.code).toBe(5);
      // The sandbox's own devpts: its first pty, and nothing of the host's (the outer terminal is one).
      expect(r.out).toMatch(/^\/dev\/pts\/0\r?$/m);
      expect(r.out).toMatch(/^37 101\r?$/m);
      expect(r.out).toMatch(/^0\s+ptmx\r?$/m);
    },
  );

  withTerm("raw mode while it runs, the caller's settings back after the end", async () => {
    const t = onTerminal(
      `before=$(stty -g); ${I} exec --pty -- sleep 2 </dev/tty & sleep 1; echo "mid $(stty -a | grep -o -- '-\\?icanon' | head -1)"; wait; [ "$(stty -g)" = "$before" ] && echo restored`,
    );
    const r = await t.done();
    expect(r.out).toMatch(/mid -icanon/);
    expect(r.out).toMatch(/restored/);
  });

  withTerm("SIGTERM to isolate ends the command, and the terminal is restored", async () => {
    const t = onTerminal(
      `before=$(stty -g); ${I} exec --pty -- sleep 30 </dev/tty & p=$!; sleep 1; echo "mid $(stty -a | grep -o -- '-\\?icanon' | head -1)"; kill -TERM $p; wait $p; echo "rc=$?"; [ "$(stty -g)" = "$before" ] && echo restored`,
    );
    const r = await t.done();
    expect(r.out).toMatch(/mid -icanon/);
    expect(r.out).toMatch(/rc=143/);
    expect(r.out).toMatch(/restored/);
  });

  withTerm("Ctrl-C reaches the foreground command (130), not isolate", async () => {
    const t = onTerminal(`${I} exec --pty -- sh -c 'echo READY; exec sleep 30'; echo "rc=$?"`);
    await t.waitOutput(/READY/);
    t.type("\x03");
    const r = await t.done();
    expect(r.out).toMatch(/rc=130/);
  });

  withTerm("job control: an interactive shell's Ctrl-C ends its job, the shell goes on", async () => {
    const t = onTerminal(`${I} exec --pty -- sh -i; echo "rc=$?"`);
    await sleep(500);
    t.type("echo START; sleep 30\r");
    await t.waitOutput(/\nSTART/);
    await sleep(300);
    t.type("\x03");
    await sleep(300);
    t.type("echo after-$?\r");
    await t.waitOutput(/after-130/);
    t.type("exit 3\r");
    const r = await t.done();
    expect(r.out).toMatch(/rc=3/);
  });

  withTerm(
    "job control in bash -i: no warning, a stopped job resumes with fg, a background job is listed",
    async () => {
      const t = onTerminal(`${I} exec --pty -- bash --norc --noprofile -i; echo "rc=$?"`);
      await sleep(500);
      t.type("sleep 30\r");
      await sleep(600);
      t.type("\x1a"); // Ctrl-Z: the job stops, bash takes the terminal back
      await t.waitOutput(/Stopped\s+sleep 30/);
      t.type("sleep 20 &\r");
      t.type("jobs; echo JOBS-$?\r");
      await t.waitOutput(/JOBS-0/);
      t.type("kill %1 %2; wait; exit 7\r");
      const r = await t.done();
      expect(r.out).not.toMatch(/no job control|cannot set terminal process group/);
      expect(r.out).toMatch(/\[1\]\+?\s+Stopped\s+sleep 30/);
      expect(r.out).toMatch(/\[2\][-+ ]\s+Running\s+sleep 20 &/);
      expect(r.out).toMatch(/rc=7/);
    },
  );

  test("without a terminal: the pty still works, stdout and stderr both go to it", async () => {
    const r = await isolate(["exec", "--pty", "--", "sh", "-c", "tty; echo to-stderr >&2; exit 4"]);
    expect(r.code).toBe(4);
    expect(r.stdout).toMatch(/^\/dev\/pts\/0\r?$/m);
    expect(r.stdout).toMatch(/to-stderr/);
    expect(r.stderr).toBe("");
  });

  test("without a terminal: the end of stdin is the pty's EOF (cat ends)", async () => {
    const r = await isolate(["exec", "--pty", "--", "cat"], { stdin: "one\n", timeoutMs: 10_000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/one/);
  });

  test("bytes are bytes", async () => {
    const r = await isolate(["exec", "--pty", "--", "printf", "\\377\\001\\200x"]);
    expect(r.code).toBe(0);
    expect(Buffer.from(r.stdout, "latin1").length).toBeGreaterThan(0);
    const raw = await sh(["sh", "-c", `${I} exec --pty -- printf '\\377\\001\\200x' | od -An -tx1`]);
    expect(raw.stdout.replace(/\s+/g, " ").trim()).toBe("ff 01 80 78");
  });

  test("nothing is left behind", async () => {
    const m = marker();
    // A background job that would hold the pty's slave open: it goes with the sandbox, and isolate ends.
    const r = await isolate(["exec", "--pty", "--", "sh", "-c", `sh -c 'sleep 60; : ${m}' & sleep 0.2; echo started`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/started/);
    expect(await pidsWith(m)).toEqual([]);
  });

  test("--pty with a named sandbox is refused before anything starts", async () => {
    const r = await isolate(["exec", "--pty", "--name", "x", "--", "true"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/--pty/);
  });

  test("plan shows the terminal ops", async () => {
    const r = await isolate(["plan", "--pty", "--", "true"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/devpts \(24x80\)/);
    expect(r.stdout).toMatch(/controlling terminal/);
  });

  needs(IS_ROOT, "needs root to become nobody")("as nobody, with and without a terminal", async () => {
    const r = await isolate(["exec", "--pty", "--", "sh", "-c", "tty; exit 6"], { nobody: true });
    expect(r.code).toBe(6);
    expect(r.stdout).toMatch(/^\/dev\/pts\/0\r?$/m);
    if (!HAVE_SCRIPT) return;
    const t = onTerminal(`stty rows 20 cols 70; ${I} exec --pty -- sh -c 'tty; stty size; exit 2'`, true);
    const s = await t.done();
    expect(s.code).toBe(2);
    expect(s.out).toMatch(/^\/dev\/pts\/0\r?$/m);
    expect(s.out).toMatch(/^20 70\r?$/m);
  });
});
