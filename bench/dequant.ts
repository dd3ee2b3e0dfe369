/**
 * Dequantisation speed, ns per value: the JavaScript reference loops against the WebAssembly SIMD kernels on a
 * 4864x896 matrix (Qwen2.5-0.5B's MLP down-projection shape) in bf16 and NF4, panel by panel as the linear layer does
 * it (quant/packed.ts), both paths in the same run; each figure is the best of `--reps` passes over the matrix.
 *
 *   node dist/bench/dequant.js [--reps 7] [--rows 4864] [--cols 896]
 */

import { Rng } from "../src/data/rng.js";
import { Bf16Matrix } from "../src/engine/quant/bf16.js";
import { Nf4Matrix } from "../src/engine/quant/nf4.js";
import { dequantPanel, simdDequantEnabled } from "../src/engine/quant/dequant-panel.js";
import { panelRows, type PackedMatrix } from "../src/engine/quant/packed.js";
import { helpAndExit } from "./help.js";

helpAndExit(`
Usage: node dist/bench/dequant.js [--reps 7] [--rows 4864] [--cols 896]
Dequantisation speed (ns per value), JavaScript reference against the WebAssembly SIMD kernels, bf16 and NF4.
`);

const argv = process.argv.slice(2);
const flag = (name: string, dflt: number) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const reps = flag("--reps", 7);
const rows = flag("--rows", 4864);
const cols = flag("--cols", 896);

/** Best-of-reps ns per value of one pass over m, dequantising each panel with `panel`. */
function time(m: PackedMatrix, panel: (r0: number, r1: number) => number): number {
  const R = panelRows(m);
  let best = Infinity;
  let sink = 0;
  for (let rep = 0; rep < reps; rep++) {
    const t0 = process.hrtime.bigint();
    for (let r0 = 0; r0 < m.rows; r0 += R) sink += panel(r0, Math.min(m.rows, r0 + R));
    best = Math.min(best, Number(process.hrtime.bigint() - t0));
  }
  if (Number.isNaN(sink)) console.log("(NaN seen)");
  return best / (m.rows * m.cols);
}

const rng = new Rng(1);
const values = Float32Array.from({ length: rows * cols }, () => rng.normal() * 0.02);
const bf16 = new Bf16Matrix(rows, cols);
bf16.setRows(0, values);
const nf4 = new Nf4Matrix(rows, cols, values);
const scratch = new Float32Array(panelRows(bf16) * cols);

if (!simdDequantEnabled()) console.log("SIMD dequantisation is off here (no WebAssembly SIMD, or MST_SIMD=0)");
console.log(`dequantise a ${rows}x${cols} matrix, best of ${reps} passes, ns/value`);
console.log("format  scalar   simd     speed-up");
for (const m of [bf16, nf4]) {
  const scalar = time(m, (r0, r1) => {
    m.dequantRows(r0, r1, scratch);
    return scratch[0];
  });
  const simd = time(m, (r0, r1) => dequantPanel(m, r0, r1)[0]);
  console.log(
    `${m.format.padEnd(6)}  ${scalar.toFixed(3).padEnd(7)}  ${simd.toFixed(3).padEnd(7)}  ${(scalar / simd).toFixed(1)}x`,
  );
}
