export {};

/**
 * The "remote" side of the network tests, run inside the test's own network
 * namespace: HTTP servers answering with their own name, and a resolver
 * answering A/AAAA for test names (a few lines: no resolver package needed).
 * argv: JSON {http: [[host, port, label]...], dns?: [host or [host...], {name: [addr...]}]}
 */
const cfg = JSON.parse(process.argv[2] ?? "{}") as {
  http: [string, number, string][];
  dns?: [string | string[], Record<string, string[]>];
};
for (const [hostname, port, label] of cfg.http) {
  Bun.serve({ hostname, port, fetch: () => new Response(`hello from ${label}\n`) });
}

function v6bytes(a: string): number[] {
  const [head = "", tail = ""] = a.split("::");
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  return groups.flatMap((g) => {
    const n = Number.parseInt(g, 16);
    return [n >> 8, n & 0xff];
  });
}

for (const hostname of cfg.dns ? [cfg.dns[0]].flat() : []) {
  const table = cfg.dns?.[1] ?? {};
  await Bun.udpSocket({
    hostname,
    port: 53,
    socket: {
      data(sock, buf, port, addr) {
        const q = new Uint8Array(buf);
        let i = 12;
        const labels: string[] = [];
        while (i < q.length && q[i] !== 0) {
          const n = q[i] ?? 0;
          labels.push(new TextDecoder().decode(q.subarray(i + 1, i + 1 + n)));
          i += n + 1;
        }
        const qtype = ((q[i + 1] ?? 0) << 8) | (q[i + 2] ?? 0);
        const question = q.subarray(12, i + 5);
        const name = labels.join(".").toLowerCase();
        const addrs = (table[name] ?? []).filter((a) =>
          qtype === 28 ? a.includes(":") : qtype === 1 && !a.includes(":"),
        );
        const known = name in table;
        const answers = addrs.flatMap((a) => {
          const rdata = a.includes(":") ? v6bytes(a) : a.split(".").map(Number);
          return [0xc0, 12, 0, qtype, 0, 1, 0, 0, 0, 60, 0, rdata.length, ...rdata];
        });
        const head = [q[0] ?? 0, q[1] ?? 0, 0x81, known ? 0x80 : 0x83, 0, 1, 0, addrs.length, 0, 0, 0, 0];
        sock.send(Uint8Array.from([...head, ...question, ...answers]), port, addr);
      },
    },
  });
}
console.log("ready");
