/**
 * Interleaved A/B of the fused dequantise-and-multiply against the panel path, in one process on one model: LoRA
 * training steps on a Qwen2.5-0.5B-shaped random model with a packed base, alternating env MST_FUSED_DEQUANT=1 and 0
 * step by step (the engine reads it per product), so both sides see the same machine load. 1 thread, CPU time.
 *
 *   npm run build && MST_GEMM=exact node dist/bench/packed-ab.js [--storage nf4|bf16] [--gc 1|0] [--rounds 3]
 */

import { loadavg } from "node:os";
import { Rng } from "../src/data/rng.js";
import { crossEntropyChunks } from "../src/engine/chunked-loss.js";
import { gemmChoice, setGemmThreads } from "../src/engine/gemm/index.js";
import { createModel, type WeightStorage } from "../src/engine/model.js";
import { AdamW } from "../src/engine/optim.js";
import { helpAndExit } from "./help.js";

helpAndExit(`
Usage: MST_GEMM=exact node dist/bench/packed-ab.js [--storage nf4|bf16] [--gc 1|0] [--rounds 3]
LoRA training steps (B 1, T 128, logits at the last 64 rows) on a Qwen2.5-0.5B-shaped packed base, alternating the
fused product (MST_FUSED_DEQUANT=1) and the panel path (0) step by step. Prints CPU seconds per step. Runs for minutes.
`);

const argv = process.argv.slice(2);
const opt = (f: string, d: string) => (argv.includes(f) ? argv[argv.indexOf(f) + 1] : d);
const storage = opt("--storage", "nf4") as WeightStorage;
const gc = opt("--gc", "1") === "1";
const rounds = Number(opt("--rounds", "3"));

setGemmThreads(1);
const V = 151936;
const m = createModel(
  {
    vocabSize: V,
    dModel: 896,
    nLayers: 24,
    nHeads: 14,
    nKvHeads: 2,
    dFf: 4864,
    ropeTheta: 1e6,
    rmsNormEps: 1e-6,
    tieEmbeddings: true,
    qkvBias: true,
    maxSeq: 192,
  },
  { seed: 1, storage, gradientCheckpointing: gc },
);
m.attachLora({ rank: 16, alpha: 32, dropout: 0.05 }, 2);
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const [T, completion] = [128, 64];
const rng = new Rng(3);
const opt2 = new AdamW(m.parameters(), { lr: 1e-4 });
const ids = Int32Array.from({ length: T }, () => rng.int(V));
const rows = Int32Array.from({ length: completion }, (_, i) => T - completion + i);
const targets = Int32Array.from(rows, () => rng.int(V));
const step = (s: number) => {
  m.zeroGrad();
  m.trainChunked(ids, 1, T, rows, crossEntropyChunks(targets), { rng: rng.fork(`d${s}`), chunkRows: 64 });
  opt2.step();
};

step(-1); // warm-up
const times: Record<string, number[]> = { fused: [], panel: [] };
for (let r = 0; r < rounds; r++)
  for (const [side, env] of [
    ["fused", "1"],
    ["panel", "0"],
  ] as const) {
    process.env.MST_FUSED_DEQUANT = env;
    const c0 = cpu();
    step(r);
    times[side].push(cpu() - c0);
  }
const median = (a: number[]) => a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)];
const g = gemmChoice();
console.log(
  `${storage}, checkpointing ${gc}, gemm ${g.backend}${g.isa ? ` ${g.isa}` : ""}, ${rounds} rounds, load ` +
    loadavg()
      .map((x) => x.toFixed(2))
      .join(" "),
);
for (const side of ["fused", "panel"])
  console.log(
    `${side.padEnd(6)} median ${median(times[side]).toFixed(3)} s/step  (${times[side].map((x) => x.toFixed(2)).join(", ")})`,
  );
console.log(`fused / panel time: ${(median(times.fused) / median(times.panel)).toFixed(3)}`);
