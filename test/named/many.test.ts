/** 20 named sandboxes at once: listed, stopped, and nothing left (issue 10). */
import { describe, expect, test } from "bun:test";
import { marker, pidsWith, waitFor } from "../helpers/index.ts";
import { SLOW } from "../helpers/limits.ts";
import { alive, cgroupsOf, nameFor, ps, stateFiles, usersUnderTest } from "../helpers/named.ts";

const users = usersUnderTest();

describe.each(users.map((u) => [u.label, u] as const))("as %s", (_label, u) => {
  test(
    "20 at once: ps lists them, stop ends each, nothing is left",
    async () => {
      const tag = marker();
      const names = Array.from({ length: 20 }, (_, i) => nameFor(u, `many${i}`));
      // --pids where cgroups can be made (root), so each has cgroups to leave behind
      const limit = u.uid === 0 ? ["--pids", "20"] : [];
      const started = await Promise.all(
        names.map((n) =>
          u.run(["exec", "--name", n, "--detach", ...limit, "--", "sh", "-c", `sleep 300; : ${tag}`], {
            timeoutMs: 30_000 * SLOW,
          }),
        ),
      );
      for (const r of started) expect(r.code).toBe(0);
      const listed = await ps(u);
      const mine = listed.filter((e) => names.includes(e.name));
      expect(mine.length).toBe(20);
      for (const e of mine) expect(e.state).toBe("running");
      const monitors = mine.map((e) => e.monitorPid);
      expect((await pidsWith(tag)).length).toBeGreaterThanOrEqual(20);
      if (u.uid === 0) for (const m of monitors) expect(cgroupsOf(m).length).toBeGreaterThan(0);

      const stopped = await Promise.all(
        names.map((n) => u.run(["stop", n, "--kill-after", "2s"], { timeoutMs: 30_000 * SLOW })),
      );
      for (const r of stopped) expect(r.code).toBe(0);
      for (const e of await ps(u)) if (names.includes(e.name)) expect(e.state).toBe("exited");
      for (const n of names) expect((await u.run(["rm", n])).code).toBe(0);

      expect(await waitFor(async () => (await pidsWith(tag)).length === 0, 5000 * SLOW)).toBe(true);
      expect(await waitFor(() => monitors.every((m) => !alive(m)), 5000 * SLOW)).toBe(true);
      for (const m of monitors) expect(cgroupsOf(m)).toEqual([]);
      expect(stateFiles(u).filter((f) => names.some((n) => f.startsWith(`${n}.`)))).toEqual([]);
      expect((await ps(u)).filter((e) => names.includes(e.name))).toEqual([]);
    },
    120_000 * SLOW,
  );
});
