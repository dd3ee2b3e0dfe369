/** SFT data order: seeded shuffles per epoch, optional group-by-length mega-batches, truncation to maxLength. */
import type { Rng } from "../data/rng.js";

/** One SFT example as token ids; the loss covers `completion` (and optionally the prompt). */
export interface SftExample {
  prompt: number[];
  completion: number[];
}

/** Truncated examples ready to batch, with counts of what was cut. */
export interface PreparedData {
  examples: SftExample[];
  /** Examples whose prompt+completion exceeded maxLength and were cut from the end. */
  truncated: number;
  /** Examples dropped because nothing of the completion survived truncation. */
  dropped: number;
}

/** Cuts each example to `maxLength` tokens from the end; an example whose completion vanishes is dropped. */
export function prepareExamples(data: readonly SftExample[], maxLength: number, where: string): PreparedData {
  const examples: SftExample[] = [];
  let truncated = 0,
    dropped = 0;
  data.forEach((ex, i) => {
    if (ex.prompt.length === 0)
      throw new Error(`${where}[${i}].prompt: must hold at least one token (e.g. BOS) to predict the completion from`);
    if (ex.completion.length === 0) throw new Error(`${where}[${i}].completion: is empty`);
    const total = ex.prompt.length + ex.completion.length;
    if (total <= maxLength) return void examples.push(ex);
    truncated++;
    const keep = maxLength - ex.prompt.length;
    if (keep <= 0) return void dropped++;
    examples.push({ prompt: ex.prompt, completion: ex.completion.slice(0, keep) });
  });
  return { examples, truncated, dropped };
}

/** Number of samples the HF LengthGroupedSampler puts in one mega-batch, in batches. */
const MEGABATCH_MULT = 50;

/**
 * The order of example indices for one epoch, cut into micro-batches. Without grouping: a seeded shuffle. With
 * grouping (as HF's LengthGroupedSampler): shuffle, cut into mega-batches of 50 batches, sort each by length
 * (longest first) and cut into batches, so batches hold similar lengths while the order stays random.
 */
export function epochBatches(lengths: readonly number[], batchSize: number, group: boolean, rng: Rng): number[][] {
  const idx = rng.shuffle(lengths.map((_, i) => i));
  const batches: number[][] = [];
  if (!group) {
    for (let i = 0; i < idx.length; i += batchSize) batches.push(idx.slice(i, i + batchSize));
    return batches;
  }
  const mega = batchSize * MEGABATCH_MULT;
  for (let m = 0; m < idx.length; m += mega) {
    // stable sort by descending length; ties keep the shuffled order
    const chunk = idx.slice(m, m + mega).sort((a, b) => lengths[b] - lengths[a]);
    for (let i = 0; i < chunk.length; i += batchSize) batches.push(chunk.slice(i, i + batchSize));
  }
  return batches;
}
