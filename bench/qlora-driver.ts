/**
 * One measurement of the checkpoint bench in its own process (peak RSS is per process): a random model of a given
 * shape held as f32, bf16 or NF4, LoRA on all seven projections, then either LoRA training steps (chunked LM head +
 * cross-entropy on the completion rows, AdamW on the adapters) or KV-cache sampling. Prints one JSON line.
 *
 *   node dist/bench/qlora-driver.js '{"config": {...}, "storage": "nf4", "what": "train", "B": 1, "T": 128,
 *     "completion": 64, "steps": 2, "threads": 1}'
 */

import { Rng } from "../src/data/rng.js";
import { crossEntropyChunks } from "../src/engine/chunked-loss.js";
import { gemmChoice, setBlasThreads, setGemmThreads } from "../src/engine/gemm/index.js";
import { createModel, type WeightStorage } from "../src/engine/model.js";
import type { ModelConfigInput } from "../src/engine/config.js";
import { AdamW } from "../src/engine/optim.js";
import { sample } from "../src/engine/sampler.js";

interface Spec {
  config: ModelConfigInput;
  /** A storage, optionally suffixed "+gc" / "-gc" to force gradient checkpointing on / off (else the default). */
  storage: string;
  what: "train" | "sample";
  threads: number;
  /** train: batch, sequence length, completion positions per row (the rows with logits), timed steps */
  B: number;
  T: number;
  completion: number;
  steps: number;
  /** sample: prompt length and new tokens per row */
  promptLen: number;
  newTokens: number;
}

const spec = JSON.parse(process.argv[2]) as Spec;
setBlasThreads(spec.threads);
setGemmThreads(spec.threads);
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const clock = () => (spec.threads === 1 ? cpu() : performance.now() / 1000);
const t0 = performance.now();
const [storage, gc] = spec.storage.split(/(?=[+-]gc$)/) as [WeightStorage, string | undefined];
const m = createModel(spec.config, {
  seed: 1,
  storage,
  gradientCheckpointing: gc === undefined ? undefined : gc === "+gc",
});
m.attachLora({ rank: 16, alpha: 32, dropout: 0.05 }, 2);
const buildS = (performance.now() - t0) / 1000;
const rng = new Rng(3);
const V = m.config.vocabSize;
const times: number[] = [];
let tokens = 0;
if (spec.what === "train") {
  const { B, T, completion } = spec;
  const opt = new AdamW(m.parameters(), { lr: 1e-4 });
  const ids = Int32Array.from({ length: B * T }, () => rng.int(V));
  const rows = Int32Array.from(
    { length: B * completion },
    (_, i) => Math.floor(i / completion) * T + T - completion + (i % completion),
  );
  const targets = Int32Array.from(rows, () => rng.int(V));
  for (let s = 0; s <= spec.steps; s++) {
    const c0 = clock();
    m.zeroGrad();
    m.trainChunked(ids, B, T, rows, crossEntropyChunks(targets), { rng: rng.fork(`d${s}`), chunkRows: 64 });
    opt.step();
    if (s > 0) times.push(clock() - c0); // the first step is warm-up
  }
  tokens = B * T;
} else {
  const { B, promptLen, newTokens } = spec;
  const prompts = Array.from({ length: B }, () => Array.from({ length: promptLen }, () => rng.int(V)));
  for (let s = 0; s <= spec.steps; s++) {
    const c0 = clock();
    sample(m, prompts, { maxNewTokens: newTokens, temperature: 1, seed: s });
    if (s > 0) times.push(clock() - c0);
  }
  tokens = B * newTokens;
}
const best = Math.min(...times);
console.log(
  JSON.stringify({
    storage: storage + (spec.what === "train" && m.gradientCheckpointing ? "+gc" : ""),
    what: spec.what,
    tokensPerS: tokens / best,
    secondsPerStep: best,
    buildS,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    gemm: `${gemmChoice().backend}${gemmChoice().isa ? ` ${gemmChoice().isa}` : ""}`,
  }),
);
