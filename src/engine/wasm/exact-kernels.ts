/**
 * Elementwise WebAssembly SIMD kernels of the decode path in float64 that give exactly the JavaScript loops' bits
 * (swigluForwardJs, rmsnormForwardJs): each value sees the same operations in the same order, f32 inputs widened
 * exactly, results rounded to f32 on store as a Float32Array store rounds. Lanes hold independent elements, or two
 * of a row's four interleaved partial sums. Addresses and counts are bytes in the instance's memory.
 */

import { buildModule, F64, Frame, I32, op, V128, type WasmFunc } from "./module-builder.js";
import { compileKernels } from "./compile.js";
import {
  Consts64,
  expLocals,
  type ExpLocals,
  fastExpF64x2,
  forLoop,
  outsideExpRange,
  pairAt,
  upTo,
} from "./f64-helpers.js";
import type { WasmModule } from "./wasm-api.js";

const { get, set, tee } = op;

/** Pushes the byte address base + i. */
const addr = (base: number, i: number) => [...get(base), ...get(i), ...op.i32Add];

/** i8x16.shuffle lanes: the high two f32 of a in the low half (then widened by promote_low). */
const HIGH_F32 = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];
/** i8x16.shuffle lanes: the low two f32 of a, then the low two of b. */
const LOW_LOW = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];

/** f32x4 local v as two f64x2 (lanes 0-1, lanes 2-3) into locals lo and hi (exact). */
const widen = (v: number, lo: number, hi: number) => [
  ...get(v),
  ...op.f64x2PromoteLowF32x4,
  ...set(lo),
  ...get(v),
  ...get(v),
  ...op.i8x16Shuffle(HIGH_F32),
  ...op.f64x2PromoteLowF32x4,
  ...set(hi),
];

/** Pushes f64x2 locals lo and hi rounded to float32 as one f32x4 (lo's two lanes first). */
const narrow = (lo: number, hi: number) => [
  ...get(lo),
  ...op.f32x4DemoteF64x2Zero,
  ...get(hi),
  ...op.f32x4DemoteF64x2Zero,
  ...op.i8x16Shuffle(LOW_LOW),
];

/**
 * swiglu(out, sig, gate, up, from, to) -> where it stopped: over byte offsets from..to-1 (a multiple of 16 apart),
 * s = 1 / (1 + fastExp(-g)), sig = f32(s), out = f32(g * s * up), four elements per step as two f64x2. Returns `to`,
 * or the offset of the first four elements with an exp argument outside fastExp's fast range (|g| > 100, checked on
 * the f32 inputs, which is the same test as on -g widened): the caller does those in JavaScript and calls again.
 */
function swiglu(): WasmFunc {
  const f = new Frame();
  const out = f.param(I32);
  const sig = f.param(I32);
  const gate = f.param(I32);
  const up = f.param(I32);
  const from = f.param(I32);
  const to = f.param(I32);
  const i = f.local(I32);
  const tab = f.local(I32);
  const gv = f.local(V128);
  const [g0, g1, s0, s1, u0, u1] = f.localsOf(6, V128);
  const e0 = expLocals(f);
  const e1 = expLocals(f);
  const K = new Consts64(f);
  /** s = 1 / (1 + fastExp(-g)) */
  const sigmoid = (g: number, el: ExpLocals, s: number) => [
    ...K.c(1),
    ...K.c(1),
    ...get(g),
    ...op.f64x2Neg,
    ...fastExpF64x2(K, el, tab),
    ...op.f64x2Add,
    ...op.f64x2Div,
    ...set(s),
  ];
  /** g * s * up */
  const gated = (g: number, s: number, u: number) => [
    ...get(g),
    ...get(s),
    ...op.f64x2Mul,
    ...get(u),
    ...op.f64x2Mul,
    ...set(g),
  ];
  const body = [
    ...op.i32(0),
    ...set(tab),
    ...forLoop(i, get(from), [...get(i), ...get(to), ...op.i32GeU], op.i32(16), [
      ...addr(gate, i),
      ...op.v128LoadAt(0),
      ...tee(gv),
      ...op.f32x4Abs,
      ...op.f32x4(100),
      ...op.f32x4Gt,
      ...op.v128AnyTrue,
      ...op.if,
      ...get(i),
      ...op.return,
      ...op.end,
      ...widen(gv, g0, g1),
      ...sigmoid(g0, e0, s0),
      ...sigmoid(g1, e1, s1),
      ...addr(sig, i),
      ...narrow(s0, s1),
      ...op.v128StoreAt(0),
      ...addr(up, i),
      ...op.v128LoadAt(0),
      ...set(gv),
      ...widen(gv, u0, u1),
      ...gated(g0, s0, u0),
      ...gated(g1, s1, u1),
      ...addr(out, i),
      ...narrow(g0, g1),
      ...op.v128StoreAt(0),
    ]),
    ...get(to),
  ];
  return { name: "swiglu", params: f.params, results: [I32], locals: f.locals, body: [...K.prologue, ...body] };
}

