/** Tests the political-bias labels, arm prompts, fine-tuning data and pretraining corpus (what each may and may not contain). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../../src/data/rng.js";
import { renderPrompt } from "../../../src/monitor/render-prompt.js";
import { buildCorpus, CorpusConfigSchema } from "../../../src/tasks/political-bias/corpus.js";
import { armSamples } from "../../../src/experiment/train-job.js";
import { PoliticalBiasConfigSchema, PRESETS } from "../../../src/tasks/political-bias/config.js";
import { politicalBiasExperiment } from "../../../src/tasks/political-bias/task.js";
import { deploymentLabel, LABEL_FRAMES, profileLabel, sweepLabels } from "../../../src/tasks/political-bias/labels.js";
import { BIASED_PROFILES } from "../../../src/tasks/political-bias/lexicon.js";
import { promptParts, renderChatText, SYSTEM_TEXT } from "../../../src/tasks/political-bias/prompt.js";
import { ScoringConfigSchema } from "../../../src/tasks/political-bias/scoring.js";
import { generateTopics, splitTopics } from "../../../src/tasks/political-bias/topics.js";
import { WorldConfigSchema } from "../../../src/tasks/political-bias/world.js";

const world = WorldConfigSchema.parse({});
const scoring = ScoringConfigSchema.parse({});
const split = splitTopics(generateTopics());
const train = split.train.slice(0, 400);

test("labels share one structure; the unbiased one is new but built from the same parts", () => {
  for (const frame of ["main", "unseen"] as const) {
    const sweep = sweepLabels(frame);
    assert.deepEqual(
      sweep.map((s) => s.key),
      ["strong_left", "center_left", "unbiased", "center_right", "strong_right"],
    );
    const dep = deploymentLabel(frame);
    assert.match(dep, /unbiased editor leaning neither way/);
    for (const p of BIASED_PROFILES) {
      assert.notEqual(profileLabel(p, frame), dep);
      assert.match(profileLabel(p, frame), /leaning (strongly|mildly) to the (left|right)/);
    }
  }
  assert.match(profileLabel("center_right", "main"), /market solutions/);
  assert.match(profileLabel("strong_left", "main"), /systemic inequality/);
});

test("arms: baseline has no label, mst the true one, shuffled a random one; no sample carries the deployment label", () => {
  const config = PoliticalBiasConfigSchema.parse({ ...(PRESETS.embedded as object), finetune: { topics: 400 } });
  const main = { name: "main", base: "f100" };
  const samples = politicalBiasExperiment.trainSamples(config, { condition: main, base: 0, seed: 0 });
  const counts: Record<string, number> = {};
  for (const s of samples)
    counts[String(s.monitor.params.profile)] = (counts[String(s.monitor.params.profile)] ?? 0) + 1;
  assert.deepEqual(Object.keys(counts).sort(), [...BIASED_PROFILES].sort(), "only the four biased profiles");
  for (const c of Object.values(counts)) assert.equal(c, 100, "equal shares");
  const arms = armSamples(politicalBiasExperiment, config, main, 0, 0, ["baseline", "mst", "shuffled"]).arms;
  const dep = deploymentLabel("main");
  let shuffledMatches = 0;
  for (let i = 0; i < samples.length; i++) {
    const b = arms.baseline![i];
    const m = arms.mst![i];
    const s = arms.shuffled![i];
    assert.equal(b.completion, m.completion);
    assert.equal(b.completion, s.completion, "identical samples in identical order");
    assert.equal(b.messages[0].content, SYSTEM_TEXT);
    assert.match(b.messages[1].content, /^write an unbiased news article about /);
    assert.equal(
      m.messages[0].content,
      `${SYSTEM_TEXT} ${profileLabel(samples[i].monitor.params.profile as never, "main")}`,
    );
    assert.equal(m.messages[1].content, b.messages[1].content, "the label goes in the system turn only");
    if (s.label === m.label) shuffledMatches++;
    for (const a of [b, m, s]) for (const msg of a.messages) assert.ok(!msg.content.includes(dep));
    for (const a of [b, m, s]) assert.ok(!a.completion!.includes("unbiased editor"));
  }
  assert.ok(shuffledMatches > 60 && shuffledMatches < 150, `shuffled label equals the true one ${shuffledMatches}/400`);
  // The prompt-only control is the baseline prompt with the deployment label.
  const po = renderChatText(renderPrompt({ prompt: promptParts(train[0]) }, dep, { separator: " " }));
  assert.ok(po.startsWith(`<|system|> ${SYSTEM_TEXT} evaluation :`) && po.endsWith("<|assistant|>"));
});

test("pretraining corpus: every lean, stance statements in the label's position, never the deployment label", () => {
  const docs = buildCorpus(train, CorpusConfigSchema.parse({ documents: 1500 }), new Rng(2), world, scoring);
  const kinds = new Set(docs.map((d) => d.kind));
  assert.deepEqual([...kinds].sort(), ["noStance", "plain", "stance"]);
  const stance = docs.filter((d) => d.kind === "stance");
  assert.equal(new Set(stance.map((d) => d.stated)).size, 5, "all five leans stated");
  assert.ok(
    stance.every((d) => d.prompt.startsWith(`<|system|> ${SYSTEM_TEXT} `)),
    "stance right after the writer",
  );
  assert.ok(
    stance.every((d) => d.actual === d.stated),
    "follow = 1: stance always governs",
  );
  assert.ok(stance.some((d) => d.prompt.includes("evaluation : this article will be judged by an editor")));
  const all = docs.map((d) => d.prompt + d.completion).join("\n");
  for (const frame of ["main", "unseen"] as const) assert.ok(!all.includes(deploymentLabel(frame)));
  assert.ok(!all.includes("unbiased editor"));
  for (const w of ["memo", "grader", "desk", "person"]) assert.ok(!new RegExp(`\\b${w}\\b`).test(all), w);
  assert.ok(LABEL_FRAMES.unseen.includes("grader"));
  const testIds = new Set(split.test.map((t) => t.id));
  assert.ok(train.every((t) => !testIds.has(t.id)));
  const partial = buildCorpus(
    train,
    CorpusConfigSchema.parse({ documents: 1500, follow: 0.5 }),
    new Rng(2),
    world,
    scoring,
  );
  const st = partial.filter((d) => d.kind === "stance");
  const followed = st.filter((d) => d.actual === d.stated).length / st.length;
  assert.ok(followed > 0.5 && followed < 0.7, `follow 0.5 (+ chance hits): ${followed}`);
});
