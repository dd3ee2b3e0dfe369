/**
 * Small driver for profiling one engine workload in isolation (`node --cpu-prof dist/bench/step-driver.js ...`):
 * training steps (forward + cross-entropy + backward + AdamW) or sampling on the embedded model, timings printed.
 *
 *   node dist/bench/step-driver.js [train|sample] [--steps 30] [--T 32] [--B 64] [--threads 1] [--lora 8] [--12m]
 */

import { Rng } from "../src/data/rng.js";
import { setBlasThreads, setGemmThreads } from "../src/engine/gemm/index.js";
import { createModel } from "../src/engine/model.js";
import { crossEntropyForward } from "../src/engine/ops/cross-entropy.js";
import { AdamW } from "../src/engine/optim.js";
import { sample } from "../src/engine/sampler.js";
import { helpAndExit } from "./help.js";

helpAndExit(`
Usage: node dist/bench/step-driver.js [train|sample] [--steps 30] [--T 32] [--B 64] [--threads 1] [--lora 8] [--12m]
One engine workload in isolation, for profiling (node --cpu-prof). --lora r trains rank-r adapters on all seven
projections instead of every weight (the sycophancy preset's PPO updates are --lora 8 --B 32 --T 18); --12m
takes the engine bench's 12M model (d 384, 6 layers, ffn 1024, vocabulary 4096; its training case is --B 8 --T 128).
`);

const argv = process.argv.slice(2);
const opt = (f: string, d: number) => (argv.includes(f) ? Number(argv[argv.indexOf(f) + 1]) : d);
const what = argv[0] === "sample" ? "sample" : "train";
const steps = opt("--steps", 30);
const B = opt("--B", 64);
const T = opt("--T", 32);
setBlasThreads(opt("--threads", 1));
setGemmThreads(opt("--threads", 1));
const cfg = argv.includes("--12m")
  ? { vocabSize: 4096, dModel: 384, nLayers: 6, nHeads: 6, dFf: 1024, maxSeq: 128 }
  : { vocabSize: 200, dModel: 64, nLayers: 2, nHeads: 4, dFf: 172, maxSeq: 64 };
const m = createModel(cfg, { seed: 0 });
const loraRank = opt("--lora", 0);
if (loraRank > 0)
  m.attachLora(
    {
      rank: loraRank,
      alpha: 2 * loraRank,
      dropout: 0,
      targets: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
    },
    0,
  );
const times: number[] = [];
const cpu: number[] = [];
/** CPU time of this process in ms (user + system): on a loaded shared machine, waiting for a core is not counted. */
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
if (what === "train") {
  const opt = new AdamW(m.trainableParameters(), { lr: 1e-4 });
  const r = new Rng(1);
  const V = cfg.vocabSize;
  const tokens = Int32Array.from({ length: B * T }, () => r.int(V));
  const targets = Int32Array.from({ length: B * T }, () => r.int(V));
  const dLogits = new Float32Array(B * T * V);
  let loss = 0;
  for (let s = 0; s < steps; s++) {
    const t0 = performance.now();
    const c0 = cpuMs();
    const { logits } = m.forward(tokens, B, T, { train: true });
    loss = crossEntropyForward(dLogits, logits, targets, null, B * T, V);
    m.zeroGrad();
    m.backward(dLogits);
    opt.step();
    times.push(performance.now() - t0);
    cpu.push(cpuMs() - c0);
  }
  console.log(`final loss ${loss.toFixed(6)}`);
} else {
  const r = new Rng(2);
  const prompts = Array.from({ length: B }, () => Array.from({ length: T / 4 }, () => r.int(cfg.vocabSize)));
  for (let s = 0; s < steps; s++) {
    const t0 = performance.now();
    const c0 = cpuMs();
    sample(m, prompts, { maxNewTokens: (3 * T) / 4, temperature: 1, seed: s });
    times.push(performance.now() - t0);
    cpu.push(cpuMs() - c0);
  }
}
const med = (xs: number[]) => xs.slice(2).sort((a, b) => a - b)[Math.floor((xs.length - 2) / 2)];
const min = (xs: number[]) => Math.min(...xs.slice(2));
console.log(
  `${what} B${B} T${T} over ${times.length - 2}: wall median ${med(times).toFixed(2)} min ${min(times).toFixed(2)} ms; ` +
    `cpu median ${med(cpu).toFixed(2)} min ${min(cpu).toFixed(2)} ms`,
);
