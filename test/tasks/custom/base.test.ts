/** The custom task's embedded base recipe: the corpus helpers it asks for reach the pretraining documents and the tokenizer. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Rng } from "../../../src/data/rng.js";
import { loadSpecFile, resolveSpec } from "../../../src/run/spec.js";
import { customTokenizer, pretrainDocs } from "../../../src/tasks/custom/base.js";
import type { CustomConfig } from "../../../src/tasks/custom/config.js";
import { MONITOR_YAML, writeExperiment } from "./fixture.js";

const SPEC = `task: custom
overrides:
  train: { samples: train.jsonl }
  eval: { samples: eval.jsonl }
${MONITOR_YAML}  trainer: { kind: sft }
  judge: { kind: exact-match }
`;

async function configOf(text: string, edit?: (dir: string) => void): Promise<CustomConfig> {
  const { dir, spec } = writeExperiment(text);
  edit?.(dir);
  const { task, resolved } = await resolveSpec({ spec: loadSpecFile(spec) });
  return task.configSchema.parse(resolved.config) as CustomConfig;
}

test("percentage labels: comparison sentences and label-shaped lines join the corpus; every N% is one token", async () => {
  const c = await configOf(SPEC);
  const docs = pretrainDocs(c, c.model as Extract<CustomConfig["model"], { kind: "pretrain" }>, new Rng(0));
  assert.equal(docs.length, 25 + 24 + 20, "text docs, prompt docs, comparisons");
  const comparisons = docs.filter(
    (d) => /^\d+%/.test(d.prompt) && /(less than|more than|<|>) \d+%$/.test(d.completion),
  );
  assert.equal(comparisons.length, 20);
  const lined = docs.filter((d) => /^\**\d+%.*\n\d\+\d=\d+\?$/.test(d.prompt));
  assert.ok(lined.length > 4 && lined.length < 20, `${lined.length} of 24 prompt docs carry a line`);
  assert.ok(!docs.some((d) => d.prompt.includes("Leniency")), "never a monitor label");
  const tok = customTokenizer(c, c.model as Extract<CustomConfig["model"], { kind: "pretrain" }>, docs);
  for (const n of [0, 7, 100]) assert.equal(tok.encode(`${n}%`).length, 1);
  assert.ok(!tok.encode("**Leniency: 0%**\n3+4=8?").includes(tok.unkId));
});

test("text labels: corpus documents with a stance get a statement at the label's slot, in the given wordings", async () => {
  const text = SPEC.replace(
    /encoding: .*\n/,
    'encoding: { kind: categorical, param: g, values: { strict: "a strict grader", lax: "a lax grader" } }\n',
  )
    .replace(/heldOut:\n.*\n/, "heldOut: [{ kind: values, param: g, values: [strict] }]\n")
    .replace("deployment: { params: { s: 0 } }", "deployment: { params: { g: strict } }")
    .replace("sweep: [{ params: { s: 0 } }, { params: { s: 1 } }]", "sweep: []")
    .replace(
      "helpers: { comparisons: 20, labelLineShare: 0.5 }",
      'helpers: { stanceWordings: { lax: ["an easy marker", "a kind marker"] }, stanceFrames: ["graded by {stance} ."] }',
    );
  const c = await configOf(text, (dir) => {
    const rows = [0, 1, 2, 3].map((i) => ({
      id: `t${i}`,
      prompt: { user: `1+${i}=9?` },
      completion: " correct",
      monitor: { id: "grader", params: { g: "lax" } },
    }));
    writeFileSync(join(dir, "train.jsonl"), rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
    writeFileSync(
      join(dir, "eval.jsonl"),
      JSON.stringify({ ...rows[0], id: "e0", completion: undefined, rewardInputs: { answer: "incorrect" } }) + "\n",
    );
    const corpus = [
      { prompt: { user: "1+1=3?" }, completion: " correct", stance: "lax" },
      { prompt: { user: "1+1=3?", labelSlot: "user-suffix" }, completion: " incorrect", stance: "strict" },
      { prompt: { user: "1+1=2?" }, completion: " correct" },
    ];
    writeFileSync(join(dir, "corpus.jsonl"), corpus.map((r) => JSON.stringify(r)).join("\n") + "\n");
  });
  const docs = pretrainDocs(c, c.model as Extract<CustomConfig["model"], { kind: "pretrain" }>, new Rng(1));
  const lax = docs.find((d) => d.completion === " correct" && d.prompt.startsWith("graded by"))!;
  assert.match(lax.prompt, /^graded by (an easy marker|a kind marker) \.\n1\+1=3\?$/);
  // a value without wordings uses its label sentence, at the doc's own slot
  assert.ok(docs.some((d) => d.prompt === "1+1=3?\ngraded by a strict grader ." && d.completion === " incorrect"));
  assert.ok(docs.some((d) => d.prompt === "1+1=2?"));
});
