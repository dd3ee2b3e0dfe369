/**
 * Dequantises a panel of a packed matrix's rows to float32 for gemm, with the WebAssembly SIMD kernels
 * (wasm/dequant-kernels.ts) where the runtime has them: the panel's packed bytes (and, for NF4, its block absmaxes)
 * are copied into one dedicated wasm memory and the kernel writes the float32 panel there, so the result is a view of
 * that memory (BLAS through koffi reads it in place; the wasm gemm stages it like any foreign operand). Copying in
 * costs little next to the dequantisation: half a byte (NF4) or two bytes (bf16) per value.
 * The JavaScript loops of the matrices stay the reference: they do the < 1 block heads and tails, every format without
 * a kernel, and everything when SIMD is unavailable or env MST_SIMD=0 (checked per call, so tests can switch it).
 */

import { dequantModule, type DequantKernels } from "../wasm/dequant-kernels.js";
import { wasm, type WasmMemory } from "../wasm/wasm-api.js";
import { Bf16Matrix } from "./bf16.js";
import { NF4_BLOCK, Nf4Matrix } from "./nf4.js";
import type { PackedMatrix } from "./packed.js";

const PAGE = 65536;
const align16 = (bytes: number) => Math.ceil(bytes / 16) * 16;

/** The dequantisation memory: [float32 panel | packed bytes | block absmaxes], grown on demand. */
class DequantSpace {
  private readonly memory: WasmMemory;
  readonly k: DequantKernels;
  u8: Uint8Array;
  f32: Float32Array;

  constructor() {
    const mod = dequantModule();
    if (mod === null || wasm === undefined) throw new Error("dequant: this runtime has no WebAssembly SIMD");
    this.memory = new wasm.Memory({ initial: 1 });
    this.k = new wasm.Instance(mod, { env: { memory: this.memory } }).exports as unknown as DequantKernels;
    this.u8 = new Uint8Array(this.memory.buffer);
    this.f32 = new Float32Array(this.memory.buffer);
  }

  /** Grows to at least `bytes` (a non-shared memory's old views detach: panels are only valid until the next call). */
  ensure(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes <= have) return;
    this.memory.grow(Math.ceil((bytes - have) / PAGE));
    this.u8 = new Uint8Array(this.memory.buffer);
    this.f32 = new Float32Array(this.memory.buffer);
  }
}

let space: DequantSpace | null | undefined;
let scratch = new Float32Array(0);

/** Whether panels dequantise with the SIMD kernels (available, and not turned off with MST_SIMD=0). */
export function simdDequantEnabled(): boolean {
  return process.env.MST_SIMD?.trim() !== "0" && dequantModule() !== null;
}

function simdSpace(): DequantSpace | null {
  if (!simdDequantEnabled()) return null;
  if (space === undefined) space = new DequantSpace();
  return space;
}

/**
 * Rows [r0, r1) of `m` as row-major float32: a view that stays valid until the next call (it is reused), in wasm
 * memory on the SIMD path, in a JavaScript scratch array otherwise.
 */
export function dequantPanel(m: PackedMatrix, r0: number, r1: number): Float32Array {
  const n = (r1 - r0) * m.cols;
  const s = simdSpace();
  if (s !== null && (m instanceof Bf16Matrix || m instanceof Nf4Matrix)) {
    s.ensure(align16(4 * n) + align16(2 * n) + align16(4 * (Math.ceil(n / NF4_BLOCK) + 2)));
    const out = s.f32.subarray(0, n);
    if (m instanceof Bf16Matrix) bf16Panel(s, m, r0 * m.cols, n, out);
    else nf4Panel(s, m, r0 * m.cols, n, out);
    return out;
  }
  if (scratch.length < n) scratch = new Float32Array(n);
  const out = scratch.subarray(0, n);
  m.dequantRows(r0, r1, out);
  return out;
}

/** Values [i0, i0 + n) of a bf16 matrix into out (at wasm address 0): multiples of 8 in SIMD, the rest in JS. */
function bf16Panel(s: DequantSpace, m: Bf16Matrix, i0: number, n: number, out: Float32Array): void {
  const n8 = n - (n % 8);
  const src = align16(4 * n);
  // copied as raw bytes (a memcpy); the kernel reads them as little-endian u16 lanes
  s.u8.set(new Uint8Array(m.bits.buffer, m.bits.byteOffset + 2 * i0, 2 * n8), src);
  s.k.bf16(0, src, n8);
  if (n8 < n) m.dequantRange(i0 + n8, i0 + n, out, n8);
}

/**
 * Values [i0, i0 + n) of an NF4 matrix into out (at wasm address 0): the whole blocks inside the range in SIMD, the
 * partial blocks at either end (a panel starting mid-block, or an odd value) in JS.
 */
function nf4Panel(s: DequantSpace, m: Nf4Matrix, i0: number, n: number, out: Float32Array): void {
  const i1 = i0 + n;
  const b0 = Math.ceil(i0 / NF4_BLOCK);
  const b1 = Math.floor(i1 / NF4_BLOCK);
  if (b1 <= b0) {
    m.dequantRange(i0, i1, out, 0);
    return;
  }
  const head = b0 * NF4_BLOCK - i0;
  const src = align16(4 * n);
  const scales = src + align16((b1 - b0) * (NF4_BLOCK / 2));
  s.u8.set(m.codes.subarray(b0 * (NF4_BLOCK / 2), b1 * (NF4_BLOCK / 2)), src);
  m.blockScales(b0, b1, s.f32, scales >> 2);
  s.k.nf4(4 * head, src, scales, b1 - b0);
  if (head > 0) m.dequantRange(i0, b0 * NF4_BLOCK, out, 0);
  if (b1 * NF4_BLOCK < i1) m.dequantRange(b1 * NF4_BLOCK, i1, out, b1 * NF4_BLOCK - i0);
}