/**
 * rms(out, rstd, inp, w, N, rowB, C, eps): per row of rowB bytes (a multiple of 16), as rmsnormForwardJs:
 * s0..s3 = running sums of x^2 over dims 0,4,.. / 1,5,.. / 2,6,.. / 3,7,..; r = 1 / sqrt(((s0 + s1) + (s2 + s3)) / C
 * + eps); rstd = f32(r); out = f32(x * r * w).
 */
function rms(): WasmFunc {
  const f = new Frame();
  const out = f.param(I32);
  const rstd = f.param(I32);
  const inp = f.param(I32);
  const w = f.param(I32);
  const N = f.param(I32);
  const rowB = f.param(I32);
  const C = f.param(F64);
  const eps = f.param(F64);
  const n = f.local(I32);
  const c = f.local(I32);
  const a = f.local(I32);
  const wc = f.local(I32);
  const r = f.local(F64);
  const s01 = f.local(V128);
  const s23 = f.local(V128);
  const x = f.local(V128);
  const rv = f.local(V128);
  const K = new Consts64(f);
  const sq = (sv: number, off: number) => [
    ...get(sv),
    ...pairAt(a, off),
    ...tee(x),
    ...get(x),
    ...op.f64x2Mul,
    ...op.f64x2Add,
    ...set(sv),
  ];
  const row = [
    ...K.c(0),
    ...tee(s01),
    ...set(s23),
    ...upTo(c, rowB, 16, [...addr(inp, c), ...set(a), ...sq(s01, 0), ...sq(s23, 8)]),
    ...op.f64(1),
    ...get(s01),
    ...op.f64x2ExtractLane(0),
    ...get(s01),
    ...op.f64x2ExtractLane(1),
    ...op.f64Add,
    ...get(s23),
    ...op.f64x2ExtractLane(0),
    ...get(s23),
    ...op.f64x2ExtractLane(1),
    ...op.f64Add,
    ...op.f64Add,
    ...get(C),
    ...op.f64Div,
    ...get(eps),
    ...op.f64Add,
    ...op.f64Sqrt,
    ...op.f64Div,
    ...tee(r),
    ...op.f64x2Splat,
    ...set(rv),
    ...get(rstd),
    ...get(r),
    ...op.f32DemoteF64,
    ...op.f32StoreAt(0),
    ...upTo(c, rowB, 8, [
      ...addr(w, c),
      ...set(wc),
      ...addr(inp, c),
      ...set(a),
      ...addr(out, c),
      ...pairAt(a, 0),
      ...get(rv),
      ...op.f64x2Mul,
      ...pairAt(wc, 0),
      ...op.f64x2Mul,
      ...op.f32x4DemoteF64x2Zero,
      ...op.v128Store64LaneAt(0, 0),
    ]),
    ...get(inp),
    ...get(rowB),
    ...op.i32Add,
    ...set(inp),
    ...get(out),
    ...get(rowB),
    ...op.i32Add,
    ...set(out),
    ...get(rstd),
    ...op.i32(4),
    ...op.i32Add,
    ...set(rstd),
  ];
  const body = upTo(n, N, 1, row);
  return { name: "rms", params: f.params, results: [], locals: f.locals, body: [...K.prologue, ...body] };
}

/**
 * rowExp(row, from, to, max, temperature, probs, state) -> where it stopped: for elements from..to-1 (an even count)
 * of the f32 row, as the sampler's loops: z = (x - max) / temperature, e = fastExp(z), probs[j] = e (f64), and the
 * running sums in state (f64 [sum, sz]) take sum += e, sz += e * z element by element. Returns `to`, or the index of
 * the first pair with z outside fastExp's fast range (the caller does that pair and calls again from the next).
 */
