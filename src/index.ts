/** Public library entry point of mst: re-exports each pipeline stage's API. */
export * from "./data/rng.js";
