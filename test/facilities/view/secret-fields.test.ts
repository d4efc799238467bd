/** The masked-secrets list and --unmask values (pure): src/facilities/view/secret-fields.ts. */
import { describe, expect, test } from "bun:test";
import { parseSpec } from "../../../src/config/parse.ts";
import { parseUnmask, SECRETS } from "../../../src/facilities/view/secret-fields.ts";

describe("--unmask values", () => {
  test("a list entry as spelled, or a path it stands for", () => {
    expect(parseUnmask("~/.ssh")).toEqual({ entry: "~/.ssh" });
    expect(parseUnmask("/etc/ssh/ssh_host_*_key")).toEqual({ entry: "/etc/ssh/ssh_host_*_key" });
    expect(parseUnmask("/home/me/.ssh")).toEqual({ entry: "~/.ssh", path: "/home/me/.ssh", home: "/home/me" });
    expect(parseUnmask("/root/.config/gcloud/")).toEqual({
      entry: "~/.config/gcloud",
      path: "/root/.config/gcloud",
      home: "/root",
    });
    expect(parseUnmask("/root/.cargo/credentials.toml")).toEqual({
      entry: "~/.cargo/credentials*",
      path: "/root/.cargo/credentials.toml",
      home: "/root",
    });
    expect(parseUnmask("/etc/ssh/ssh_host_ed25519_key")).toEqual({
      entry: "/etc/ssh/ssh_host_*_key",
      path: "/etc/ssh/ssh_host_ed25519_key",
    });
    expect(parseUnmask("/etc/shadow")).toEqual({ entry: "/etc/shadow" });
  });

  test("anything else names the list", () => {
    for (const bad of ["/etc/passwd", "~/.bashrc", "relative/.ssh", "/.ssh/x", "/etc/ssh/ssh_host_rsa_key.pub", ""]) {
      expect([bad, parseUnmask(bad)]).toEqual([bad, `not one of the masked paths (${SECRETS.join(" ")})`]);
    }
    expect(() => parseSpec({ command: ["true"], unmask: ["/etc/passwd"] })).toThrow(/unmask "\/etc\/passwd": not one/);
  });

  test("entries match within one name per *", () => {
    const host = "/etc/ssh/ssh_host_*_key";
    expect(parseUnmask("/etc/ssh/ssh_host_rsa_key")).toEqual({ entry: host, path: "/etc/ssh/ssh_host_rsa_key" });
    expect(parseUnmask("/etc/ssh/ssh_host__key")).toEqual({ entry: host, path: "/etc/ssh/ssh_host__key" });
    for (const bad of ["/etc/ssh/ssh_host_rsa_key.pub", "/etc/ssh/x/ssh_host_a_key", "/etc/ssh/ssh_host_a/b_key"]) {
      expect([bad, typeof parseUnmask(bad)]).toEqual([bad, "string"]);
    }
    expect(parseUnmask("/root/.ssh")).toEqual({ entry: "~/.ssh", path: "/root/.ssh", home: "/root" });
  });
});
