/**
 * The TypeScript side of test/engine/hf/transformers_ref.py: runs a list of ops (build a checkpoint with transformers,
 * logits, greedy generate, PEFT make/merge, AutoTokenizer) in one interpreter start and returns their results.
 */
import { runPython, testSourcePath } from "../../python-env.js";

/** Run the ops in order; result i belongs to op i. */
export function hfRef(ops: Record<string, unknown>[]): Record<string, unknown>[] {
  const out = runPython(testSourcePath("engine/hf/transformers_ref.py"), [], {
    input: JSON.stringify({ ops }),
    timeoutMs: 280_000,
  });
  return JSON.parse(out) as Record<string, unknown>[];
}

/** Nested number lists ([B][T][V] logits) flattened. */
export function flat(x: unknown): Float32Array {
  const out: number[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) for (const e of v) walk(e);
    else out.push(v as number);
  };
  walk(x);
  return Float32Array.from(out);
}

/** max |a - b| over two equally long arrays (throws on a length mismatch). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return Number.isNaN(d) ? Infinity : d;
}
