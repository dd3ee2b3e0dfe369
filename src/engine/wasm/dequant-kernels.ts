/**
 * WebAssembly SIMD dequantisers for the packed weight formats (quant/bf16.ts, quant/nf4.ts), written with
 * module-builder.ts and compiled once at load time. They turn a panel of packed values, staged in the instance's
 * memory, into float32 for gemm (quant/dequant-panel.ts drives them). Both are exact, so their output equals the
 * JavaScript reference loops bit for bit: bf16 -> f32 is a 16-bit shift, and NF4 is code * absmax as one float32
 * multiply (the JS loop multiplies two float32 values in float64, which is exact, then rounds once to float32: the
 * same correctly rounded product).
 */

import { buildModule, Frame, I32, op, V128, type WasmFunc } from "./module-builder.js";
import type { WasmModule } from "./wasm-api.js";
import { compileKernels } from "./compile.js";
import { NF4_CODE } from "../quant/nf4.js";

const { get, set, tee } = op;

/** Lanes of i8x16.shuffle a, b that interleave bytes (or 2-byte pairs with `w` = 2) of the low/high halves. */
function interleave(w: 1 | 2, high: boolean): number[] {
  const lanes: number[] = [];
  const base = high ? 8 : 0;
  for (let k = 0; k < 8 / w; k++)
    for (const src of [0, 16]) for (let j = 0; j < w; j++) lanes.push(src + base + k * w + j);
  return lanes;
}
const BYTES_LO = interleave(1, false);
const BYTES_HI = interleave(1, true);
const PAIRS_LO = interleave(2, false);
const PAIRS_HI = interleave(2, true);

/** `while (p < end) { body; p += step }` (pointer loop; p and end are i32 locals, body advances nothing). */
function whileBelow(p: number, end: number, body: number[], advance: number[]): number[] {
  return [
    ...op.block,
    ...op.loop,
    ...get(p),
    ...get(end),
    ...op.i32GeU,
    ...op.brIf(1),
    ...body,
    ...advance,
    ...op.br(0),
    ...op.end,
    ...op.end,
  ];
}

/** `x += by` for an i32 local. */
const bump = (x: number, by: number) => [...get(x), ...op.i32(by), ...op.i32Add, ...set(x)];

/**
 * bf16(dst, src, n): n bf16 values at byte address src -> n float32 at dst; n a multiple of 8. Each 16-byte load holds
 * 8 values: widen the low and high four u16 lanes to u32 and shift them into the top half.
 */
function bf16(): WasmFunc {
  const f = new Frame();
  const dst = f.param(I32);
  const src = f.param(I32);
  const n = f.param(I32);
  const end = f.local(I32);
  const v = f.local(V128);
  const half = (widen: number[], off: number) => [
    ...get(dst),
    ...get(v),
    ...widen,
    ...op.i32(16),
    ...op.i32x4Shl,
    ...op.v128StoreAt(off),
  ];
  const body = [
    ...get(src),
    ...op.v128LoadAt(0),
    ...set(v),
    ...half(op.i32x4ExtendLowI16x8U, 0),
    ...half(op.i32x4ExtendHighI16x8U, 16),
  ];
  return {
    name: "bf16",
    params: f.params,
    results: [],
    locals: f.locals,
    body: [
      // end = src + 2n
      ...get(src),
      ...get(n),
      ...get(n),
      ...op.i32Add,
      ...op.i32Add,
      ...set(end),
      ...whileBelow(src, end, body, [...bump(src, 16), ...bump(dst, 32)]),
    ],
  };
}

/** The four byte planes of the float32 code table: plane k holds byte k (little-endian) of each of the 16 codes. */
function codePlanes(): number[][] {
  const bytes = new Uint8Array(Float32Array.from(NF4_CODE).buffer);
  return [0, 1, 2, 3].map((k) => Array.from({ length: 16 }, (_, i) => bytes[4 * i + k]));
}

/**
 * nf4(dst, src, scales, blocks): `blocks` whole blocks of 64 values, 32 packed bytes each at src (first value in the
 * high nibble), one float32 absmax each at scales -> 64 float32 per block at dst. Per 16 bytes: split the nibbles and
 * interleave them into value order (32 code indices), look each index up in the four byte planes of the code table
 * (i8x16.swizzle), interleave the planes back into float32 lanes, and multiply by the block's absmax.
 */
