/**
 * Writing a mapping table's entries into a sandbox's cgroup directories,
 * failing closed: a limit that was asked for and cannot be written is an
 * error naming the limit, the reason and the fix.
 */
import { CgroupError, field as specField } from "../errors.ts";
import type { Controller } from "./detect.ts";
import { errnoCode, errnoWords, readText, writeValue } from "./files.ts";
import type { CgroupWrite } from "./writes.ts";

function missingFix(file: string): string {
  if (file.startsWith("memory.swap") || file.startsWith("memory.memsw")) {
    return `swap accounting is off on this kernel: boot with swapaccount=1, or use ${specField("limits.memory")} alone`;
  }
  if (file.includes("weight") && (file.startsWith("io") || file.startsWith("blkio"))) {
    return `no I/O scheduler with weights (BFQ or io.cost) is active here: drop ${specField("limits.ioWeight")}`;
  }
  return "this kernel does not offer it: drop that limit";
}

function refusedFix(file: string, dir: string): string {
  if (file.startsWith("cpuset")) {
    const allowed = (
      readText(`${dir}/../cpuset.effective_cpus`) ?? readText(`${dir}/../cpuset.cpus.effective`)
    )?.trim();
    return allowed ? `the parent cgroup allows cpus ${allowed}` : "name cpus the parent cgroup allows";
  }
  if (file.includes("bps")) return "name a whole disk (not a partition) as MAJ:MIN or /dev/NAME";
  return "check the value against the kernel's range";
}

export function applyWrites(writes: readonly CgroupWrite[], dirOf: (c: Controller) => string): void {
  for (const w of writes) {
    const dir = dirOf(w.controller);
    const flag = specField(`limits.${w.limit}`);
    let written = false;
    for (const [file, given] of w.files) {
      const value = w.inherit ? (readText(`${dir}/../${file}`)?.trim() ?? "") : given;
      try {
        writeValue(`${dir}/${file}`, value);
        written = true;
        break;
      } catch (e) {
        const code = errnoCode(e);
        if (code === "ENOENT") continue;
        const fix =
          code === "EACCES" || code === "EPERM"
            ? "the cgroup is not fully delegated: run as root"
            : refusedFix(file, dir);
        throw new CgroupError(
          `${flag}: cannot be enforced: writing ${JSON.stringify(value)} to ${dir}/${file}: ${errnoWords(code)}`,
          fix,
        );
      }
    }
    if (!written && !w.optional) {
      const files = w.files.map(([f]) => f).join(" or ");
      throw new CgroupError(`${flag}: cannot be enforced: ${dir} has no ${files}`, missingFix(w.files[0]?.[0] ?? ""));
    }
  }
}
