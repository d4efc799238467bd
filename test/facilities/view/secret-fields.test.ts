/** The masked-secrets list and --unmask values (pure): src/facilities/view/secret-fields.ts. */
import { describe, expect, test } from "bun:test";
import { parseSpec } from "../../../src/config/parse.ts";
import { entryMatches, parseUnmask, SECRETS } from "../../../src/facilities/view/secret-fields.ts";

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
    expect(entryMatches("/etc/ssh/ssh_host_*_key", "/etc/ssh/ssh_host_rsa_key", undefined)).toBe(true);
    expect(entryMatches("/etc/ssh/ssh_host_*_key", "/etc/ssh/ssh_host_rsa_key.pub", undefined)).toBe(false);
    expect(entryMatches("/etc/ssh/ssh_host_*_key", "/etc/ssh/x/ssh_host_a_key", undefined)).toBe(false);
    expect(entryMatches("~/.ssh", "/root/.ssh", "/root")).toBe(true);
    expect(entryMatches("~/.ssh", "/root/.ssh", "/home/me")).toBe(false);
    expect(entryMatches("~/.ssh", "/.ssh", "/")).toBe(true);
  });
});
