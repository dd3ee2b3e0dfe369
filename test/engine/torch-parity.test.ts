/** Cross-implementation check: a checkpoint we save gives the same logits in the plain-PyTorch Llama of bench/torch_peer.py. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createModel, type LlamaModel } from "../../src/engine/model.js";
import { saveCheckpoint } from "../../src/engine/checkpoint.js";

const PY = "/usr/bin/python3";
// find_spec looks torch up without importing it (an import costs seconds)
const hasTorch =
  existsSync(PY) &&
  spawnSync(PY, ["-c", "import importlib.util, sys; sys.exit(importlib.util.find_spec('torch') is None)"]).status === 0;

const toks = [
  [1, 5, 9, 33, 2, 0, 17, 4],
  [36, 3, 3, 8, 21, 30, 12, 6],
];

test(
  "our logits match torch_peer.py's Llama on saved checkpoints (GQA, tied and untied)",
  { skip: hasTorch ? false : "no python3 with torch" },
  async () => {
    const root = mkdtempSync(join(tmpdir(), "mst-parity-"));
    try {
      const models: LlamaModel[] = [];
      const args: string[] = [];
      for (const tie of [true, false]) {
        const m = createModel(
          { vocabSize: 37, dModel: 24, nLayers: 2, nHeads: 4, nKvHeads: 2, dFf: 40, maxSeq: 16, tieEmbeddings: tie },
          { seed: 11, initStd: 0.3 },
        );
        const dir = join(root, `tie-${tie}`);
        await saveCheckpoint(dir, m);
        models.push(m);
        args.push(dir, JSON.stringify(toks));
      }
      const r = spawnSync(PY, ["bench/torch_peer.py", "--logits", ...args], { encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      const refs = JSON.parse(r.stdout) as number[][][][];
      models.forEach((m, k) => {
        const ref = refs[k].flat(2);
        const ours = m.forward(Int32Array.from(toks.flat()), 2, 8).logits;
        assert.equal(ours.length, ref.length);
        let maxErr = 0;
        let maxAbs = 0;
        for (let i = 0; i < ref.length; i++) {
          maxErr = Math.max(maxErr, Math.abs(ours[i] - ref[i]));
          maxAbs = Math.max(maxAbs, Math.abs(ref[i]));
        }
        assert.ok(maxAbs > 0.1, "logits should not be trivially small");
        assert.ok(maxErr < 1e-4 * (1 + maxAbs), `model ${k}: max |ours - torch| = ${maxErr} (max |logit| ${maxAbs})`);
      });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  },
);
