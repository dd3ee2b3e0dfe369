/**
 * WebAssembly SIMD kernels of the KV-cache decode step that compute in float64 exactly what the JavaScript loops
 * compute (same operations in the same order per output element, fastExp's table and polynomial), so a sampling run
 * gives the same bits on either path. Vectors only run across independent values: the two lanes of an f64x2 hold
 * two of a dot product's four running sums (the JS loop's s0/s1 and s2/s3) or two output dimensions. Nothing here
 * calls Math.exp: an exp argument outside fastExp's table range makes a kernel return 1, and the caller redoes that
 * work in JavaScript (rare: softmax arguments below -100).
 */

import { buildModule, F64, Frame, I32, op, V128, type WasmFunc } from "./module-builder.js";
import { compileKernels } from "./compile.js";
import { FAST_EXP } from "../ops/fast-exp.js";
import type { WasmModule } from "./wasm-api.js";

const { get, set, tee } = op;

/** Bytes of fastExp's 2^(k/32) table, which each memory the kernels run on holds at byte address `tab`. */
export const EXP_TABLE_BYTES = FAST_EXP.POW2_32.length * 8;

/** `for (i = from; cond(i); i += step) body`: `from` and `step` push an i32, `exit` pushes 1 when the loop ends. */
function forLoop(i: number, from: number[], exit: number[], step: number[], body: number[]): number[] {
  return [
    ...from,
    ...set(i),
    ...op.block,
    ...op.loop,
    ...exit,
    ...op.brIf(1),
    ...body,
    ...get(i),
    ...step,
    ...op.i32Add,
    ...set(i),
    ...op.br(0),
    ...op.end,
    ...op.end,
  ];
}

/** `for (i = 0; i < n; i += step)` over i32 locals i and n. */
const upTo = (i: number, n: number, step: number, body: number[]) =>
  forLoop(i, op.i32(0), [...get(i), ...get(n), ...op.i32GeU], op.i32(step), body);

/** Pushes 1 when f64 local x is outside fastExp's fast range (JS: `x < -FAST_R || x > FAST_R`). */
const outsideExpRange = (x: number) => [
  ...get(x),
  ...op.f64(-FAST_EXP.FAST_R),
  ...op.f64Lt,
  ...get(x),
  ...op.f64(FAST_EXP.FAST_R),
  ...op.f64Gt,
  ...op.i32Or,
];

/**
 * Pushes fastExp(x) for f64 local x inside the fast range, in fastExp's operations and order:
 * kf = x * 32log2e + M - M; r = x - kf * ln2/32; (1 + r + r2 * (1/2 + r/6 + r2/24)) * 2^(kf/32) (table at `tab`).
 */
function fastExpF64(x: number, kf: number, r: number, r2: number, tab: number): number[] {
  return [
    ...get(x),
    ...op.f64(FAST_EXP.STEPS_LOG2E),
    ...op.f64Mul,
    ...op.f64(FAST_EXP.ROUND_MAGIC),
    ...op.f64Add,
    ...op.f64(FAST_EXP.ROUND_MAGIC),
    ...op.f64Sub,
    ...set(kf),
    ...get(x),
    ...get(kf),
    ...op.f64(FAST_EXP.LN2_STEPS),
    ...op.f64Mul,
    ...op.f64Sub,
    ...tee(r),
    ...get(r),
    ...op.f64Mul,
    ...set(r2),
    // (1 + r) + r2 * ((0.5 + r * (1/6)) + r2 * (1/24))
    ...op.f64(1),
    ...get(r),
    ...op.f64Add,
    ...get(r2),
    ...op.f64(0.5),
    ...get(r),
    ...op.f64(1 / 6),
    ...op.f64Mul,
    ...op.f64Add,
    ...get(r2),
    ...op.f64(1 / 24),
    ...op.f64Mul,
    ...op.f64Add,
    ...op.f64Mul,
    ...op.f64Add,
    // * POW2_32[(kf | 0) + K_OFF]
    ...get(kf),
    ...op.i32TruncSatF64S,
    ...op.i32(FAST_EXP.K_OFF),
    ...op.i32Add,
    ...op.i32(3),
    ...op.i32Shl,
    ...get(tab),
    ...op.i32Add,
    ...op.f64LoadAt(0),
    ...op.f64Mul,
  ];
}

