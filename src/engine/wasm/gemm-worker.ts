/** A GEMM worker thread (see gemm-pool.ts): waits for a product in the shared memory and computes its tile range. */

import { workerData } from "node:worker_threads";
import type { GemmKernels } from "./gemm-kernels.js";
import { gemmBlocked } from "./gemm-blocked.js";
import { CTL, readProduct } from "./gemm-pool.js";
import { wasm, type WasmMemory, type WasmModule } from "./wasm-api.js";

const { module, memory, index, controlBytes, scratchBytes } = workerData as {
  module: WasmModule;
  memory: WasmMemory;
  index: number;
  controlBytes: number;
  scratchBytes: number;
};
const ctl = new Int32Array(memory.buffer, 0, controlBytes / 4);
const f64 = new Float64Array(memory.buffer, 0, controlBytes / 8);
const k = new wasm!.Instance(module, { env: { memory } }).exports as unknown as GemmKernels;
const scratch = controlBytes + index * scratchBytes;
const slot = CTL.slots + 8 * index;

let seq = Atomics.load(ctl, CTL.seq);
Atomics.add(ctl, CTL.ready, 1);
Atomics.notify(ctl, CTL.ready);
for (;;) {
  Atomics.wait(ctl, CTL.seq, seq);
  seq = Atomics.load(ctl, CTL.seq);
  if (Atomics.load(ctl, CTL.exit) === 1) break;
  try {
    if (ctl[slot] === 1)
      gemmBlocked(k, readProduct(ctl, f64), scratch, ctl[slot + 1], ctl[slot + 2], ctl[slot + 3], ctl[slot + 4]);
  } catch {
    Atomics.add(ctl, CTL.failed, 1);
  }
  Atomics.add(ctl, CTL.done, 1);
  Atomics.notify(ctl, CTL.done);
}
