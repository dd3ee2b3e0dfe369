/** Public API of the report: the self-contained HTML report, the markdown summary, the results.json schema, compare. */
export * from "./render-report.js";
export * from "./summary-md.js";
export * from "./results-schema.js";
export * from "./curves.js";
export * from "./compare.js";
export * from "./compare-diff.js";
