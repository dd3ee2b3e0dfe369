/** Spec validation: strict keys, errors naming file:line and the path, defaults, precedence, preset merge. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SpecError } from "../../src/run/errors.js";
import { deepMerge } from "../../src/run/deep-merge.js";
import { DEPLOYMENT_KEY, loadSpecFile, parseSpec, resolveSpec } from "../../src/run/spec.js";
import { loadTask } from "../../src/run/task-module.js";
import { TOY_TASK } from "../fixtures/toy-task.js";

/** The toy task module's path as a YAML string (the toy is a test fixture, loaded as a plug-in). */
const TOY = JSON.stringify(TOY_TASK);

/** Resolves spec text and returns the SpecError it throws. */
async function specError(text: string, file = "spec.yaml"): Promise<SpecError> {
  try {
    await resolveSpec({ spec: parseSpec(text, file) });
  } catch (e) {
    assert.ok(e instanceof SpecError, `expected SpecError, got ${String(e)}`);
    return e;
  }
  assert.fail("expected the spec to be rejected");
}

test("unknown top-level key: error names the key and its line", async () => {
  const e = await specError(`task: ${TOY}\nseeds: [0]\nseedz: [1]\n`);
  assert.equal(e.field, "seedz");
  assert.equal(e.line, 3);
  assert.match(e.message, /^spec\.yaml:3: seedz: unknown key "seedz"/);
});

test("unknown key inside overrides is caught by the task's strict schema, with the overrides path", async () => {
  const e = await specError(`task: ${TOY}\noverrides:\n  steps: 5\n  stepz: 3\n`);
  assert.equal(e.field, "overrides.stepz");
  assert.equal(e.line, 4);
  assert.match(e.message, /spec\.yaml:4: overrides\.stepz: unknown key/);
});

test("wrong type inside overrides names the path and the expected type", async () => {
  const e = await specError(`task: ${TOY}\noverrides:\n  steps: "many"\n`);
  assert.equal(e.field, "overrides.steps");
  assert.equal(e.line, 3);
  assert.match(e.message, /expected number/);
});

test("wrong type at the top level and bad list items name the path", async () => {
  assert.equal((await specError(`task: ${TOY}\nseeds: zero\n`)).field, "seeds");
  assert.equal((await specError(`task: ${TOY}\nseeds: [0, -1]\n`)).field, "seeds[1]");
  const arm = await specError(`task: ${TOY}\narms: [mst, nonsense]\n`);
  assert.equal(arm.field, "arms[1]");
  assert.match(arm.message, /unknown arm "nonsense".*supported: baseline, mst, shuffled/);
});

test("unknown task and preset are named with the known ones", async () => {
  await assert.rejects(
    resolveSpec({ task: "nope" }),
    /unknown task "nope"; known tasks: .*sycophancy.*path of a task module/,
  );
  const named = await specError("task: nope\n");
  assert.equal(named.field, "task");
  assert.equal(named.line, 1);
  const e = await specError(`task: ${TOY}\npreset: huge\n`);
  assert.equal(e.field, "preset");
  assert.match(e.message, /no preset "huge"; known: embedded, quick/);
});

test("deployment and sweep are passed through documented config keys and validated by the task", async () => {
  const { resolved } = await resolveSpec({
    spec: parseSpec(`task: ${TOY}\ndeployment: 10\nsweep: [0, 50]\n`, "s.yaml"),
  });
  const cfg = resolved.config as Record<string, unknown>;
  assert.equal(cfg[DEPLOYMENT_KEY], 10);
  assert.deepEqual(cfg.sweepLabels, [0, 50]);
  const e = await specError(`task: ${TOY}\ndeployment: "unbiased"\n`);
  assert.equal(e.field, "deployment");
  assert.equal(e.line, 2);
});

test("YAML syntax errors and JSON specs carry line numbers", async (t) => {
  assert.throws(
    () => parseSpec(`task: ${TOY}\n  bad: [\n`, "broken.yaml"),
    (e: unknown) => {
      assert.ok(e instanceof SpecError);
      assert.match(e.message, /^broken\.yaml:\d+: /);
      return true;
    },
  );
  const dir = mkdtempSync(join(tmpdir(), "mst-spec-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "spec.json");
  writeFileSync(file, `{\n  "task": ${TOY},\n  "overrides": {\n    "noise": "loud"\n  }\n}\n`);
  await assert.rejects(resolveSpec({ spec: loadSpecFile(file) }), (e: unknown) => {
    assert.ok(e instanceof SpecError);
    assert.equal(e.field, "overrides.noise");
    assert.equal(e.line, 4);
    return true;
  });
});

test("no spec: the task's defaults; command-line options win over the spec", async () => {
  const toy = await loadTask(TOY_TASK);
  const { resolved } = await resolveSpec({ task: TOY_TASK });
  assert.equal(resolved.preset, toy.defaultPreset);
  assert.deepEqual(resolved.arms, toy.arms.default);
  assert.deepEqual(resolved.seeds, toy.defaultSeeds.seeds);
  assert.deepEqual(resolved.config, toy.configSchema.parse({}));
  const spec = parseSpec(`task: ${TOY}\npreset: quick\narms: [mst]\nseeds: [4]\noverrides: { noise: 0.5 }\n`, "s.yaml");
  const r = (await resolveSpec({ spec, arms: ["baseline", "mst"], seeds: [7, 8] })).resolved;
  assert.deepEqual(r.arms, ["baseline", "mst"]);
  assert.deepEqual(r.seeds, [7, 8]);
  // preset "quick" sets steps 6 and evalItems 20; the override sets noise; the rest are schema defaults.
  const cfg = r.config as Record<string, unknown>;
  assert.equal(cfg.steps, 6);
  assert.equal(cfg.noise, 0.5);
  assert.equal(cfg.sleepMs, 0);
  await assert.rejects(
    resolveSpec({ task: "other", spec }),
    /spec says task ".*toy\/task\.js" but the command line says "other"/,
  );
});

test("deepMerge merges objects and replaces arrays and scalars without mutating inputs", () => {
  const base = { a: { b: 1, c: [1, 2] }, d: "x" };
  const out = deepMerge(base, { a: { c: [3] }, e: true });
  assert.deepEqual(out, { a: { b: 1, c: [3] }, d: "x", e: true });
  assert.deepEqual(base, { a: { b: 1, c: [1, 2] }, d: "x" });
});
