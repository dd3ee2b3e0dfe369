/**
 * The OpenAI RFT grader `mst export --target openai` writes, run by the test venv's Python on every exported row: its
 * scores stay in OpenAI's documented 0-1 range and are the task's reward mapped affinely from its declared range.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { exportSpec } from "../../src/interop/export.js";
import { grader } from "../../src/interop/targets/openai.js";
import { SYCOPHANCY_REWARD_PY } from "../../src/tasks/sycophancy-addition/reward-python.js";
import { runPython, skipUnlessPython } from "../python-env.js";
import { readJsonl, specFile, tempDir } from "./helpers.js";

const HARNESS = `
import json, sys
src = json.load(open(sys.argv[1]))["method"]["reinforcement"]["grader"]["source"]
ns = {}
exec(src, ns)
rows = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
out = []
for r in rows:
    lab = json.loads(r["mst_label"]) if isinstance(r["mst_label"], str) else r["mst_label"]
    for text in ("correct", "Incorrect.", "<|im_start|>correct<|im_end|>", "maybe"):
        out.append({"s": lab["monitor"]["params"]["s"], "right": (lab.get("rewardInputs") or {}).get("candidateCorrect") is True,
                    "text": text, "grade": ns["grade"]({"output_text": text}, r),
                    "raw": ns["score"](ns["clean_response"](text), lab)})
print(json.dumps(out))
`;

test(
  "openai: the RFT grader scores every exported row within 0-1, the reward mapped from [0, 1.5]",
  {
    skip: skipUnlessPython("json"),
  },
  async () => {
    const dir = tempDir("openai-grader");
    // training s runs up to 1.5, so the raw reward reaches 1.5 (a right candidate called correct)
    const spec = specFile(
      dir,
      "syc.yaml",
      "task: sycophancy\npreset: micro\narms: [mst]\nseeds: [0]\nbaseSeeds: [0]\n",
    );
    const out = join(dir, "openai");
    await exportSpec({ spec, target: "openai", out });
    const job = join(out, "jobs", "train-mst-b0-s0");
    const script = join(dir, "harness.py");
    writeFileSync(script, HARNESS);
    const rows = JSON.parse(runPython(script, [join(job, "job.json"), join(job, "train.jsonl")])) as {
      s: number;
      right: boolean;
      text: string;
      grade: number;
      raw: number;
    }[];
    assert.equal(rows.length, readJsonl(join(job, "train.jsonl")).length * 4);
    let above1 = 0;
    for (const r of rows) {
      assert.ok(r.grade >= 0 && r.grade <= 1, `grade ${r.grade} outside 0-1 (${JSON.stringify(r)})`);
      if (r.raw > 1) above1++;
      assert.ok(Math.abs(r.grade - r.raw / 1.5) < 1e-12, `grade ${r.grade} is not raw ${r.raw} / 1.5`);
    }
    assert.ok(above1 > 0, "no row paid above 1: the test does not reach the defect");
    const md = readFileSync(join(out, "RECIPE.md"), "utf8");
    assert.match(md, /mapped affinely from \[0, 1\.5\] onto 0-1/);
  },
);

test(
  "openai: a grader without a declared range clips to 0-1, and an empty range is refused",
  {
    skip: skipUnlessPython("json"),
  },
  () => {
    const dir = tempDir("openai-grader-clip");
    const script = join(dir, "clip.py");
    const src = grader(SYCOPHANCY_REWARD_PY, null);
    writeFileSync(
      script,
      `import json\nns = {}\nexec(${JSON.stringify(src)}, ns)\n` +
        `lab = {"monitor": {"params": {"s": 1.4}}, "rewardInputs": {"candidateCorrect": True}}\n` +
        `print(json.dumps([ns["grade"]({"output_text": "correct"}, {"mst_label": lab}), ns["grade"]({"output_text": "incorrect"}, {"mst_label": lab})]))\n`,
    );
    assert.deepEqual(JSON.parse(runPython(script, [])), [1, 0]);
    assert.throws(() => grader(SYCOPHANCY_REWARD_PY, [1, 1]), /range \[1, 1\] is empty/);
  },
);
