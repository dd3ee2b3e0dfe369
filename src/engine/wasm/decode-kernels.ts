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
import { Consts64, expLocals, fastExpF64x2, outsideExpRange, pairAt, upTo } from "./f64-helpers.js";
import type { WasmModule } from "./wasm-api.js";

const { get, set, tee } = op;

/** i8x16.shuffle lanes picking f64 lane 0 (lo) or 1 (hi) of a then of b: (a.l, b.l). */
const LO = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];
const HI = [8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31];

/**
 * attnDecode(q, out, k, v, L, H, rep, ksB, scale, p, tab) -> 0, or 1 when an exp argument left fastExp's fast range
 * (out is then partly written; the caller redoes the row in JavaScript). Built for one head width hd (a multiple of
 * 4; the loops over head dims are unrolled). One decode query of every head of one batch row: q and out (H, hd) f32
 * at byte addresses q/out, the row's cache k/v at byte addresses k/v (position stride ksB bytes), keys 0..L-1, query
 * head h reading kv head h / rep; p is f64 scratch of L + 1 values. Per head, as attentionDecodeRow computes:
 * s_j = ((s0 + s1) + (s2 + s3)) * scale with s0..s3 the running sums of dims 0,4,.. / 1,5,.. / 2,6,.. / 3,7,..;
 * p_j = f32(fastExp(f32(s_j) - max)), sum += the unrounded exps in key order; out_i = f32((sum_j p_j v_ji) * (1/sum)).
 * Keys go two at a time (lane 0 key j, lane 1 key j + 1, which repeats key j past the last key and is then unused).
 */
