/** The interface both backends implement for one sandbox's cgroups. */
import type { Controller } from "./detect.ts";
import type { CgroupUsage } from "./stats.ts";

export interface CgroupGroup {
  readonly version: 1 | 2;
  /** The controllers this group serves. */
  readonly controllers: readonly Controller[];
  /** Every directory it created. */
  readonly paths: readonly string[];
  /**
   * The writes that place a started process (v1: before it is released; v2
   * places at clone instead), done off the JS thread by the caller.
   */
  placement(pid: number): [string, string][];
  /** CPU time of every process in it, µs, or null when it does not account CPU. */
  cpuUsageUs(): number | null;
  usage(): Partial<CgroupUsage>;
  /** Whether any process is still in it. */
  populated(): boolean;
  /** End every process in it; resolves once it is empty (or gives up). */
  kill(): Promise<void>;
  /** Remove every directory it created; the errno codes of what could not be removed. */
  destroy(): Promise<string[]>;
}
