/**
 * A relative base checkpoint in a spec is a path from the spec's folder, as every other path in a spec is: resolved
 * there when the spec is loaded, so `mst run` from another folder, every job, and the recipes `mst export` writes (run
 * from the export folder, or on another machine's node) all read the same directory.
 */
import { isAbsolute, resolve } from "node:path";
import type { ConfigContext } from "./task.js";

/** The config with the string at `key` (e.g. ["base", "checkpoint"]) made absolute from `ctx.dir`; others as given. */
export function withAbsoluteCheckpoint<C>(config: C, key: readonly string[], ctx: ConfigContext): C {
  let node: unknown = config;
  for (const k of key.slice(0, -1)) node = (node as Record<string, unknown> | null)?.[k];
  const leaf = key[key.length - 1];
  const value = (node as Record<string, unknown> | null | undefined)?.[leaf];
  if (typeof value !== "string" || value === "" || isAbsolute(value)) return config;
  const out = structuredClone(config);
  let target = out as Record<string, unknown>;
  for (const k of key.slice(0, -1)) target = target[k] as Record<string, unknown>;
  target[leaf] = resolve(ctx.dir, value);
  return out;
}