/** Two f32 at byte address (p + i + off) as an f64x2 (exact). */
const pair64 = (p: number, i: number, off: number) => [
  ...get(p),
  ...get(i),
  ...op.i32Add,
  ...op.v128Load64ZeroAt(off),
  ...op.f64x2PromoteLowF32x4,
];

/** f64 scalar v rounded to float32 and back (what a Float32Array store then load gives). */
const viaF32 = [...op.f32DemoteF64, ...op.f64PromoteF32];

/**
 * attnDecode(q, out, k, v, L, H, rep, hdB, ksB, scale, p, tab) -> 0, or 1 when an exp argument left fastExp's fast
 * range (out is then partly written; the caller redoes the row in JavaScript). One decode query of every head of one
 * batch row: q and out (H, hd) f32 at byte addresses q/out, the row's cache k/v at byte addresses k/v (position
 * stride ksB bytes, kv head stride hdB bytes), keys 0..L-1, query head h reading kv head h / rep; p is f64 scratch
 * of L values. Per head, as attentionDecodeRow: s_j = ((s0 + s1) + (s2 + s3)) * scale with s0..s3 the running sums
 * of dims 0,4,.. / 1,5,.. / 2,6,.. / 3,7,..; p_j = f32(fastExp(f32(s_j) - max)), sum += unrounded; out_i =
 * f32((sum_j p_j v_ji) * (1 / sum)). hd must be a multiple of 4.
 */
