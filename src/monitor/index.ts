/** Public API of the monitor layer: monitors, label encodings, held-out values, prompts with labels, arms. */
export * from "./errors.js";
export * from "./encoding.js";
export * from "./held-out.js";
export * from "./monitor.js";
export * from "./render-prompt.js";
export * from "./arms-spec.js";
export * from "./arm-sample.js";
export * from "./arms-manifest.js";
export * from "./arms.js";
export * from "./arms-io.js";
