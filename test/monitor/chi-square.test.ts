/** The test helper's chi-square p-values match published critical values. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { chiSquarePValue } from "./chi-square.js";

test("chi-square p-values at textbook critical values", () => {
  // (statistic, df, p) from standard tables.
  const table: Array<[number, number, number]> = [
    [3.841, 1, 0.05],
    [6.635, 1, 0.01],
    [9.488, 4, 0.05],
    [26.296, 16, 0.05],
    [32.0, 16, 0.01],
    [124.342, 100, 0.05],
  ];
  for (const [x, df, p] of table) assert.ok(Math.abs(chiSquarePValue(x, df) - p) < 2e-4, `${x}, ${df}`);
  assert.ok(Math.abs(chiSquarePValue(2, 2) - Math.exp(-1)) < 1e-12);
});
