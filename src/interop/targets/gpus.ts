/**
 * The GPU counts a one-node recipe can run on: each GPU takes micro-batches of the configured size, so an optimizer
 * step's gradient accumulation (and verl's rollout batch) must split evenly over the GPUs.
 */

/** GPU counts up to 8 that divide every one of `sizes`. */
export function gpuCounts(...sizes: number[]): number[] {
  return [1, 2, 3, 4, 5, 6, 7, 8].filter((g) => sizes.every((s) => s % g === 0));
}

/** The recipe note that says which $MST_GPUS values work and why. */
export function gpuNote(engine: string, counts: number[], why: string): string {
  return `Runs on one node with $MST_GPUS GPUs (1 when unset; ${engine}'s own defaults assume 8): it may be ${counts.join(", ")} here (${why}). For several nodes set the node counts yourself.`;
}
