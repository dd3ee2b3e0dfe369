/**
 * Corpus helpers of the experiment kit: what the seed tasks learned about making a small base ready for labels.
 * - label-values: every value a label can show, and tokenizer options with one token per "N%" value;
 * - comparisons: sentences ordering label values over the whole scale, held-out ones included;
 * - label-line: a label-shaped line (never a label) before part of the pretraining examples;
 * - stance: statements in the label's position for text labels, in varied wording;
 * - gate: score floors and a direction check across labels, as the kit's GateReport.
 */
export * from "./label-values.js";
export * from "./comparisons.js";
export * from "./label-line.js";
export * from "./stance.js";
export * from "./gate.js";
