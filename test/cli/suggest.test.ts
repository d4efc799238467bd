/** Unknown flags and commands name the closest one; other tools' flags say how to say it here. */
import { describe, expect, test } from "bun:test";
import { FLAGS } from "../../src/cli/flags.ts";
import { closest } from "../../src/cli/suggest.ts";
import { isolate } from "../helpers/index.ts";

const err = async (args: string[]) => {
  const r = await isolate(args);
  expect(r.code).toBe(125);
  expect(r.stderr.split("\n")).toHaveLength(2);
  return r.stderr;
};

describe("did you mean", () => {
  test("a misspelt flag names the closest one", async () => {
    expect(await err(["exec", "--memroy", "1G", "--", "true"])).toBe(
      "isolate: unknown flag --memroy (did you mean --memory?)\n",
    );
    expect(await err(["exec", "--hostnme", "x", "--", "true"])).toContain("did you mean --hostname?");
    expect(await err(["plan", "--ro-bnd", "/usr", "--", "true"])).toContain("did you mean --ro-bind?");
    expect(await err(["exec", "--cpu", "1", "--", "true"])).toContain("did you mean --cpus?");
  });

  test("nothing close: the help is named, as before", async () => {
    expect(await err(["exec", "--no-such-flag", "--", "true"])).toBe(
      "isolate: unknown flag --no-such-flag (see isolate exec --help)\n",
    );
  });

  test("a misspelt command names the closest one; docker's run is exec", async () => {
    expect(await err(["exce", "--", "true"])).toBe("isolate: unknown command exce (did you mean isolate exec?)\n");
    expect(await err(["run", "--", "true"])).toContain("did you mean isolate exec?");
    expect(await err(["chek"])).toContain("did you mean isolate check?");
    expect(await err(["--memory", "1G", "ls"])).toContain("flags come after the command");
  });

  test("closest() is driven by the list it is given (flags added later are suggested)", () => {
    expect(closest("--publsh", [...FLAGS.map((f) => f.name), "--publish"])).toBe("--publish");
    expect(closest("--zzzzzz", ["--memory"])).toBeUndefined();
  });
});

describe("other tools' flags", () => {
  test("bwrap's --ro-bind SRC DST as two words: use SRC:DST", async () => {
    expect(await err(["exec", "--ro-bind", "/usr", "/usr", "ls"])).toBe(
      "isolate: --ro-bind /usr /usr: --ro-bind takes SRC:DST as one word (use --ro-bind /usr:/usr)\n",
    );
    // DST that is not on the host, followed by another flag.
    expect(await err(["exec", "--bind", "/tmp", "/work", "--chdir", "/work", "ls"])).toContain("use --bind /tmp:/work");
    expect(await err(["exec", "--symlink", "usr/bin", "/bin", "ls"])).toContain("use --symlink usr/bin:/bin");
  });

  test("a bind followed by a real command is not mistaken for bwrap's form", async () => {
    const r = await isolate(["exec", "--ro-bind", "/usr", "/usr/bin/true"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const dashes = await isolate(["plan", "--ro-bind", "/usr", "--", "/usr"]);
    expect(dashes.code).toBe(0);
  });

  test("docker's and bwrap's flags say what to write here", async () => {
    const cases: [string[], string][] = [
      [["--network", "none"], "unknown flag --network none (a private network, loopback only, is the default"],
      [["--network=host"], "use --share net"],
      [["-v", "/a:/b"], "unknown flag -v /a:/b (use --bind SRC:DST, or --ro-bind SRC:DST for :ro)"],
      [["--rm"], "drop --rm"],
      [["-e", "A=1"], "use --env K=V"],
      [["-w", "/x"], "use --chdir DIR"],
      [["--workdir", "/x"], "use --chdir DIR"],
      [["--unshare-all"], "new by default"],
      [["--die-with-parent"], "always dies with isolate"],
      [["--proc", "/proc"], "a fresh /proc is always mounted"],
      [["--dev", "/dev"], "a private /dev"],
      [["--setenv", "A", "1"], "use --env K=V"],
      [["--privileged"], "no privileged mode"],
      [["--pids-limit", "5"], "use --pids N"],
    ];
    for (const [args, want] of cases) expect(await err(["exec", ...args, "--", "true"])).toContain(want);
  });
});
