/** Public API of the data layer: samples, JSONL I/O, seeded RNG, splits, the TextModel contract. */
export * from "./rng.js";
export * from "./text-model.js";
export * from "./sample.js";
export * from "./errors.js";
export * from "./fs-errors.js";
export * from "./jsonl.js";
export * from "./jsonl-write.js";
export * from "./split.js";
export * from "./config-file.js";