function nf4(): WasmFunc {
  const f = new Frame();
  const dst = f.param(I32);
  const src = f.param(I32);
  const scales = f.param(I32);
  const blocks = f.param(I32);
  const end = f.local(I32);
  const a = f.local(V128);
  const bytes = f.local(V128);
  const hi = f.local(V128);
  const lo = f.local(V128);
  const idx = f.local(V128);
  const p0 = f.local(V128);
  const p1 = f.local(V128);
  const p2 = f.local(V128);
  const p3 = f.local(V128);
  const x = f.local(V128);
  const y = f.local(V128);
  // the code table's four byte planes in locals T0 .. T0 + 3, the low-nibble mask after them
  const T0 = f.localsOf(4, V128)[0];
  const MASK = f.local(V128);
  const planes = codePlanes();
  // 16 code indices in local idx -> 16 float32 at dst + off
  const sixteen = (off: number): number[] => {
    const look = [p0, p1, p2, p3].flatMap((p, k) => [...get(T0 + k), ...get(idx), ...op.i8x16Swizzle, ...set(p)]);
    const quarter = (lanes: number[], o: number) => [
      ...get(dst),
      ...get(x),
      ...get(y),
      ...op.i8x16Shuffle(lanes),
      ...get(a),
      ...op.f32x4Mul,
      ...op.v128StoreAt(o),
    ];
    const eight = (bytesLanes: number[], o: number) => [
      // x: bytes 0 and 1 of eight values, y: bytes 2 and 3
      ...get(p0),
      ...get(p1),
      ...op.i8x16Shuffle(bytesLanes),
      ...set(x),
      ...get(p2),
      ...get(p3),
      ...op.i8x16Shuffle(bytesLanes),
      ...set(y),
      ...quarter(PAIRS_LO, o),
      ...quarter(PAIRS_HI, o + 16),
    ];
    return [...look, ...eight(BYTES_LO, off), ...eight(BYTES_HI, off + 32)];
  };
  // 16 packed bytes at src + off -> 32 float32 at dst + 4 * 2 * off
  const thirtyTwo = (off: number): number[] => [
    ...get(src),
    ...op.v128LoadAt(off),
    ...tee(bytes),
    ...op.i32(4),
    ...op.i8x16ShrU,
    ...set(hi),
    ...get(bytes),
    ...get(MASK),
    ...op.v128And,
    ...set(lo),
    ...get(hi),
    ...get(lo),
    ...op.i8x16Shuffle(BYTES_LO),
    ...set(idx),
    ...sixteen(8 * off),
    ...get(hi),
    ...get(lo),
    ...op.i8x16Shuffle(BYTES_HI),
    ...set(idx),
    ...sixteen(8 * off + 64),
  ];
  const body = [...get(scales), ...op.v128Load32SplatAt(0), ...set(a), ...thirtyTwo(0), ...thirtyTwo(16)];
  return {
    name: "nf4",
    params: f.params,
    results: [],
    locals: f.locals,
    body: [
      ...planes.flatMap((pl, k) => [...op.v128Bytes(pl), ...set(T0 + k)]),
      ...op.v128Bytes(Array<number>(16).fill(0x0f)),
      ...set(MASK),
      // end = src + 32 * blocks
      ...get(src),
      ...get(blocks),
      ...op.i32(5),
      ...op.i32Shl,
      ...op.i32Add,
      ...set(end),
      ...whileBelow(src, end, body, [...bump(src, 32), ...bump(dst, 256), ...bump(scales, 4)]),
    ],
  };
}

/** The kernels' exports: byte addresses into the instance's memory. */
export interface DequantKernels {
  bf16(dst: number, src: number, n: number): void;
  nf4(dst: number, src: number, scales: number, blocks: number): void;
}

let compiled: WasmModule | null | undefined;

/** The compiled module, or null where this runtime has no WebAssembly SIMD. */
export function dequantModule(): WasmModule | null {
  if (compiled === undefined) {
    compiled = compileKernels("the dequantisation kernels", ["simd"], () => buildModule([bf16(), nf4()]));
  }
  return compiled;
}
