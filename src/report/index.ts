/** Public API of the report: the self-contained HTML report, the markdown summary, the results.json schema. */
export * from "./render-report.js";
export * from "./summary-md.js";
export * from "./results-schema.js";
export * from "./curves.js";
