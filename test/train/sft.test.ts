/** SFT trainer tests: fits a labelled toy set, completion-only masking, truncation counts, group-by-length, resume. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../../src/data/rng.js";
import {
  CheckpointStore,
  trainSft,
  evalLoss,
  epochBatches,
  prepareExamples,
  readMetrics,
} from "../../src/train/index.js";
import type { SftExample } from "../../src/train/index.js";
import { TableModel } from "./helpers/table-model.js";

const EOS = 7;
/** Toy labelled set: token x in 1..4 is "odd"/"even" -> label 5 (odd) or 6 (even), then EOS. */
function toySet(n: number, seed: number): SftExample[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const x = 1 + rng.int(4);
    return { prompt: [x], completion: [x % 2 === 1 ? 5 : 6, EOS] };
  });
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), "mst-sft-"));
}

test("SFT drives a small model to fit a labelled toy set (train and validation loss fall, labels argmax right)", () => {
  const model = new TableModel(8);
  const train = toySet(64, 1);
  const val = toySet(16, 2);
  const before = evalLoss(model, val, 8, 0);
  const res = trainSft(model, train, { lr: 0.1, epochs: 10, batchSize: 8, warmupSteps: 2 }, { valData: val });
  assert.equal(res.steps, 80);
  assert.ok(before > 1.5, `untrained loss ${before}`);
  assert.ok(res.evalLoss !== null && res.evalLoss < 0.1, `eval loss ${res.evalLoss}`);
  for (let x = 1; x <= 4; x++) {
    const row = model.table.data.subarray(x * 8, x * 8 + 8);
    const argmax = row.indexOf(Math.max(...row));
    assert.equal(argmax, x % 2 === 1 ? 5 : 6, `label for ${x}`);
  }
});

test("completion-only loss never trains the prompt's own transitions", () => {
  const model = new TableModel(8);
  // prompt [1, 2]: the 1 -> 2 transition is prompt, so row 1 must stay untouched
  const data = Array.from({ length: 8 }, () => ({ prompt: [1, 2], completion: [3] }));
  trainSft(model, data, { lr: 0.1, epochs: 2, batchSize: 4 });
  assert.ok(
    model.table.data.subarray(8, 16).every((v) => v === 0),
    "row of prompt token 1 changed",
  );
  assert.ok(model.table.data[2 * 8 + 3] > 0, "completion transition 2 -> 3 learned");
  const full = new TableModel(8);
  trainSft(full, data, { lr: 0.1, epochs: 2, batchSize: 4, completionOnlyLoss: false });
  assert.ok(full.table.data[1 * 8 + 2] > 0, "with completionOnlyLoss false the prompt is trained too");
});

test("truncation to maxLength is counted and warned; examples with no completion left are dropped", () => {
  const data = [
    { prompt: [1], completion: [2, 3] },
    { prompt: [1, 2, 3], completion: [4, 5, 6] },
    { prompt: [1, 2, 3, 4], completion: [5] },
  ];
  const p = prepareExamples(data, 4, "data");
  assert.equal(p.truncated, 2);
  assert.equal(p.dropped, 1);
  assert.deepEqual(p.examples[1], { prompt: [1, 2, 3], completion: [4] });
  const warnings: string[] = [];
  trainSft(new TableModel(8), data, { maxLength: 4, epochs: 1, batchSize: 2 }, { onWarning: (m) => warnings.push(m) });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /2 of 3 examples exceeded 4 tokens/);
});

test("group-by-length batches hold similar lengths, cover every example once, and are deterministic", () => {
  const rng = new Rng(3);
  const lengths = Array.from({ length: 200 }, () => 1 + rng.int(100));
  const a = epochBatches(lengths, 10, true, new Rng("o"));
  const b = epochBatches(lengths, 10, true, new Rng("o"));
  assert.deepEqual(a, b);
  assert.deepEqual(
    a.flat().sort((x, y) => x - y),
    lengths.map((_, i) => i),
  );
  const spread = (bs: number[][]) =>
    bs.reduce((s, bt) => s + Math.max(...bt.map((i) => lengths[i])) - Math.min(...bt.map((i) => lengths[i])), 0) /
    bs.length;
  const random = epochBatches(lengths, 10, false, new Rng("o"));
  assert.ok(spread(a) < spread(random) / 3, `grouped spread ${spread(a)} vs random ${spread(random)}`);
});

