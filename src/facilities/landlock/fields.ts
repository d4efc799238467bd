/**
 * The Spec's Landlock field (src/facilities/landlock/ops.ts applies it):
 *   "auto" (default)  what the kernel has; nothing where it has no Landlock
 *   "on"              the whole wall, or the run is refused
 *   "off"             none
 */
import * as v from "valibot";

export const LANDLOCK_MODES = ["auto", "on", "off"] as const;
export type LandlockMode = (typeof LANDLOCK_MODES)[number];

/** Spread into SpecInputSchema's entries. */
export const LANDLOCK_FIELDS = {
  /** Landlock around the command: writes only where the view makes them, signals and abstract sockets scoped. */
  landlock: v.optional(v.picklist(LANDLOCK_MODES, `use ${LANDLOCK_MODES.join(", ")}`), "auto"),
} as const;
