/** Which fields of several runs' resolved specs differ: the "What differs" table of `mst compare`, for any task. */
import type { Json } from "../data/sample.js";
import { formatPath } from "../data/errors.js";

/** One field whose value is not the same in every run; `values[i]` is run i's value (undefined: the run lacks it). */
export interface SpecDifference {
  /** e.g. "config.label.numberTokens" or "seeds". */
  path: string;
  values: Array<Json | undefined>;
}

const isObject = (v: Json | undefined): v is { [key: string]: Json } =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Leaf fields of `value` keyed by path. Objects are walked; arrays are leaves (a seed list or a label sweep is one
 * setting, and listing `sweepLabels[3]` apart from its list would say less). An empty object is a leaf too, so that
 * "{}" against a filled object still shows up.
 */
function leaves(value: Json, path: PropertyKey[], out: Map<string, Json>): void {
  if (isObject(value) && Object.keys(value).length > 0) {
    for (const [k, v] of Object.entries(value)) leaves(v, [...path, k], out);
  } else {
    out.set(formatPath(path), value);
  }
}

/** Canonical text of a value, so that key order inside an array's objects does not count as a difference. */
function canonical(v: Json | undefined): string {
  if (v === undefined) return "\u0000absent";
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (isObject(v)) {
    const keys = Object.keys(v).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(",")}}`;
  }
  return JSON.stringify(v);
}

/**
 * The fields whose values differ across `specs` (one per run; undefined for a run without a spec, which then differs
 * nowhere: there is nothing to compare it on). Paths are listed in order of first appearance.
 */
export function differingPaths(specs: ReadonlyArray<Json | undefined>): SpecDifference[] {
  const flat = specs.map((s) => {
    const m = new Map<string, Json>();
    if (s !== undefined) leaves(s, [], m);
    return m;
  });
  const known = specs.map((s) => s !== undefined);
  const paths: string[] = [];
  const seen = new Set<string>();
  for (const m of flat)
    for (const p of m.keys())
      if (!seen.has(p)) {
        seen.add(p);
        paths.push(p);
      }
  const out: SpecDifference[] = [];
  for (const path of paths) {
    const values = flat.map((m) => m.get(path));
    const texts = new Set(values.filter((_, i) => known[i]).map(canonical));
    if (texts.size > 1) out.push({ path, values });
  }
  return out;
}
