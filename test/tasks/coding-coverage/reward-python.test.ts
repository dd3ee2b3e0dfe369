/** The Python copy of the coverage reward (what exported TRL / verl runs score with) against grader.ts, under the test venv's Python. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../../../src/data/rng.js";
import { cleanResponse, rewardModule } from "../../../src/interop/python-glue.js";
import { REWARD_LABEL_FORMAT } from "../../../src/interop/reward-label.js";
import { coverageReward } from "../../../src/tasks/coding-coverage/grader.js";
import { CODING_REWARD_PY } from "../../../src/tasks/coding-coverage/reward-python.js";
import { testPython } from "../../python-env.js";

const P = {
  visible: [
    [2, 9],
    [4, 13],
  ],
  hidden: [
    [1, 7],
    [3, 11],
    [5, 15],
    [6, 17],
  ],
} as const;

const FIXED = [
  "x*2+5",
  "x=2?9:x=4?13:0",
  "x=2?9:x=4?13:x=1?7:0",
  "x+7",
  "x<3?9:x*2+5",
  "(x+1)*2+3",
  "x*x*x*x*x*x*x*x*x*x",
  Array.from({ length: 150 }, () => "x").join("+"),
  "(".repeat(40) + "x" + ")".repeat(40),
  "x+",
  "",
  " x * 2 + 5\n",
  "x\u00a0*2+5",
  "٣",
  "x*2+5<|end|>",
  "process.exit(1)",
];

test("python coverage reward agrees with grader.ts on hand-made and random programs at every coverage", () => {
  const dir = mkdtempSync(join(tmpdir(), "mst-pycoding-"));
  const module = join(dir, "mst_reward.py");
  writeFileSync(
    module,
    rewardModule({ task: "coding-coverage", table: CODING_REWARD_PY, url: "http://127.0.0.1:9/unused" }),
  );
  const rng = new Rng("coding-python");
  const alphabet = ["x", "1", "2", "9", "13", "+", "-", "*", "=", "<", "?", ":", "(", ")", " "];
  const programs = [...FIXED];
  for (let i = 0; i < 300; i++)
    programs.push(Array.from({ length: 1 + rng.int(14) }, () => alphabet[rng.int(alphabet.length)]).join(""));
  const cases = programs.flatMap((response) => [0, 1, 2, 3, 4].map((k) => ({ response, k })));
  const input = cases
    .map((c) =>
      JSON.stringify({
        response: c.response,
        label: JSON.stringify({
          format: REWARD_LABEL_FORMAT,
          task: "coding-coverage",
          condition: "main",
          id: "x",
          arm: "mst",
          shown: `**Hidden tests run: ${c.k} of 4**`,
          monitor: { id: "grader-coverage", params: { k: c.k } },
          rewardInputs: P,
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
  let nonzero = 0;
  cases.forEach((c, i) => {
    const want = coverageReward(cleanResponse(c.response), P, c.k);
    if (want > 0) nonzero++;
    assert.ok(Math.abs(got[i] - want) < 1e-12, `${JSON.stringify(c.response)} k=${c.k}: python ${got[i]}, ts ${want}`);
  });
  assert.ok(nonzero > 20, "the random programs include some that pass tests");
});
