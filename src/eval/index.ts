/** Public API of src/eval (generic parts): judge and metric contracts, statistics, LLM judges. */
export * from "./judge.js";
export * from "./metric.js";
export * from "./stats.js";
export * from "./special.js";
export * from "./llm-judge.js";
export * from "./bias-judge.js";
