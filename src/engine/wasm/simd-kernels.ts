/**
 * The engine's WebAssembly SIMD (f32x4) kernels, written with module-builder.ts and compiled once at load time.
 * Each works in place on Float32Array views of one WebAssembly.Memory (see arena.ts): arguments are byte addresses in
 * that memory plus a byte count that is a multiple of 16; the caller does the (< 4 element) tail in JavaScript.
 * Arithmetic is float32 throughout (the JS loops compute in float64 and round on store), so results differ from the
 * JS path by a few float32 ulps; test/engine/simd.test.ts bounds that.
 */

import { buildModule, I32, op, V128, type WasmFunc } from "./module-builder.js";
import { wasm, type WasmModule } from "./wasm-api.js";

const { get, set, tee } = op;

/** `for (i = 0; i < n; i += 16) body` over byte offsets; i and n are i32 locals. */
function loop16(i: number, n: number, body: number[]): number[] {
  return [
    ...op.i32(0),
    ...set(i),
    ...op.block,
    ...op.loop,
    ...get(i),
    ...get(n),
    ...op.i32GeU,
    ...op.brIf(1),
    ...body,
    ...get(i),
    ...op.i32(16),
    ...op.i32Add,
    ...set(i),
    ...op.br(0),
    ...op.end,
    ...op.end,
  ];
}

/** v128 at byte address p + i. */
const load = (p: number, i: number) => [...get(p), ...get(i), ...op.i32Add, ...op.v128Load];
/** Pushes the address p + i (the value to store follows, then op.v128Store). */
const at = (p: number, i: number) => [...get(p), ...get(i), ...op.i32Add];

// exp(x) in float32 (the Cephes expf scheme): x clamped to [-87, 88] so 2^k stays a normal float; k = round(x/ln2);
// r = x - k ln2 with ln2 split in two parts so k*ln2_hi is exact; e^r on |r| <= ln2/2 by a degree-7 polynomial
// (about 1 ulp); 2^k built from its exponent bits ((k + 127) << 23). NaN stays NaN (min/max propagate it).
const LOG2E = 1.4426950408889634;
const LN2_HI = 0.693359375;
const LN2_LO = -2.1219444e-4;
const EXP_P = [1.98756915e-4, 1.39819995e-3, 8.33345191e-3, 4.16657959e-2, 1.66666655e-1, 5.00000012e-1];

/** Replaces the v128 on the stack by its lane-wise exp; uses scratch v128 locals x and k. */
function expV(x: number, k: number): number[] {
  const horner: number[] = [...op.f32x4(EXP_P[0])];
  for (const c of EXP_P.slice(1)) horner.push(...get(x), ...op.f32x4Mul, ...op.f32x4(c), ...op.f32x4Add);
  return [
    ...op.f32x4(-87),
    ...op.f32x4Max,
    ...op.f32x4(88),
    ...op.f32x4Min,
    ...tee(x),
    ...op.f32x4(LOG2E),
    ...op.f32x4Mul,
    ...op.f32x4Nearest,
    ...set(k),
    // x := r = x - k ln2_hi - k ln2_lo
    ...get(x),
    ...get(k),
    ...op.f32x4(LN2_HI),
    ...op.f32x4Mul,
    ...op.f32x4Sub,
    ...get(k),
    ...op.f32x4(LN2_LO),
    ...op.f32x4Mul,
    ...op.f32x4Sub,
    ...set(x),
    // p(r) r^2 + r + 1
    ...horner,
    ...get(x),
    ...get(x),
    ...op.f32x4Mul,
    ...op.f32x4Mul,
    ...get(x),
    ...op.f32x4Add,
    ...op.f32x4(1),
    ...op.f32x4Add,
    // * 2^k
    ...get(k),
    ...op.i32x4TruncSatF32x4S,
    ...op.i32x4(127),
    ...op.i32x4Add,
    ...op.i32(23),
    ...op.i32x4Shl,
    ...op.f32x4Mul,
  ];
}

/** swigluFwd(out, sig, gate, up, bytes): sig = 1 / (1 + exp(-gate)), out = gate * sig * up. */
function swigluFwd(): WasmFunc {
  const [out, sig, gate, up, n, i, g, s, x, k] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  return {
    name: "swigluFwd",
    params: [I32, I32, I32, I32, I32],
    results: [],
    locals: [I32, V128, V128, V128, V128],
    body: loop16(i, n, [
      ...load(gate, i),
      ...tee(g),
      ...op.f32x4Neg,
      ...expV(x, k),
      ...op.f32x4(1),
      ...op.f32x4Add,
      ...set(s),
      ...op.f32x4(1),
      ...get(s),
      ...op.f32x4Div,
      ...set(s),
      ...at(sig, i),
      ...get(s),
      ...op.v128Store,
      ...at(out, i),
      ...get(g),
      ...get(s),
      ...op.f32x4Mul,
      ...load(up, i),
      ...op.f32x4Mul,
      ...op.v128Store,
    ]),
  };
}

/** swigluBwd(dgate, dup, dout, gate, up, sig, bytes): dgate += dout up s (1 + g (1 - s)), dup += dout g s. */
function swigluBwd(): WasmFunc {
  const [dgate, dup, dout, gate, up, sig, n, i, g, s, d] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  return {
    name: "swigluBwd",
    params: [I32, I32, I32, I32, I32, I32, I32],
    results: [],
    locals: [I32, V128, V128, V128],
    body: loop16(i, n, [
      ...load(gate, i),
      ...set(g),
      ...load(sig, i),
      ...set(s),
      ...load(dout, i),
      ...set(d),
      ...at(dgate, i),
      ...load(dgate, i),
      ...get(d),
      ...load(up, i),
      ...op.f32x4Mul,
      ...get(s),
      ...op.f32x4Mul,
      ...op.f32x4(1),
      ...get(g),
      ...op.f32x4(1),
      ...get(s),
      ...op.f32x4Sub,
      ...op.f32x4Mul,
      ...op.f32x4Add,
      ...op.f32x4Mul,
      ...op.f32x4Add,
      ...op.v128Store,
      ...at(dup, i),
      ...load(dup, i),
      ...get(d),
      ...get(g),
      ...op.f32x4Mul,
      ...get(s),
      ...op.f32x4Mul,
      ...op.f32x4Add,
      ...op.v128Store,
    ]),
  };
}

/** expTest(dst, src, bytes): dst = exp(src), exported for the tests of the exp approximation. */
function expTest(): WasmFunc {
  const [dst, src, n, i, x, k] = [0, 1, 2, 3, 4, 5];
  return {
    name: "exp",
    params: [I32, I32, I32],
    results: [],
    locals: [I32, V128, V128],
    body: loop16(i, n, [...at(dst, i), ...load(src, i), ...expV(x, k), ...op.v128Store]),
  };
}

/** The kernels' exports, all taking byte addresses into the instance's memory. */
export interface SimdKernels {
  swigluFwd(out: number, sig: number, gate: number, up: number, bytes: number): void;
  swigluBwd(dgate: number, dup: number, dout: number, gate: number, up: number, sig: number, bytes: number): void;
  exp(dst: number, src: number, bytes: number): void;
}

let compiled: WasmModule | null | undefined;

/** The compiled module, or null where this runtime has no WebAssembly SIMD (then every op stays in JavaScript). */
export function simdModule(): WasmModule | null {
  if (compiled === undefined) {
    try {
      if (wasm === undefined) throw new Error("no WebAssembly");
      compiled = new wasm.Module(buildModule([swigluFwd(), swigluBwd(), expTest()]));
    } catch {
      compiled = null;
    }
  }
  return compiled;
}
