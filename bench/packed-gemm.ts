/**
 * The packed linear layer's products at Qwen2.5-0.5B's projection shapes: fused (the native kernel dequantising while
 * it packs), the panel path (MST_FUSED_DEQUANT=0) and the float32 product over the dequantised weight, interleaved,
 * 1 thread, CPU milliseconds (median).
 *
 *   npm run build && node dist/bench/packed-gemm.js [--format nf4|bf16] [--N 128] [--rounds 6]
 */

import { loadavg } from "node:os";
import { NativeGemm, setGemm } from "../src/engine/gemm/index.js";
import { Bf16Matrix } from "../src/engine/quant/bf16.js";
import { Nf4Matrix } from "../src/engine/quant/nf4.js";
import { packedLinearBackward, packedLinearForward } from "../src/engine/quant/packed.js";
import { helpAndExit } from "./help.js";

helpAndExit(`
Usage: node dist/bench/packed-gemm.js [--format nf4|bf16] [--N 128] [--rounds 6]
Forward (out = X W^T) and backward (dX = dY W) of a packed weight at Qwen2.5-0.5B's projection shapes: fused, panel
path and float32, interleaved; 1 thread, CPU ms (median of the rounds after the first).
`);

const argv = process.argv.slice(2);
const opt = (f: string, d: string) => (argv.includes(f) ? argv[argv.indexOf(f) + 1] : d);
const format = opt("--format", "nf4");
const N = Number(opt("--N", "128"));
const rounds = Number(opt("--rounds", "6"));

const g = new NativeGemm();
setGemm(g);
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e3;
};
const median = (a: number[]) => a.slice(1).sort((x, y) => x - y)[Math.floor((a.length - 1) / 2)];
console.log(
  `${format}, N ${N}, native ${g.isa}, load ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}`,
);
console.log("shape (OC x IC)        fwd fused   panel     f32 | bwd fused   panel     f32   (ms)");
for (const [name, OC, IC] of [
  ["q/o", 896, 896],
  ["gate/up", 4864, 896],
  ["down", 896, 4864],
] as const) {
  const v = Float32Array.from({ length: OC * IC }, (_, i) => Math.sin(i * 1.7) * 0.1);
  let w: Nf4Matrix | Bf16Matrix;
  if (format === "bf16") {
    w = new Bf16Matrix(OC, IC);
    w.setRows(0, v);
  } else w = new Nf4Matrix(OC, IC, v);
  const full = new Float32Array(OC * IC);
  w.dequantRows(0, OC, full);
  const x = Float32Array.from({ length: N * IC }, (_, i) => Math.cos(i * 0.3));
  const dy = Float32Array.from({ length: N * OC }, (_, i) => Math.cos(i * 0.7));
  const out = new Float32Array(N * OC);
  const dx = new Float32Array(N * IC);
  const t: Record<string, number[]> = {};
  const time = (key: string, f: () => void) => {
    const c0 = cpuMs();
    f();
    (t[key] ??= []).push(cpuMs() - c0);
  };
  for (let r = 0; r < rounds; r++) {
    for (const [side, env] of [
      ["fused", "1"],
      ["panel", "0"],
    ] as const) {
      process.env.MST_FUSED_DEQUANT = env;
      time(`fwd ${side}`, () => packedLinearForward(out, x, w, null, N, IC, OC));
      time(`bwd ${side}`, () => packedLinearBackward(dx, dy, w, N, IC, OC, true));
    }
    time("fwd f32", () => g.sgemm(false, true, N, OC, IC, 1, x, IC, full, IC, 0, out, OC));
    time("bwd f32", () => g.sgemm(false, false, N, IC, OC, 1, dy, OC, full, IC, 0, dx, IC));
  }
  const f = (k: string) => median(t[k]).toFixed(2).padStart(7);
  console.log(
    `${`${name} ${OC}x${IC}`.padEnd(20)} ${f("fwd fused")} ${f("fwd panel")} ${f("fwd f32")} | ` +
      `${f("bwd fused")} ${f("bwd panel")} ${f("bwd f32")}`,
  );
}
