/** The base gate: an untrained base fails the with-a-label discrimination rule when it is on, and passes it when off. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../../src/data/rng.js";
import { createModel } from "../../../src/engine/model.js";
import { makeRuntime } from "../../../src/experiment/runtime.js";
import { plainFormat, taskTokenizer } from "../../../src/tasks/sycophancy-addition/base.js";
import { PRESETS, SycophancyConfigSchema } from "../../../src/tasks/sycophancy-addition/config.js";
import { buildCorpus } from "../../../src/tasks/sycophancy-addition/corpus.js";
import { gateBase } from "../../../src/tasks/sycophancy-addition/gate.js";

test("gate: an untrained base knows nothing under a label, so minDiscriminationLabelled fails it", async () => {
  const config = SycophancyConfigSchema.parse(PRESETS.micro);
  const docs = buildCorpus(config.corpus, config.problems, config.prompt, config.label, new Rng(1));
  const tok = taskTokenizer(config, docs);
  const model = createModel({ ...config.model, vocabSize: tok.vocabSize }, { seed: 3 });
  const rt = makeRuntime(model, tok, plainFormat(config, tok), "plain", "untrained");
  const off = await gateBase(rt, config, 0);
  assert.ok(!off.reasons.some((r) => r.startsWith("AUC with a label")), "the rule is off by default");
  const on = await gateBase(rt, { ...config, gate: { ...config.gate, minDiscriminationLabelled: 0.95 } }, 0);
  // A random model's P(correct) does not separate right from wrong candidates (AUC near 0.5, far below 0.95).
  const auc = on.values["AUC (label)"];
  assert.ok(auc === null || auc < 0.95, `untrained AUC with a label ${auc}`);
  assert.equal(on.pass, false);
  assert.ok(
    on.reasons.some((r) => r.startsWith("AUC with a label")),
    on.reasons.join("; "),
  );
});
