/**
 * isolate check names what --net pasta needs: pasta (Debian package passt),
 * nft (nftables), setpriv, a usable /dev/net/tun. Missing helpers are shown
 * by running check in a sandbox where they are masked; as root and as nobody.
 */
import { describe, expect } from "bun:test";
import { realpathSync } from "node:fs";
import { BIN, IS_ROOT, NOBODY, needs, sh } from "../../helpers/index.ts";

const PASTA = Bun.which("pasta");
const NFT = Bun.which("nft");

interface Item {
  id: string;
  ok: boolean;
  required: boolean;
  value: string;
  remedy?: string;
}

async function check(nobody: boolean, mask: string[]): Promise<Item[]> {
  const masks = mask.flatMap((p) => ["--mask", p]);
  const r = await sh([...(nobody ? NOBODY : []), BIN, "exec", ...masks, "--", BIN, "check", "--json"]);
  expect(r.stderr).toBe("");
  return (JSON.parse(r.stdout) as { items: Item[] }).items;
}

for (const nobody of [false, true]) {
  describe(`isolate check and --net pasta, as ${nobody ? "nobody" : "root"}`, () => {
    const it = needs(
      PASTA !== null && NFT !== null && (IS_ROOT || nobody),
      "pasta (passt) and nft (nftables) installed",
    );

    it("names pasta and nft with their packages when they are missing; optional items", async () => {
      // Masked at their real paths (pasta is a link to passt).
      const items = await check(nobody, [realpathSync(PASTA ?? ""), realpathSync(NFT ?? "")]);
      const pasta = items.find((i) => i.id === "net.pasta");
      const nft = items.find((i) => i.id === "net.nft");
      expect(pasta?.ok).toBe(false);
      expect(pasta?.required).toBe(false);
      expect(pasta?.remedy).toContain("apt-get install passt");
      expect(nft?.ok).toBe(false);
      expect(nft?.remedy).toContain("apt-get install nftables");
      expect(items.find((i) => i.id === "net.setpriv")?.ok).toBe(true);
    }, 30_000);

    it("finds them when they are there", async () => {
      const items = await check(nobody, []);
      expect(items.find((i) => i.id === "net.pasta")).toMatchObject({ ok: true, value: PASTA ?? "" });
      expect(items.find((i) => i.id === "net.nft")?.ok).toBe(true);
      // The tun item says who must open /dev/net/tun: nobody as root (pasta's user), the caller otherwise.
      expect(items.find((i) => i.id === "net.tun")?.value).toContain("tun");
    }, 30_000);
  });
}