test("a run stopped at a checkpoint and resumed ends with the same metrics as an uninterrupted run", () => {
  const data = toySet(40, 5);
  const cfg = {
    lr: 0.05,
    epochs: 4,
    batchSize: 4,
    gradAccum: 2,
    warmupSteps: 3,
    checkpointEvery: 5,
    groupByLength: true,
  };
  const dirA = tmp(),
    dirB = tmp();
  try {
    const a = new TableModel(8);
    trainSft(a, data, cfg, { outDir: dirA });
    // B: stop after step 10 (maxSteps would change the schedule, so interrupt from the progress callback instead)
    const b1 = new TableModel(8);
    assert.throws(
      () =>
        trainSft(b1, data, cfg, {
          outDir: dirB,
          onProgress: (step) => {
            if (step === 12) throw new Error("simulated crash");
          },
        }),
      /simulated crash/,
    );
    const b2 = new TableModel(8);
    const res = trainSft(b2, data, cfg, { outDir: dirB, resume: true });
    assert.equal(res.resumedFrom, 10);
    const strip = (ms: ReturnType<typeof readMetrics>) => ms.map(({ tokens_per_s: _t, ...m }) => m);
    const ma = strip(readMetrics(join(dirA, "metrics.jsonl")));
    const mb = strip(readMetrics(join(dirB, "metrics.jsonl")));
    assert.equal(mb.length, 20);
    assert.deepEqual(mb, ma);
    assert.deepEqual(b2.table.data, a.table.data);
    assert.ok(existsSync(join(dirB, "checkpoints", "step-000020")));
  } finally {
    rmSync(dirA, { recursive: true, force: true });
    rmSync(dirB, { recursive: true, force: true });
  }
});

test("a poisoned weight stops SFT with the step named and the last checkpoint intact", () => {
  const dir = tmp();
  try {
    const model = new TableModel(8);
    const data = toySet(16, 9);
    assert.throws(
      () =>
        trainSft(
          model,
          data,
          { epochs: 3, batchSize: 4, checkpointEvery: 2 },
          {
            outDir: dir,
            onProgress: (step) => {
              if (step === 5) model.table.data[1 * 8 + 5] = NaN; // every example with x = 1 now yields a NaN loss
            },
          },
        ),
      (e: Error) =>
        e.name === "TrainingDivergedError" && /step 6: loss is NaN/.test(e.message) && /step-000004/.test(e.message),
    );
    const resumed = new TableModel(8);
    const res = trainSft(resumed, data, { epochs: 3, batchSize: 4, checkpointEvery: 2 }, { outDir: dir, resume: true });
    assert.equal(res.resumedFrom, 4);
    assert.ok(Number.isFinite(res.trainLoss));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("resume refuses a changed config and names the fields; logEvery/checkpointEvery may change", () => {
  const dir = tmp();
  try {
    const data = toySet(16, 1);
    trainSft(new TableModel(8), data, { epochs: 1, batchSize: 4, checkpointEvery: 2 }, { outDir: dir });
    assert.throws(
      () => trainSft(new TableModel(8), data, { epochs: 1, batchSize: 4, lr: 1e-3 }, { outDir: dir, resume: true }),
      /config differs from the checkpoint's in: lr/,
    );
    const res = trainSft(
      new TableModel(8),
      data,
      { epochs: 1, batchSize: 4, logEvery: 3 },
      { outDir: dir, resume: true },
    );
    assert.equal(res.resumedFrom, 4);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a checkpoint never captures non-finite weights, even when the loss stayed finite", () => {
  const dir = tmp();
  try {
    const model = new TableModel(8);
    assert.throws(
      () =>
        trainSft(
          model,
          toySet(16, 1),
          { epochs: 2, batchSize: 4, checkpointEvery: 2 },
          {
            outDir: dir,
            // row 0 (the pad token) is never an input here, so the loss stays finite; only the checkpoint guard sees it
            onProgress: (step) => {
              if (step === 3) model.table.data[1] = Infinity;
            },
          },
        ),
      /step 4: parameter table\.weight\[1\] is Infinity; last good checkpoint left intact at .*step-000002/,
    );
    assert.equal(new CheckpointStore(dir).latest()?.step, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
