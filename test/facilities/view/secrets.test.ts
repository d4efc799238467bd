/**
 * Secrets stay out of the default view (issue 9): the caller's and root's
 * credential stores and the host's shadow files and ssh host keys are masked;
 * `--unmask PATH` keeps one; `isolate plan` lists them. The caller's home is a
 * scratch dir given as HOME (never the real /root), as root and as nobody.
 */
import { describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { IS_ROOT, isolate, needs, type RunOpts, SCRATCH, tempDir } from "../../helpers/index.ts";

const NOBODY = 65534;

/** The stores planted in a scratch home, and what each holds. */
const PLANTED: Record<string, string> = {
  ".ssh/id_ed25519": "ssh-secret",
  ".aws/credentials": "aws-secret",
  ".gnupg/private-keys-v1.d/k.key": "gpg-secret",
  ".config/gcloud/credentials.db": "gcloud-secret",
  ".kube/config": "kube-secret",
  ".docker/config.json": "docker-secret",
  ".netrc": "netrc-secret",
  ".git-credentials": "git-secret",
  ".npmrc": "npm-secret",
  ".pypirc": "pypi-secret",
  ".cargo/credentials.toml": "cargo-secret",
  ".azure/accessTokens.json": "azure-secret",
};
/** Not in the list: stays visible. */
const PLAIN = { ".config/other.conf": "plain", ".docker/daemon.json": "plain-docker" };

function plantHome(owner: number): { path: string; remove: () => void } {
  const h = tempDir("isolate-home-");
  for (const [rel, text] of Object.entries({ ...PLANTED, ...PLAIN })) {
    const f = join(h.path, rel);
    mkdirSync(join(f, ".."), { recursive: true });
    writeFileSync(f, `${text}\n`);
  }
  chmodSync(h.path, 0o755);
  if (owner !== 0) {
    const chown = Bun.spawnSync(["chown", "-R", `${owner}:${owner}`, h.path]);
    if (chown.exitCode !== 0) throw new Error("chown failed");
  }
  return h;
}

/** `cat` of every planted file inside, one "rel: text" line each (empty or an error when masked). */
const catAll = (home: string) =>
  Object.keys({ ...PLANTED, ...PLAIN })
    .map((rel) => `printf '%s: %s\\n' ${rel} "$(cat ${home}/${rel} 2>/dev/null)"`)
    .join("; ");

function seen(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.trim().split("\n")) {
    const i = line.indexOf(": ");
    out[line.slice(0, i)] = line.slice(i + 2);
  }
  return out;
}

function run(home: string, args: string[], script: string, opts: RunOpts = {}) {
  return isolate(["exec", ...args, "--", "sh", "-c", script], {
    cwd: SCRATCH,
    ...opts,
    env: { ...process.env, HOME: home },
  });
}

const WHO: [string, number, boolean][] = IS_ROOT
  ? [
      ["root", 0, false],
      ["nobody", NOBODY, true],
    ]
  : [["the caller", process.getuid?.() ?? 0, false]];

