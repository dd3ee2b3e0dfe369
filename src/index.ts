/** Public library entry point of mst: re-exports each pipeline stage's API (monitor -> data -> engine -> train -> eval -> experiment -> tasks -> run -> report). */
export * from "./data/index.js";
export * from "./monitor/index.js";
export * from "./eval/index.js";
export * from "./providers/index.js";
export * from "./train/index.js";
export * from "./engine/index.js";
export * from "./experiment/index.js";
export * from "./tasks/registry.js";
export * from "./run/index.js";
export * from "./report/index.js";
