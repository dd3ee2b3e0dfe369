/** Deterministic splits by key: the same key (problem id, topic...) always lands in the same split for a given seed. */
import { z } from "zod";
import { Rng } from "./rng.js";

export const SplitSpecSchema = z
  .strictObject({
    seed: z.union([z.number(), z.string()]).default(0).describe("Seed mixed into every key's hash"),
    fractions: z
      .record(z.string(), z.number().nonnegative())
      .refine((f) => Object.keys(f).length > 0, "at least one split")
      .refine((f) => Object.values(f).some((v) => v > 0), "fractions must have a positive sum")
      .describe(
        "Split name -> share (normalised to sum 1), in a fixed order, e.g. { train: 0.8, val: 0.1, test: 0.1 }",
      ),
  })
  .describe("A deterministic split by key");
export type SplitSpec = z.infer<typeof SplitSpecSchema>;

/**
 * The split `key` falls in. The key is hashed with the seed through the project RNG (splitmix32 seeding, so similar
 * keys map to unrelated points) into u in [0, 1); splits take consecutive slices of [0, 1) in the order given.
 * Depends only on (seed, key, fractions), never on the other keys, so adding data never moves an existing key.
 */
export function splitOf(key: string, spec: SplitSpec): string {
  const names = Object.keys(spec.fractions);
  const total = names.reduce((s, n) => s + spec.fractions[n], 0);
  const u = new Rng(`split/${spec.seed}/${key}`).float() * total;
  let acc = 0;
  for (const n of names) {
    acc += spec.fractions[n];
    if (u < acc) return n;
  }
  // Float rounding at the top edge: the last split with a positive share takes it.
  return [...names].reverse().find((n) => spec.fractions[n] > 0)!;
}

/** Partitions `items` into named splits by `keyOf(item)`; items sharing a key always share a split. Order is kept. */
export function splitByKey<T>(items: readonly T[], keyOf: (item: T) => string, spec: SplitSpec): Record<string, T[]> {
  const out: Record<string, T[]> = {};
  for (const n of Object.keys(spec.fractions)) out[n] = [];
  for (const it of items) out[splitOf(keyOf(it), spec)].push(it);
  return out;
}