describe("the caller's credential stores are masked", () => {
  for (const [who, owner, nobody] of WHO) {
    test(`${who}: every planted store reads empty or is gone inside; other files stay`, async () => {
      const h = plantHome(owner);
      try {
        const r = await run(h.path, [], catAll(h.path), { nobody });
        expect(r.stderr).toBe("");
        const s = seen(r.stdout);
        for (const rel of Object.keys(PLANTED)) expect([rel, s[rel]]).toEqual([rel, ""]);
        expect(s[".config/other.conf"]).toBe("plain");
        expect(s[".docker/daemon.json"]).toBe("plain-docker");
        // The host is untouched.
        expect(readFileSync(join(h.path, ".ssh/id_ed25519"), "utf8")).toBe("ssh-secret\n");
      } finally {
        h.remove();
      }
    });

    test(`${who}: --unmask ~/.ssh keeps it (in every home), --unmask HOME/.aws keeps that one path`, async () => {
      const h = plantHome(owner);
      try {
        const r = await run(h.path, ["--unmask", "~/.ssh", "--unmask", `${h.path}/.aws`], catAll(h.path), { nobody });
        expect(r.stderr).toBe("");
        const s = seen(r.stdout);
        expect(s[".ssh/id_ed25519"]).toBe("ssh-secret");
        expect(s[".aws/credentials"]).toBe("aws-secret");
        expect(s[".netrc"]).toBe("");
        expect(s[".cargo/credentials.toml"]).toBe("");
      } finally {
        h.remove();
      }
    });

    test(`${who}: a cwd of HOME still masks HOME/.ssh (the masks come after the cwd bind)`, async () => {
      const h = plantHome(owner);
      try {
        const r = await isolate(["exec", "--", "sh", "-c", "cat .ssh/id_ed25519; echo rc=$?; touch made; echo $?"], {
          cwd: h.path,
          nobody,
          env: { ...process.env, HOME: h.path },
        });
        expect(r.stdout).toContain("rc=1");
        expect(r.stdout).not.toContain("ssh-secret");
        expect(r.stdout.trim().split("\n").at(-1)).toBe("0");
      } finally {
        h.remove();
      }
    });

    test(`${who}: a cwd inside ~/.ssh is refused with the remedy; --unmask or --no-cwd run`, async () => {
      const h = plantHome(owner);
      const opts = { cwd: join(h.path, ".ssh"), nobody, env: { ...process.env, HOME: h.path } };
      try {
        const r = await isolate(["exec", "--", "cat", "id_ed25519"], opts);
        expect(r.code).toBe(125);
        expect(r.stderr).toBe(
          `isolate: the working directory ${h.path}/.ssh is inside ${h.path}/.ssh, a credential store masked by default (~/.ssh) (pass --unmask ${h.path}/.ssh to keep it visible, or --no-cwd)\n`,
        );
        const kept = await isolate(["exec", "--unmask", `${h.path}/.ssh`, "--", "cat", "id_ed25519"], opts);
        expect([kept.code, kept.stdout]).toEqual([0, "ssh-secret\n"]);
        const none = await isolate(["exec", "--no-cwd", "--", "true"], opts);
        expect(none.code).toBe(0);
      } finally {
        h.remove();
      }
    });

    test(`${who}: a store that is a symlink is masked where it leads`, async () => {
      const h = plantHome(owner);
      try {
        mkdirSync(join(h.path, "real-kube"));
        writeFileSync(join(h.path, "real-kube", "config"), "linked-secret\n");
        Bun.spawnSync(["rm", "-rf", join(h.path, ".kube")]);
        symlinkSync("real-kube", join(h.path, ".kube"));
        if (owner !== 0) Bun.spawnSync(["chown", "-hR", `${owner}:${owner}`, h.path]);
        const r = await run(h.path, [], `cat ${h.path}/.kube/config; echo rc=$?`, { nobody });
        expect(r.stdout).not.toContain("linked-secret");
        expect(r.stdout).toContain("rc=1");
      } finally {
        h.remove();
      }
    });
  }
});

const root = needs(IS_ROOT, "root (to read /etc/shadow on the host)");

describe("the host's secrets are masked", () => {
  root("root: /etc/shadow and /etc/gshadow read empty inside; the host's are not empty", async () => {
    expect(readFileSync("/etc/shadow", "utf8").length).toBeGreaterThan(0);
    const r = await isolate(["exec", "--", "sh", "-c", "wc -c < /etc/shadow; wc -c < /etc/gshadow"], { cwd: SCRATCH });
    expect(r.stdout.trim().split("\n")).toEqual(["0", "0"]);
    // Unmasked it reads as it is, to host root (--userns host); root mapped is refused it anyway.
    const kept = await isolate(
      ["exec", "--userns", "host", "--unmask", "/etc/shadow", "--", "wc", "-c", "/etc/shadow"],
      {
        cwd: SCRATCH,
      },
    );
    expect(kept.stdout.trim()).toBe(`${readFileSync("/etc/shadow").length} /etc/shadow`);
  });

  test("isolate plan lists the masks of the paths that exist, and not the others", async () => {
    const h = plantHome(IS_ROOT ? 0 : (process.getuid?.() ?? 0));
    try {
      const r = await isolate(["plan", "--", "true"], { cwd: SCRATCH, env: { ...process.env, HOME: h.path } });
      expect(r.code).toBe(0);
      const masks = r.stdout.split("\n").filter((l) => l.includes(`mask "${h.path}`));
      const expected = [".ssh", ".gnupg", ".aws", ".azure", ".config/gcloud", ".kube", ".docker/config.json"]
        .concat([".netrc", ".git-credentials", ".npmrc", ".pypirc", ".cargo/credentials.toml"])
        .map((rel) => `mask "${h.path}/${rel}"`);
      expect(masks.map((l) => l.slice(l.indexOf("mask")))).toEqual(expected);
      if (IS_ROOT) expect(r.stdout).toContain('mask "/etc/shadow"');
    } finally {
      h.remove();
    }
  });

  test("--unmask of a path not in the list is 125 and names the list", async () => {
    for (const bad of ["/tmp/x", "~/.bashrc", "/etc/passwd"]) {
      const r = await isolate(["exec", "--unmask", bad, "--", "true"], { cwd: SCRATCH });
      expect([bad, r.code]).toEqual([bad, 125]);
      expect(r.stderr).toStartWith(`isolate: --unmask "${bad}": not one of the masked paths (~/.ssh ~/.gnupg`);
      expect(r.stderr).toContain("/etc/ssh/ssh_host_*_key)");
    }
    // In the list's shape, but under no home isolate masks in.
    const r = await isolate(["exec", "--unmask", "/srv/nohome/.ssh", "--", "true"], { cwd: SCRATCH });
    expect(r.code).toBe(125);
    expect(r.stderr).toContain("/srv/nohome is not a home isolate masks in");
  });
});
