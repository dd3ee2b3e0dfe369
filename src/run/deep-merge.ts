/** Deep merge of JSON values for presets and overrides: objects merge key by key, arrays and scalars replace. */
import type { Json } from "../data/sample.js";

/** True for a plain JSON object (not an array, not null). */
export function isJsonObject(v: unknown): v is { [key: string]: Json } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Returns `over` merged onto `base` without mutating either. Why arrays replace: a preset's list of labels or seeds is
 * one value; merging lists element-wise would silently mix two experiments.
 */
export function deepMerge(base: Json, over: Json): Json {
  if (!isJsonObject(base) || !isJsonObject(over)) return structuredClone(over);
  const out: { [key: string]: Json } = structuredClone(base);
  for (const [k, v] of Object.entries(over)) {
    out[k] = k in out ? deepMerge(out[k], v) : structuredClone(v);
  }
  return out;
}

/** True when `path` (object keys) leads somewhere inside `value`. */
export function hasPath(value: Json, path: readonly PropertyKey[]): boolean {
  let cur: Json = value;
  for (const p of path) {
    if (Array.isArray(cur) && typeof p === "number" && p < cur.length) cur = cur[p];
    else if (isJsonObject(cur) && typeof p === "string" && p in cur) cur = cur[p];
    else return false;
  }
  return true;
}
