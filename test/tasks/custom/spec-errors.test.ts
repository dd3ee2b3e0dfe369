/** Bad no-code specs fail before anything runs, naming the spec file, the key's line and the key (and a bad sample's JSONL file and line). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { SpecError } from "../../../src/run/errors.js";
import { loadSpecFile, resolveSpec } from "../../../src/run/spec.js";
import { sftSpec as spec, writeExperiment } from "./fixture.js";
import type { CustomConfig } from "../../../src/tasks/custom/config.js";
import { monitorOf } from "../../../src/tasks/custom/monitor.js";
import { createMonitorLabeler } from "../../../src/monitor/monitor.js";

async function specError(
  text: string,
  extra: Record<string, string> = {},
  after?: (dir: string) => void,
): Promise<SpecError> {
  const { dir, spec: file } = writeExperiment(text, extra);
  after?.(dir);
  try {
    await resolveSpec({ spec: loadSpecFile(file) });
  } catch (e) {
    assert.ok(e instanceof SpecError, String(e));
    assert.equal(e.file, file);
    return e;
  }
  assert.fail("the spec was accepted");
}

test("a valid spec resolves, with paths made absolute from the spec's folder", async () => {
  const { dir, spec: file } = writeExperiment(spec());
  const { resolved } = await resolveSpec({ spec: loadSpecFile(file) });
  const c = resolved.config as { train: { samples: string }; model: { corpus: string } };
  assert.equal(c.train.samples, join(dir, "train.jsonl"));
  assert.equal(c.model.corpus, join(dir, "corpus.jsonl"));
});

test("the shipped example (examples/custom) resolves: its files exist and its samples pass every check", async () => {
  const file = fileURLToPath(new URL("../../../../examples/custom/experiment.yaml", import.meta.url));
  const { resolved } = await resolveSpec({ spec: loadSpecFile(file) });
  assert.equal(resolved.task, "custom");
  assert.deepEqual(resolved.arms, ["baseline", "mst", "shuffled", "prompt-only"]);
  assert.equal((resolved.config as { eval: { samples: string } }).eval.samples, join(dirname(file), "eval.jsonl"));
});

test("the spec's deployment and sweep: a number is the parameter, 'N%' the score", async () => {
  const { spec: file } = writeExperiment(
    spec((s) => s.replace("baseSeeds: [0]", 'baseSeeds: [0]\ndeployment: "10%"\nsweep: [0.5, "100%"]')),
  );
  const { task, resolved } = await resolveSpec({ spec: loadSpecFile(file) });
  const config = task.configSchema.parse(resolved.config) as CustomConfig;
  const m = monitorOf(config);
  const labeler = createMonitorLabeler(m);
  assert.equal(labeler.labelOf(m.deployment), "**Leniency: 10%**");
  assert.deepEqual(
    m.sweep.map((r) => labeler.labelOf(r)),
    ["**Leniency: 50%**", "**Leniency: 100%**"],
  );
});

test("an unknown key under overrides names its line and key", async () => {
  const e = await specError(
    spec((s) => s.replace("  eval: { samples: eval.jsonl }", "  eval: { samples: eval.jsonl, temprature: 1 }")),
  );
  assert.equal(e.line, 7);
  assert.equal(e.field, "overrides.eval.temprature");
  assert.match(e.message, /spec\.yaml:7: overrides\.eval\.temprature: unknown key "temprature"/);
});

test("a required key left out is named at its parent block's line", async () => {
  const e = await specError(spec((s) => s.replace("  judge: { kind: exact-match, field: answer }\n", "")));
  assert.equal(e.field, "overrides.judge");
  assert.equal(e.line, 6, "the first line of the overrides block");
  assert.match(e.message, /required key "judge" is missing/);
});

test("a malformed JSONL line names the spec key and line, and the JSONL file, line and field", async () => {
  const e = await specError(spec(), {}, (dir) => {
    const lines = readLines(join(dir, "train.jsonl"));
    lines[2] = lines[2].replace('"user"', '"usr"');
    writeFileSync(join(dir, "train.jsonl"), lines.join("\n"));
  });
  assert.equal(e.line, 6);
  assert.equal(e.field, "overrides.train.samples");
  assert.match(e.message, /train\.jsonl:3: field "prompt\.(user|usr)"/);
  const e2 = await specError(spec(), {}, (dir) => writeFileSync(join(dir, "eval.jsonl"), '{"id": "e0",\n'));
  assert.equal(e2.line, 7);
  assert.match(e2.message, /eval\.jsonl:1: malformed JSON/);
});

test("a held-out label in the training data names the sample's file and line", async () => {
  const e = await specError(spec(), {}, (dir) => {
    const lines = readLines(join(dir, "train.jsonl"));
    lines[4] = lines[4].replace(/"s":[0-9.]+/, '"s":0.1');
    writeFileSync(join(dir, "train.jsonl"), lines.join("\n"));
  });
  assert.equal(e.line, 6);
  assert.equal(e.field, "overrides.train.samples");
  assert.match(e.message, /train\.jsonl:5: sample "train4": monitor parameter s=0\.1 is held out \(s in \[0, 0\.3\)\)/);
});

test("a missing file names the key that points at it", async () => {
  const e = await specError(spec((s) => s.replace("eval.jsonl", "evl.jsonl")));
  assert.equal(e.line, 7);
  assert.equal(e.field, "overrides.eval.samples");
  assert.match(e.message, /file not found: .*evl\.jsonl/);
  const m = await specError(
    spec((s) => s.replace("{ kind: exact-match, field: answer }", "{ kind: module, path: nope.mjs }")),
  );
  assert.equal(m.field, "overrides.judge.path");
  assert.equal(m.line, 22);
});

test("sample problems the trainer or judge would hit later are caught now", async () => {
  const sft = await specError(spec(), {}, (dir) => {
    const lines = readLines(join(dir, "train.jsonl"));
    lines[1] = lines[1].replace(/"completion":"[^"]*",/, "");
    writeFileSync(join(dir, "train.jsonl"), lines.join("\n"));
  });
  assert.equal(sft.field, "overrides.trainer.kind");
  assert.match(sft.message, /train\.jsonl:2: sample "train1" has no completion/);
  const field = await specError(spec((s) => s.replace("field: answer", "field: truth")));
  assert.equal(field.field, "overrides.judge.field");
  assert.match(field.message, /eval\.jsonl:1: sample "eval0" has no "truth"/);
  const dep = await specError(spec((s) => s.replace("baseSeeds: [0]", "baseSeeds: [0]\ndeployment: 2")));
  assert.equal(dep.field, "deployment");
  assert.equal(dep.line, 5);
  assert.match(dep.message, /outside the encoded range/);
});

function readLines(file: string): string[] {
  return readFileSync(file, "utf8").split("\n");
}
