/** The most worker processes a run accepts (`--jobs`, a spec's `jobs:`): more is a typo, not a machine. */
export const MAX_JOBS = 256;
