/**
 * What to say about a word isolate does not know: the closest known one
 * ("did you mean --memory?"), or, for a flag of docker, bwrap or firejail,
 * how to say the same thing here. The known names come from the flag table
 * and the command list at the time of the call: flags added later are
 * suggested without touching this file.
 */
import { editDistance } from "../config/suggest.ts";

/** The known name closest to `word`, if it is close enough to be what was meant. */
export function closest(word: string, known: Iterable<string>): string | undefined {
  const w = word.toLowerCase();
  const bare = (s: string) => s.replace(/^-+/, "");
  let best: string | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const k of known) {
    const d = editDistance(w, k);
    // A known name that is a prefix of the word or the word of it (`--mem`, `--memory-limit`) is a good guess too.
    const prefix = bare(k).length >= 3 && bare(w).length >= 3 && (k.startsWith(w) || w.startsWith(k));
    const score = prefix ? Math.min(d, 1.5) : d;
    if (score < bestScore) {
      best = k;
      bestScore = score;
    }
  }
  if (best === undefined) return undefined;
  const limit = Math.max(1, Math.min(3, Math.floor(bare(word).length / 3)));
  return bestScore <= limit ? best : undefined;
}

/** A flag of another tool: how to say it here. `value` is its value when it takes one. */
interface Foreign {
  readonly takesValue: boolean;
  say(value: string | undefined, has: (flag: string) => boolean): string;
}

const drop = (why: string): Foreign => ({ takesValue: false, say: () => why });
const use = (flag: string, takesValue = true, extra = ""): Foreign => ({
  takesValue,
  say: () => `use ${flag}${extra}`,
});

const network: Foreign = {
  takesValue: true,
  say: (v, has) => {
    if (v === "none") return "a private network, loopback only, is the default: drop the flag";
    if (v === "host") return "use --share net to keep the host's network";
    return has("--net")
      ? "use --net"
      : "the sandbox has a private network, loopback only, by default; --share net keeps the host's";
  },
};

const newNs = drop("every namespace but user is new by default; --share NS keeps the host's");

/** docker run, bwrap, firejail and systemd-run flags that mean something here. */
export const FOREIGN: Readonly<Record<string, Foreign>> = {
  // docker run
  "-v": use("--bind SRC:DST", true, ", or --ro-bind SRC:DST for :ro"),
  "--volume": use("--bind SRC:DST", true, ", or --ro-bind SRC:DST for :ro"),
  "--mount": use("--bind SRC:DST, --ro-bind SRC:DST or --tmpfs DST"),
  "--network": network,
  "--rm": drop("nothing of a sandbox outlives its run: drop --rm"),
  "-e": use("--env K=V"),
  "-w": use("--chdir DIR"),
  "--workdir": use("--chdir DIR"),
  "-u": use("--user UID[:GID], or --uid UID inside a user namespace"),
  "-m": use("--memory SIZE"),
  "--memory-limit": use("--memory SIZE"),
  "--pids-limit": use("--pids N"),
  "--cpu-shares": use("--cpu-weight N"),
  "--cpuset-cpus": use("--cpuset LIST"),
  "--ulimit": use("--rlimit NAME=SOFT[:HARD]"),
  "--cap-drop": {
    takesValue: true,
    say: () => "the command keeps no capability by default: nothing to drop; --cap-add keeps one",
  },
  "--privileged": drop("isolate has no privileged mode: --cap-add keeps the capabilities the command needs"),
  "--security-opt": use("--seccomp default|none|FILE or --landlock on|off|auto"),
  "--read-only": drop("the root is read-only by default; --overlay DIR makes a directory writable, changes vanish"),
  "--init": drop("the sandbox always has an init as pid 1"),
  "-d": drop("isolate runs the command in the foreground and exits with its status"),
  "--detach": drop("isolate runs the command in the foreground and exits with its status"),
  "-i": drop("stdin is passed through as it is"),
  "-t": drop("the terminal is passed through as it is; there is no --pty"),
  "-it": drop("stdin and the terminal are passed through as they are; there is no --pty"),
  "--interactive": drop("stdin is passed through as it is"),
  "--tty": drop("the terminal is passed through as it is; there is no --pty"),
  "--name": { takesValue: true, say: () => "sandboxes have no names" },
  "--entrypoint": {
    takesValue: true,
    say: () => "the command comes after the flags: isolate exec [flags] -- CMD ARG...",
  },
  "-p": {
    takesValue: true,
    say: (_v, has) => (has("--publish") ? "use --publish" : "the sandbox's private network publishes no port"),
  },
  // bwrap
  "--unshare-all": newNs,
  "--unshare-net": newNs,
  "--unshare-pid": newNs,
  "--unshare-ipc": newNs,
  "--unshare-uts": newNs,
  "--unshare-cgroup": newNs,
  "--unshare-cgroup-try": newNs,
  "--unshare-user": use("--unshare user", false),
  "--unshare-user-try": use("--unshare user", false),
  "--share-net": use("--share net", false),
  "--die-with-parent": drop("the sandbox always dies with isolate"),
  "--proc": { takesValue: true, say: () => "a fresh /proc is always mounted at /proc" },
  "--dev": { takesValue: true, say: () => "a private /dev is always mounted at /dev" },
  "--setenv": use("--env K=V, as one word"),
  "--unsetenv": {
    takesValue: true,
    say: () => "only PATH, HOME, TERM, LANG, LC_*, TZ, USER and LOGNAME are passed by default: nothing to unset",
  },
  "--clearenv": drop("the environment is already reduced to an allowlist; --env K adds one variable"),
  "--ro-bind-try": use("--ro-bind SRC:DST; there is no -try form"),
  "--bind-try": use("--bind SRC:DST; there is no -try form"),
  "--dev-bind-try": use("--dev-bind SRC:DST; there is no -try form"),
  "--remount-ro": use("--ro-bind SRC:DST"),
  "--new-session": drop("the command already runs in a session of its own"),
  "--cwd": use("--chdir DIR"),
  // firejail, systemd-run
  "--net": network,
  "--private": drop("the sandbox already sees a private /tmp and the host's files read-only"),
  "--rlimit-nofile": use("--rlimit nofile=N"),
  "--rlimit-nproc": use("--pids N"),
  "--rlimit-as": use("--rlimit as=SIZE or --memory SIZE"),
  "--rlimit-fsize": use("--rlimit fsize=SIZE"),
  "--rlimit-cpu": use("--cpu-time DURATION"),
  "--property": use("--memory, --cpus, --pids, ...: isolate exec --help lists them"),
  "--pty": drop("there is no --pty: the terminal is passed through as it is"),
  "--wait": drop("isolate always waits for the command"),
};

/**
 * The hint for an unknown flag: how to say it here (another tool's flag), or
 * the closest known flag. `value` is what followed it, if anything.
 */
export function flagHint(
  name: string,
  value: string | undefined,
  known: ReadonlySet<string>,
): { hint: string; takesValue: boolean } | undefined {
  const foreign = Object.hasOwn(FOREIGN, name) ? FOREIGN[name] : undefined;
  if (foreign) return { hint: foreign.say(value, (f) => known.has(f)), takesValue: foreign.takesValue };
  const near = closest(name, known);
  return near ? { hint: `did you mean ${near}?`, takesValue: false } : undefined;
}
