/**
 * Checkpoint-scale bench: tokens/s and peak RSS of a LoRA training step and of sampling on a random model shaped like
 * a real checkpoint (default Qwen2.5-0.5B: 24 layers, d 896, vocab 151,936), the base held as f32, bf16 and NF4,
 * beside the PyTorch peer (bench/torch_qlora_peer.py, float32 base, same LoRA, same rows with logits) in one run.
 * Each measurement runs in its own process (peak RSS is per process); ratios are ours / the peer's.
 *
 *   npm run build && node dist/bench/checkpoint-shapes.js [--shape qwen2.5-0.5b|llama3.2-3b] [--threads 1]
 *     [--storage f32,bf16,nf4] [--what train,sample] [--T 128] [--steps 2] [--sample-batch 8] [--no-torch]
 *
 * A storage may carry "+gc" or "-gc" (e.g. `--storage f32,nf4,nf4-gc`) to turn gradient checkpointing on or off;
 * without it the engine's default applies (on for nf4, as QLoRA does). The peer never checkpoints.
 *
 * Sampling decodes `--sample-batch` rows together, as PPO rollouts do: packed weights are dequantised once per decode
 * step for the whole batch, so their cost per token falls with the batch.
 */

import { spawnSync } from "node:child_process";
import { cpus, loadavg, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import { torchInfo, torchPython } from "./torch-python.js";
import { helpAndExit } from "./help.js";

helpAndExit(`
Usage: node dist/bench/checkpoint-shapes.js [--shape qwen2.5-0.5b|llama3.2-3b] [--threads 1]
  [--storage f32,bf16,nf4] [--what train,sample] [--T 128] [--steps 2] [--sample-batch 8] [--no-torch]
Tokens/s and peak RSS of a LoRA training step and of sampling on a random model shaped like a real checkpoint,
beside the PyTorch peer. Runs for minutes.
`);

const SHAPES = {
  "qwen2.5-0.5b": {
    vocabSize: 151936,
    dModel: 896,
    nLayers: 24,
    nHeads: 14,
    nKvHeads: 2,
    dFf: 4864,
    ropeTheta: 1e6,
    rmsNormEps: 1e-6,
    tieEmbeddings: true,
    qkvBias: true,
  },
  "llama3.2-3b": {
    vocabSize: 128256,
    dModel: 3072,
    nLayers: 28,
    nHeads: 24,
    nKvHeads: 8,
    dFf: 8192,
    ropeTheta: 5e5,
    rmsNormEps: 1e-5,
    tieEmbeddings: true,
    qkvBias: false,
  },
} as const;

const argv = process.argv.slice(2);
const opt = (f: string, d: string) => (argv.includes(f) ? argv[argv.indexOf(f) + 1] : d);
const shape = opt("--shape", "qwen2.5-0.5b") as keyof typeof SHAPES;
const threads = Number(opt("--threads", "1"));
const T = Number(opt("--T", "128"));
const steps = Number(opt("--steps", "2"));
const sampleBatch = Number(opt("--sample-batch", "8"));
const storages = opt("--storage", "f32,bf16,nf4").split(",");
const whats = opt("--what", "train,sample").split(",");
const torch = !argv.includes("--no-torch");
const driver = fileURLToPath(new URL("./qlora-driver.js", import.meta.url));
const peer = fileURLToPath(new URL("../../bench/torch_qlora_peer.py", import.meta.url));

interface Result {
  storage: string;
  what: string;
  tokensPerS: number;
  secondsPerStep: number;
  buildS: number;
  peakRssMiB: number;
  /** the engine's gemm backend and build (the peer has none) */
  gemm?: string;
}

function run(cmd: string, args: string[]): Result | null {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 1 << 24 });
  const line = r.stdout.trim().split("\n").pop() ?? "";
  if (r.status !== 0 || !line.startsWith("{")) {
    console.error(`${cmd} failed (${r.status}): ${r.stderr.trim().split("\n").slice(-3).join(" | ")}`);
    return null;
  }
  return JSON.parse(line) as Result;
}

const config = { ...SHAPES[shape], maxSeq: Math.max(T, 64) + 64 };
const PY = torchPython();
console.log(
  `shape ${shape}, ${threads} thread(s), T ${T} (${T / 2} completion rows with logits), ${cpus().length} cores, ` +
    `${(totalmem() / 2 ** 30).toFixed(0)} GiB, load ${loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")}`,
);
console.log(`peer: ${torch ? `${torchInfo(PY)} (${PY})` : "none (--no-torch)"}`);
const rows: Result[] = [];
for (const what of whats) {
  const spec = (storage: string) =>
    JSON.stringify({
      config,
      storage,
      what,
      threads,
      B: what === "train" ? 1 : sampleBatch,
      T,
      completion: T / 2,
      steps,
      promptLen: 32,
      newTokens: 16,
    });
  const peerRes = torch ? run(PY, [peer, spec("f32")]) : null;
  if (peerRes) rows.push(peerRes);
  // checkpointing only changes training: sampling runs each storage once
  const runs = what === "train" ? storages : [...new Set(storages.map((x) => x.replace(/[+-]gc$/, "")))];
  for (const s of runs) {
    const r = run(process.execPath, [driver, spec(s)]);
    if (r) rows.push(r);
  }
  const base = peerRes;
  const f32 = rows.find((r) => r.what === what && r.storage === "f32");
  console.log(
    `\n${what === "train" ? "LoRA training step (B 1)" : `sampling (B ${sampleBatch} x 16 new tokens after 32)`}`,
  );
  console.log("base          tokens/s   s/step   vs torch   peak RSS MiB   RSS vs f32   build s   gemm");
  for (const r of rows.filter((x) => x.what === what))
    console.log(
      `${r.storage.padEnd(12)} ${r.tokensPerS.toFixed(1).padStart(9)} ${r.secondsPerStep.toFixed(2).padStart(8)} ` +
        `${base ? (r.tokensPerS / base.tokensPerS).toFixed(2).padStart(9) + "x" : "        -"} ` +
        `${r.peakRssMiB.toFixed(0).padStart(14)} ${f32 ? (r.peakRssMiB / f32.peakRssMiB).toFixed(2).padStart(11) + "x" : ""} ` +
        `${r.buildS.toFixed(1).padStart(8)}   ${r.gemm ?? "torch"}`,
    );
}
console.log(
  `\nload after: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}`,
);