function attnDecode(): WasmFunc {
  const f = new Frame();
  const q = f.param(I32);
  const out = f.param(I32);
  const k = f.param(I32);
  const v = f.param(I32);
  const L = f.param(I32);
  const H = f.param(I32);
  const rep = f.param(I32);
  const hdB = f.param(I32);
  const ksB = f.param(I32);
  const scale = f.param(F64);
  const p = f.param(I32);
  const tab = f.param(I32);
  const h = f.local(I32);
  const jb = f.local(I32); // byte offset of key j in p (8 j)
  const Lb = f.local(I32); // 8 L
  const c = f.local(I32); // byte offset of a head dim
  const qh = f.local(I32);
  const oh = f.local(I32);
  const kh = f.local(I32);
  const vh = f.local(I32);
  const kj = f.local(I32); // key j's head vector
  const vj = f.local(I32);
  const max = f.local(F64);
  const s = f.local(F64);
  const x = f.local(F64);
  const kf = f.local(F64);
  const r = f.local(F64);
  const r2 = f.local(F64);
  const e = f.local(F64);
  const sum = f.local(F64);
  const s01 = f.local(V128);
  const s23 = f.local(V128);
  const pv = f.local(V128);
  const inv = f.local(V128);
  const acc = f.localsOf(4, V128);

  /** acc += pair(a) * pair(b) at byte offset off of dim c. */
  const dotStep = (sv: number, off: number) => [
    ...get(sv),
    ...pair64(qh, c, off),
    ...pair64(kj, c, off),
    ...op.f64x2Mul,
    ...op.f64x2Add,
    ...set(sv),
  ];
  // scores: s_j, max over the unrounded s_j (as JS compares them), f32(s_j) kept as f64 in p
  const scores = [
    ...op.f64(-Infinity),
    ...set(max),
    ...get(kh),
    ...set(kj),
    ...upTo(jb, Lb, 8, [
      ...op.f64(0),
      ...op.f64x2Splat,
      ...tee(s01),
      ...set(s23),
      ...upTo(c, hdB, 16, [...dotStep(s01, 0), ...dotStep(s23, 8)]),
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
      ...get(scale),
      ...op.f64Mul,
      ...set(s),
      ...get(p),
      ...get(jb),
      ...op.i32Add,
      ...get(s),
      ...viaF32,
      ...op.f64StoreAt(0),
      ...get(s),
      ...get(max),
      ...op.f64Gt,
      ...op.if,
      ...get(s),
      ...set(max),
      ...op.end,
      ...get(kj),
      ...get(ksB),
      ...op.i32Add,
      ...set(kj),
    ]),
  ];
  // p_j = f32(exp(f32(s_j) - max)); sum of the unrounded exps in key order
  const softmax = [
    ...op.f64(0),
    ...set(sum),
    ...upTo(jb, Lb, 8, [
      ...get(p),
      ...get(jb),
      ...op.i32Add,
      ...op.f64LoadAt(0),
      ...get(max),
      ...op.f64Sub,
      ...set(x),
      ...outsideExpRange(x),
      ...op.if,
      ...op.i32(1),
      ...op.return,
      ...op.end,
      ...fastExpF64(x, kf, r, r2, tab),
      ...set(e),
      ...get(p),
      ...get(jb),
      ...op.i32Add,
      ...get(e),
      ...viaF32,
      ...op.f64StoreAt(0),
      ...get(sum),
      ...get(e),
      ...op.f64Add,
      ...set(sum),
    ]),
    ...op.f64(1),
    ...get(sum),
    ...op.f64Div,
    ...op.f64x2Splat,
    ...set(inv),
  ];
  /** out dims c.. c+2n-1 = (sum_j p_j v_j) * inv with n f64x2 running sums, keys in order. */
  const weighted = (n: number) => [
    ...acc.slice(0, n).flatMap((a) => [...op.f64(0), ...op.f64x2Splat, ...set(a)]),
    ...get(vh),
    ...get(c),
    ...op.i32Add,
    ...set(vj),
    ...upTo(jb, Lb, 8, [
      ...get(p),
      ...get(jb),
      ...op.i32Add,
      ...op.v128Load64SplatAt(0),
      ...set(pv),
      ...acc
        .slice(0, n)
        .flatMap((a, i) => [
          ...get(a),
          ...get(pv),
          ...get(vj),
          ...op.v128Load64ZeroAt(8 * i),
          ...op.f64x2PromoteLowF32x4,
          ...op.f64x2Mul,
          ...op.f64x2Add,
          ...set(a),
        ]),
      ...get(vj),
      ...get(ksB),
      ...op.i32Add,
      ...set(vj),
    ]),
    ...acc
      .slice(0, n)
      .flatMap((a, i) => [
        ...get(oh),
        ...get(c),
        ...op.i32Add,
        ...get(a),
        ...get(inv),
        ...op.f64x2Mul,
        ...op.f32x4DemoteF64x2Zero,
        ...op.v128Store64LaneAt(8 * i, 0),
      ]),
  ];
  // eight dims per pass over the keys, then four when hd % 8 == 4
  const output = [
    ...forLoop(
      c,
      op.i32(0),
      [...get(c), ...op.i32(32), ...op.i32Add, ...get(hdB), ...op.i32GtS],
      op.i32(32),
      weighted(4),
    ),
    ...get(c),
    ...get(hdB),
    ...op.i32LtU,
    ...op.if,
    ...weighted(2),
    ...op.end,
  ];
  const head = [
    ...get(q),
    ...get(h),
    ...get(hdB),
    ...op.i32Mul,
    ...op.i32Add,
    ...set(qh),
    ...get(out),
    ...get(h),
    ...get(hdB),
    ...op.i32Mul,
    ...op.i32Add,
    ...set(oh),
    ...get(h),
    ...get(rep),
    ...op.i32DivU,
    ...get(hdB),
    ...op.i32Mul,
    ...tee(kh),
    ...get(v),
    ...op.i32Add,
    ...set(vh),
    ...get(kh),
    ...get(k),
    ...op.i32Add,
    ...set(kh),
    ...scores,
    ...softmax,
    ...output,
  ];
  const body = [...get(L), ...op.i32(8), ...op.i32Mul, ...set(Lb), ...upTo(h, H, 1, head), ...op.i32(0)];
  return { name: "attnDecode", params: f.params, results: [I32], locals: f.locals, body };
}

/** The kernels' exports; addresses are byte addresses in the instance's memory. */
export interface DecodeKernels {
  attnDecode(
    q: number,
    out: number,
    k: number,
    v: number,
    L: number,
    H: number,
    rep: number,
    hdB: number,
    ksB: number,
    scale: number,
    p: number,
    tab: number,
  ): number;
}

let compiled: WasmModule | null | undefined;

/** The compiled module, or null where this runtime has no WebAssembly SIMD (the decode step stays in JavaScript). */
export function decodeModule(): WasmModule | null {
  if (compiled === undefined)
    compiled = compileKernels("the decode kernels", ["simd"], () => buildModule([attnDecode()]));
  return compiled;
}