function attnDecode(hd: number): WasmFunc {
  const hdB = 4 * hd;
  const f = new Frame();
  const q = f.param(I32);
  const out = f.param(I32);
  const k = f.param(I32);
  const v = f.param(I32);
  const L = f.param(I32);
  const H = f.param(I32);
  const rep = f.param(I32);
  const ksB = f.param(I32);
  const scale = f.param(F64);
  const p = f.param(I32);
  const tab = f.param(I32);
  const h = f.local(I32);
  const jb = f.local(I32); // byte offset of key j in p (8 j)
  const Lb = f.local(I32); // 8 L
  const qh = f.local(I32);
  const oh = f.local(I32);
  const kh = f.local(I32);
  const vh = f.local(I32);
  const kj = f.local(I32); // key j's head vector
  const kj2 = f.local(I32); // key j + 1's (key j's past the last key)
  const vj = f.local(I32);
  const max = f.local(F64);
  const sum = f.local(F64);
  const scaleV = f.local(V128);
  const maxV = f.local(V128);
  const sv = f.local(V128);
  const ev = f.local(V128);
  const el = expLocals(f);
  const pv = f.local(V128);
  const inv = f.local(V128);
  // running sums: key j's (s0, s1), (s2, s3), key j + 1's
  const [a01, a23, b01, b23] = f.localsOf(4, V128);
  const hoistQ = hd <= 32; // q's dims as f64 pairs in locals (up to 16 v128 registers' worth)
  const qv = hoistQ ? f.localsOf(hd / 2, V128) : [];
  const acc = f.localsOf(8, V128);
  const K = new Consts64(f);

  /** q dims 2m, 2m + 1 as an f64x2. */
  const qPair = (m: number) => (hoistQ ? get(qv[m]) : pairAt(qh, 8 * m));
  const dot = (sumV: number, key: number, m: number) => [
    ...get(sumV),
    ...qPair(m),
    ...pairAt(key, 8 * m),
    ...op.f64x2Mul,
    ...op.f64x2Add,
    ...set(sumV),
  ];
  const dims4 = Array.from({ length: hd / 4 }, (_, i) => i);
  /** (x.l of a, x.l of b) for f64x2 locals a, b. */
  const pick = (a: number, b: number, lanes: number[]) => [...get(a), ...get(b), ...op.i8x16Shuffle(lanes)];
  /** if (lane l of sv > max) max = lane l */
  const maxLane = (l: number) => [
    ...get(sv),
    ...op.f64x2ExtractLane(l),
    ...get(max),
    ...op.f64Gt,
    ...op.if,
    ...get(sv),
    ...op.f64x2ExtractLane(l),
    ...set(max),
    ...op.end,
  ];
  const secondKey = [...get(jb), ...op.i32(8), ...op.i32Add, ...get(Lb), ...op.i32LtU]; // key j + 1 exists
  // scores: s_j for two keys per pass; f32(s_j) kept as f64 in p; max over the unrounded s_j in key order
  const scores = [
    ...op.f64(-Infinity),
    ...set(max),
    ...get(kh),
    ...set(kj),
    ...upTo(jb, Lb, 16, [
      ...get(kj),
      ...get(ksB),
      ...op.i32Add,
      ...get(kj),
      ...secondKey,
      ...op.select,
      ...set(kj2),
      ...K.c(0),
      ...tee(a01),
      ...tee(a23),
      ...tee(b01),
      ...set(b23),
      ...dims4.flatMap((m) => [...dot(a01, kj, 2 * m), ...dot(a23, kj, 2 * m + 1)]),
      ...dims4.flatMap((m) => [...dot(b01, kj2, 2 * m), ...dot(b23, kj2, 2 * m + 1)]),
      // per key: ((s0 + s1) + (s2 + s3)) * scale
      ...pick(a01, b01, LO),
      ...pick(a01, b01, HI),
      ...op.f64x2Add,
      ...pick(a23, b23, LO),
      ...pick(a23, b23, HI),
      ...op.f64x2Add,
      ...op.f64x2Add,
      ...get(scaleV),
      ...op.f64x2Mul,
      ...set(sv),
      ...get(p),
      ...get(jb),
      ...op.i32Add,
      ...get(sv),
      ...op.f32x4DemoteF64x2Zero,
      ...op.f64x2PromoteLowF32x4,
      ...op.v128StoreAt(0),
      ...maxLane(0),
      ...secondKey,
      ...op.if,
      ...maxLane(1),
      ...op.end,
      ...get(kj),
      ...get(ksB),
      ...get(ksB),
      ...op.i32Add,
      ...op.i32Add,
      ...set(kj),
    ]),
  ];
  // p_j = f32(exp(f32(s_j) - max)), two keys per pass; sum of the unrounded exps in key order
  const softmax = [
    ...op.f64(0),
    ...set(sum),
    ...get(max),
    ...op.f64x2Splat,
    ...set(maxV),
    ...upTo(jb, Lb, 16, [
      ...get(p),
      ...get(jb),
      ...op.i32Add,
      ...op.v128LoadAt(0),
      ...get(maxV),
      ...op.f64x2Sub,
      ...set(el.x),
      ...outsideExpRange(K, el.x),
      ...op.if,
      ...op.i32(1),
      ...op.return,
      ...op.end,
      ...get(el.x),
      ...fastExpF64x2(K, el, tab),
      ...set(ev),
      ...get(p),
      ...get(jb),
      ...op.i32Add,
      ...get(ev),
      ...op.f32x4DemoteF64x2Zero,
      ...op.f64x2PromoteLowF32x4,
      ...op.v128StoreAt(0),
      ...get(sum),
      ...get(ev),
      ...op.f64x2ExtractLane(0),
      ...op.f64Add,
      ...set(sum),
      ...secondKey,
      ...op.if,
      ...get(sum),
      ...get(ev),
      ...op.f64x2ExtractLane(1),
      ...op.f64Add,
      ...set(sum),
      ...op.end,
    ]),
    ...op.f64(1),
    ...get(sum),
    ...op.f64Div,
    ...op.f64x2Splat,
    ...set(inv),
  ];
  /** out dims at byte offset c0.. (2n dims) = (sum_j p_j v_j) * inv, n f64x2 running sums, keys in order. */
  const weighted = (c0: number, n: number) => [
    ...acc.slice(0, n).flatMap((a) => [...K.c(0), ...set(a)]),
    ...get(vh),
    ...op.i32(c0),
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
        .flatMap((a, i) => [...get(a), ...get(pv), ...pairAt(vj, 8 * i), ...op.f64x2Mul, ...op.f64x2Add, ...set(a)]),
      ...get(vj),
      ...get(ksB),
      ...op.i32Add,
      ...set(vj),
    ]),
    ...acc
      .slice(0, n)
      .flatMap((a, i) => [
        ...get(oh),
        ...get(a),
        ...get(inv),
        ...op.f64x2Mul,
        ...op.f32x4DemoteF64x2Zero,
        ...op.v128Store64LaneAt(c0 + 8 * i, 0),
      ]),
  ];
  // up to 16 dims per pass over the keys
  const output: number[] = [];
  for (let c0 = 0; c0 < hd; c0 += 16) output.push(...weighted(4 * c0, Math.min(16, hd - c0) / 2));
  const head = [
    ...get(q),
    ...get(h),
    ...op.i32(hdB),
    ...op.i32Mul,
    ...op.i32Add,
    ...set(qh),
    ...get(out),
    ...get(h),
    ...op.i32(hdB),
    ...op.i32Mul,
    ...op.i32Add,
    ...set(oh),
    ...get(h),
    ...get(rep),
    ...op.i32DivU,
    ...op.i32(hdB),
    ...op.i32Mul,
    ...tee(kh),
    ...get(v),
    ...op.i32Add,
    ...set(vh),
    ...get(kh),
    ...get(k),
    ...op.i32Add,
    ...set(kh),
    ...qv.flatMap((qm, m) => [...pairAt(qh, 8 * m), ...set(qm)]),
    ...scores,
    ...softmax,
    ...output,
  ];
  const body = [
    ...get(scale),
    ...op.f64x2Splat,
    ...set(scaleV),
    ...get(L),
    ...op.i32(8),
    ...op.i32Mul,
    ...set(Lb),
    ...upTo(h, H, 1, head),
    ...op.i32(0),
  ];
  return { name: "attnDecode", params: f.params, results: [I32], locals: f.locals, body: [...K.prologue, ...body] };
}

/** The kernels' exports; addresses are byte addresses in the instance's memory. */
export interface AttnKernels {
  attnDecode(
    q: number,
    out: number,
    k: number,
    v: number,
    L: number,
    H: number,
    rep: number,
    ksB: number,
    scale: number,
    p: number,
    tab: number,
  ): number;
}

const compiled = new Map<number, WasmModule | null>();

/**
 * The module built for head width hd (a multiple of 4), or null where this runtime has no WebAssembly SIMD (the
 * decode step then stays in JavaScript). Compiled once per head width.
 */
export function attnModule(hd: number): WasmModule | null {
  if (hd % 4 !== 0) throw new RangeError(`attnModule: head width ${hd} is not a multiple of 4`);
  if (!compiled.has(hd))
    compiled.set(
      hd,
      compileKernels(`the decode kernels (hd ${hd})`, ["simd"], () => buildModule([attnDecode(hd)])),
    );
  return compiled.get(hd) ?? null;
}