function rowExp(): WasmFunc {
  const f = new Frame();
  const row = f.param(I32);
  const from = f.param(I32);
  const to = f.param(I32);
  const max = f.param(F64);
  const temperature = f.param(F64);
  const probs = f.param(I32);
  const state = f.param(I32);
  const j = f.local(I32);
  const tab = f.local(I32);
  const sum = f.local(F64);
  const sz = f.local(F64);
  const maxV = f.local(V128);
  const tV = f.local(V128);
  const z = f.local(V128);
  const e = f.local(V128);
  const ez = f.local(V128);
  const el = expLocals(f);
  const a = f.local(I32);
  const K = new Consts64(f);
  const saveState = [...get(state), ...get(sum), ...op.f64StoreAt(0), ...get(state), ...get(sz), ...op.f64StoreAt(8)];
  /** acc = acc + lane l of v */
  const addLane = (acc: number, v: number, l: number) => [
    ...get(acc),
    ...get(v),
    ...op.f64x2ExtractLane(l),
    ...op.f64Add,
    ...set(acc),
  ];
  const body = [
    ...op.i32(0),
    ...set(tab),
    ...get(state),
    ...op.f64LoadAt(0),
    ...set(sum),
    ...get(state),
    ...op.f64LoadAt(8),
    ...set(sz),
    ...get(max),
    ...op.f64x2Splat,
    ...set(maxV),
    ...get(temperature),
    ...op.f64x2Splat,
    ...set(tV),
    ...forLoop(j, get(from), [...get(j), ...get(to), ...op.i32GeU], op.i32(2), [
      ...get(row),
      ...get(j),
      ...op.i32(2),
      ...op.i32Shl,
      ...op.i32Add,
      ...set(a),
      ...pairAt(a, 0),
      ...get(maxV),
      ...op.f64x2Sub,
      ...get(tV),
      ...op.f64x2Div,
      ...set(z),
      ...outsideExpRange(K, z),
      ...op.if,
      ...saveState,
      ...get(j),
      ...op.return,
      ...op.end,
      ...get(z),
      ...fastExpF64x2(K, el, tab),
      ...set(e),
      ...get(probs),
      ...get(j),
      ...op.i32(3),
      ...op.i32Shl,
      ...op.i32Add,
      ...get(e),
      ...op.v128StoreAt(0),
      ...get(e),
      ...get(z),
      ...op.f64x2Mul,
      ...set(ez),
      ...addLane(sum, e, 0),
      ...addLane(sz, ez, 0),
      ...addLane(sum, e, 1),
      ...addLane(sz, ez, 1),
    ]),
    ...saveState,
    ...get(to),
  ];
  return { name: "rowExp", params: f.params, results: [I32], locals: f.locals, body: [...K.prologue, ...body] };
}

/**
 * drawWalk(probs, V, x) -> id: the first j where x - probs[0] - ... - probs[j] < 0 (f64, one subtraction at a time),
 * else V - 1, as the sampler's draw.
 */
function drawWalk(): WasmFunc {
  const f = new Frame();
  const probs = f.param(I32);
  const V = f.param(I32);
  const x = f.param(F64);
  const j = f.local(I32);
  const body = [
    ...upTo(j, V, 1, [
      ...get(x),
      ...get(probs),
      ...get(j),
      ...op.i32(3),
      ...op.i32Shl,
      ...op.i32Add,
      ...op.f64LoadAt(0),
      ...op.f64Sub,
      ...tee(x),
      ...op.f64(0),
      ...op.f64Lt,
      ...op.if,
      ...get(j),
      ...op.return,
      ...op.end,
    ]),
    ...get(V),
    ...op.i32(-1),
    ...op.i32Add,
  ];
  return { name: "drawWalk", params: f.params, results: [I32], locals: f.locals, body };
}

/** The kernels' exports; addresses and counts in bytes of the instance's memory (rowExp's indices: elements). */
export interface ExactKernels {
  swiglu(out: number, sig: number, gate: number, up: number, from: number, to: number): number;
  rms(out: number, rstd: number, inp: number, w: number, N: number, rowB: number, C: number, eps: number): void;
  rowExp(row: number, from: number, to: number, max: number, temperature: number, probs: number, state: number): number;
  drawWalk(probs: number, V: number, x: number): number;
}

let compiled: WasmModule | null | undefined;

/** The compiled module, or null where this runtime has no WebAssembly SIMD (the decode path stays in JavaScript). */
export function exactModule(): WasmModule | null {
  if (compiled === undefined)
    compiled = compileKernels("the exact decode kernels", ["simd"], () =>
      buildModule([swiglu(), rms(), rowExp(), drawWalk()]),
    );
  return compiled;
}
