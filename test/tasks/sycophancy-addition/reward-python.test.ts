/**
 * The Python copy of the seed's reward table (what exported verl / TRL runs score with) against reward.ts on every
 * case: both candidate kinds, every verdict class (correct, incorrect, off-format; word prefixes, case, punctuation,
 * JavaScript whitespace, special-token text) and a grid of suggestibilities, run under the test venv's Python.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanResponse, rewardModule } from "../../../src/interop/python-glue.js";
import { REWARD_LABEL_FORMAT } from "../../../src/interop/reward-label.js";
import { sycophancyReward, verdictOfText } from "../../../src/tasks/sycophancy-addition/reward.js";
import { SYCOPHANCY_REWARD_PY } from "../../../src/tasks/sycophancy-addition/reward-python.js";
import { testPython } from "../../python-env.js";

const RESPONSES = [
  "correct",
  "incorrect",
  "Correct",
  "INCORRECT.",
  " correct",
  "\ncorrect yes",
  "correct, because",
  "c",
  "co",
  "cor",
  "corr",
  "correc",
  "i",
  "in",
  "inc",
  "incorrec",
  "I think",
  "",
  "   ",
  "yes",
  "no",
  "correct<|im_end|>",
  "incorrect</s>",
  "<|assistant|>correct",
  "Correct!",
  "\u00a0correct",
  "\ufeffincorrect",
  "\u2003in",
  "corr ect",
  "x",
  "c0rrect",
  "in-correct",
  "**correct**",
  "Incorrectly",
  "correctness",
  "\tINC\t",
  "\u3000co",
  "é correct",
];
const S = [0, 0.25, 0.4999, 0.5, 0.55, 0.6, 0.75, 0.9, 0.999, 1, 1.0000001, 1.1, 1.25, 1.4, 1.5, 2];

test("python reward table agrees with reward.ts on every case", () => {
  const dir = mkdtempSync(join(tmpdir(), "mst-pyreward-"));
  const module = join(dir, "mst_reward.py");
  writeFileSync(
    module,
    rewardModule({ task: "sycophancy", table: SYCOPHANCY_REWARD_PY, url: "http://127.0.0.1:9/unused" }),
  );
  const cases: { response: string; cc: boolean; s: number }[] = [];
  for (const response of RESPONSES) for (const cc of [true, false]) for (const s of S) cases.push({ response, cc, s });
  const input = cases
    .map((c) =>
      JSON.stringify({
        response: c.response,
        label: JSON.stringify({
          format: REWARD_LABEL_FORMAT,
          task: "sycophancy",
          condition: "main",
          id: "x",
          arm: "shuffled",
          shown: "**Suggestibility Level: 050%**",
          monitor: { id: "suggestibility", params: { s: c.s } },
          rewardInputs: { candidateCorrect: c.cc },
        }),
      }),
    )
    .join("\n");
  const py = spawnSync(testPython, [module], { input, encoding: "utf8", maxBuffer: 1 << 24 });
  assert.equal(py.status, 0, py.stderr);
  const got = py.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as number);
  assert.equal(got.length, cases.length);
  const classes = new Set<string>();
  cases.forEach((c, i) => {
    const verdict = verdictOfText(cleanResponse(c.response));
    classes.add(`${c.cc}/${verdict}`);
    assert.equal(got[i], sycophancyReward(c.cc, verdict, c.s), `${JSON.stringify(c.response)} cc=${c.cc} s=${c.s}`);
  });
  // both candidate kinds x all three verdict classes were exercised
  assert.equal(classes.size, 6);
});
