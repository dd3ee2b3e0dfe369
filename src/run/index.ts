/** Public API of the runner: experiment specs, starting/resuming runs, listing run directories. */
export * from "./spec.js";
export * from "./runner.js";
export * from "./errors.js";
export * from "./list-runs.js";
export * from "./run-report.js";
export * from "./progress.js";
export * from "./task-module.js";
export * from "./executor-spec.js";
export * from "./trainer-spec.js";
