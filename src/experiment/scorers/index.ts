/** The kit's stock scorers: exact match, a module's function, an LLM judge; as rewards and as judges. */
export * from "./config.js";
export * from "./scorer.js";
