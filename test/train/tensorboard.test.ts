/**
 * Training curves in TensorBoard: the trainers' metrics log also writes a TensorBoard event file beside
 * metrics.jsonl; the real tensorboard package (test venv) reads it back, CRCs checked, with every logged field of every
 * step equal to the JSONL's (as float32), and after a resume from a checkpoint no step is doubled or lost.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../../src/data/rng.js";
import { readMetrics, trainSft, type SftExample, type StepMetrics } from "../../src/train/index.js";
import { EVENTS_FILE, crc32c, maskedCrc32c, scalarsOf } from "../../src/train/tfevents.js";
import { runPython, skipUnlessPython, testSourcePath } from "../python-env.js";
import { TableModel } from "./helpers/table-model.js";

const EOS = 7;
function toySet(n: number, seed: number): SftExample[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const x = 1 + rng.int(4);
    return { prompt: [x], completion: [x % 2 === 1 ? 5 : 6, EOS] };
  });
}

/** What the event file should hold: every finite field of every JSONL step, as float32. */
function expected(metrics: StepMetrics[]): Record<string, [number, number][]> {
  const out: Record<string, [number, number][]> = {};
  for (const m of metrics) for (const [tag, v] of scalarsOf(m)) (out[tag] ??= []).push([m.step, Math.fround(v)]);
  return out;
}

const read = (dir: string) =>
  JSON.parse(runPython(testSourcePath("train/python/read_tfevents.py"), [dir])) as Record<string, [number, number][]>;

test("CRC-32C and TFRecord's mask match the published check values", () => {
  assert.equal(crc32c(Buffer.from("123456789")), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  // masked = rotr15(crc) + 0xa282ead8
  const c = crc32c(Buffer.from("a"));
  assert.equal(maskedCrc32c(Buffer.from("a")), (((c >>> 15) | (c << 17)) + 0xa282ead8) >>> 0);
});

test(
  "an SFT run's logged fields read back from its event file with tensorboard's EventAccumulator, resume included",
  {
    skip: skipUnlessPython("tensorboard"),
  },
  () => {
    const dir = mkdtempSync(join(tmpdir(), "mst-tb-"));
    try {
      const data = toySet(16, 3);
      const cfg = { lr: 0.1, epochs: 3, batchSize: 4, checkpointEvery: 4 };
      // a run stopped at step 6 (its checkpoint at 4), then resumed: steps 5 and 6 are logged twice in time
      let stop = false;
      assert.throws(() =>
        trainSft(new TableModel(8), data, cfg, {
          outDir: dir,
          onProgress: (step) => {
            if (step === 6 && !stop) {
              stop = true;
              throw new Error("interrupted");
            }
          },
        }),
      );
      const res = trainSft(new TableModel(8), data, cfg, { outDir: dir, resume: true });
      assert.equal(res.resumedFrom, 4);
      const metrics = readMetrics(join(dir, "metrics.jsonl"));
      assert.deepEqual(
        metrics.map((m) => m.step),
        Array.from({ length: 12 }, (_, i) => i + 1),
      );
      assert.ok(readFileSync(join(dir, EVENTS_FILE)).length > 0);
      const got = read(dir);
      const want = expected(metrics);
      assert.ok(Object.keys(want).length >= 2, `fields: ${Object.keys(want)}`);
      assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort());
      for (const tag of Object.keys(want)) assert.deepEqual(got[tag], want[tag], tag);
      // the reader checks each record's CRC and stops at a bad one, so whole curves above mean good CRCs: a flipped
      // byte in the last record loses exactly the last step
      const bad = join(dir, "corrupt");
      mkdirSync(bad);
      const bytes = readFileSync(join(dir, EVENTS_FILE));
      bytes[bytes.length - 1] ^= 0xff;
      writeFileSync(join(bad, EVENTS_FILE), bytes);
      const cut = read(bad);
      for (const tag of Object.keys(want)) assert.deepEqual(cut[tag], want[tag].slice(0, -1), `${tag} (corrupt)`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
