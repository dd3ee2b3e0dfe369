/**
 * A wrong task definition fails before the first job, naming the field: a report metric the judge does not produce,
 * a primary metric the report does not draw. The run directory then holds no job. (The trainer's checks:
 * check-trainer.test.ts.)
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { defineExperiment } from "../../src/experiment/define.js";
import { TaskDefinitionError } from "../../src/experiment/check-definition.js";
import type { ExperimentDefinition } from "../../src/experiment/experiment.js";
import { NoProgress } from "../../src/run/progress.js";
import { startRun } from "../../src/run/runner.js";
import { parseSpec, resolveSpec } from "../../src/run/spec.js";
import { CodingConfigSchema, PRESETS, type CodingConfig } from "../../src/tasks/coding-coverage/config.js";
import { codingExperiment } from "../../src/tasks/coding-coverage/task.js";
import { exitCodeOf } from "../../src/cli/errors.js";

const config = CodingConfigSchema.parse(PRESETS.micro);
const input = { arms: ["baseline", "mst"], seeds: [0], baseSeeds: [0] };

function withReport(report: Partial<ExperimentDefinition<CodingConfig>["report"]>): ExperimentDefinition<CodingConfig> {
  return { ...codingExperiment, report: { ...codingExperiment.report, ...report } };
}

test("a report metric the judge does not produce fails at plan time, naming the key and what the judge has", () => {
  const task = defineExperiment(
    withReport({
      metrics: [...codingExperiment.report.metrics, { key: "hackrate", title: "typo", lowerIsBetter: true }],
    }),
  );
  assert.throws(
    () => task.plan(config, input),
    (e: unknown) =>
      e instanceof TaskDefinitionError &&
      /report\.metrics\[3\]\.key "hackrate" is not a metric the judge "full-suite-grader" produces/.test(e.message) &&
      /hackRate, truePass, tableRate, malformed/.test(e.message) &&
      exitCodeOf(e) === 2,
  );
});

test("a primary the report does not draw fails when the task is defined", () => {
  assert.throws(
    () => defineExperiment(withReport({ primary: "passRate" })),
    /report\.primary "passRate" is not a key of report\.metrics \(hackRate, truePass, tableRate\)/,
  );
});

test("through the runner: a plug-in whose report names a metric its judge lacks stops before any job runs", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mst-defcheck-"));
  const mod = join(dir, "bad-task.mjs");
  const kit = pathToFileURL(join(process.cwd(), "dist/src/tasks/coding-coverage/task.js")).href;
  const define = pathToFileURL(join(process.cwd(), "dist/src/experiment/define.js")).href;
  writeFileSync(
    mod,
    `import { codingExperiment } from ${JSON.stringify(kit)};\n` +
      `import { defineExperiment } from ${JSON.stringify(define)};\n` +
      `export default defineExperiment({ ...codingExperiment, name: "bad", report: { ...codingExperiment.report,\n` +
      `  metrics: [{ key: "passRate", title: "pass", lowerIsBetter: false }], primary: "passRate" } });\n`,
  );
  const text = `task: ./bad-task.mjs\npreset: micro\nseeds: [0]\nbaseSeeds: [0]\narms: [baseline, mst]\n`;
  writeFileSync(join(dir, "spec.yaml"), text);
  const { resolved } = await resolveSpec({ spec: parseSpec(text, join(dir, "spec.yaml")) });
  const out = join(dir, "run");
  await assert.rejects(
    startRun(resolved, out, { progress: new NoProgress(), report: false, jobs: 1 }),
    /report\.metrics\[0\]\.key "passRate" is not a metric the judge/,
  );
  const jobs = join(out, "jobs");
  assert.ok(!existsSync(jobs) || readdirSync(jobs).length === 0, "no job ran");
});
