/**
 * The engine's WebAssembly SIMD (f32x4) kernels, written with module-builder.ts and compiled once at load time.
 * Each works in place on Float32Array views of one WebAssembly.Memory (see arena.ts): arguments are byte addresses in
 * that memory plus a byte count that is a multiple of 16; the caller does the (< 4 element) tail in JavaScript.
 * Arithmetic is float32 throughout (the JS loops compute in float64 and round on store), so results differ from the
 * JS path by a few float32 ulps; test/engine/simd.test.ts bounds that.
 */

import { buildModule, F32, Frame, I32, op, V128, type WasmFunc } from "./module-builder.js";
import type { WasmModule } from "./wasm-api.js";
import { compileKernels, type WasmFeature } from "./compile.js";

const { get, set, tee } = op;

/** `for (i = 0; i < n; i += 16) body` over byte offsets; i and n are i32 locals. */
function loop16(i: number, n: number, body: number[]): number[] {
  return loopBy(i, n, op.i32(16), body);
}

/** `for (i = 0; i < n; i += step) body`; step is the code pushing the i32 increment. */
function loopBy(i: number, n: number, step: number[], body: number[]): number[] {
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
    ...step,
    ...op.i32Add,
    ...set(i),
    ...op.br(0),
    ...op.end,
    ...op.end,
  ];
}

/**
 * Splatted f32 constants held in v128 locals, set once before the loop: V8 otherwise rematerialises every v128.const
 * inside the loop body. `c(x)` pushes the constant; `locals`/`prologue` go into the function.
 */
class Consts {
  private readonly idx = new Map<number, number>();
  constructor(private readonly first: number) {}
  c(x: number): number[] {
    let i = this.idx.get(x);
    if (i === undefined) this.idx.set(x, (i = this.first + this.idx.size));
    return get(i);
  }
  get locals(): number[] {
    return [...this.idx.keys()].map(() => V128);
  }
  get prologue(): number[] {
    return [...this.idx.entries()].flatMap(([x, i]) => [...op.f32x4(x), ...set(i)]);
  }
}

/** v128 at byte address p + i. */
const load = (p: number, i: number) => [...get(p), ...get(i), ...op.i32Add, ...op.v128Load];
/** Pushes the address p + i (the value to store follows, then op.v128Store). */
const at = (p: number, i: number) => [...get(p), ...get(i), ...op.i32Add];
/** Address p + row + i (a row-major matrix element), and the v128 there. */
const at2 = (p: number, row: number, i: number) => [...get(p), ...get(row), ...op.i32Add, ...get(i), ...op.i32Add];
const load2 = (p: number, row: number, i: number) => [...at2(p, row, i), ...op.v128Load];
/** The four f32 lanes of v128 local v combined pairwise by `combine` ((l0 . l1) . (l2 . l3)), an f32 on the stack. */
const hreduce = (v: number, combine: readonly number[]) => [
  ...get(v),
  ...op.f32x4ExtractLane(0),
  ...get(v),
  ...op.f32x4ExtractLane(1),
  ...combine,
  ...get(v),
  ...op.f32x4ExtractLane(2),
  ...get(v),
  ...op.f32x4ExtractLane(3),
  ...combine,
  ...combine,
];
/** Sum of the four f32 lanes of v128 local v. */
const hsum = (v: number) => hreduce(v, op.f32Add);

// exp(x) in float32 (the Cephes expf scheme): x clamped to [-87, 88] so 2^k stays a normal float; k = round(x/ln2);
// r = x - k ln2 with ln2 split in two parts so k*ln2_hi is exact; e^r on |r| <= ln2/2 by a degree-7 polynomial
// (about 1 ulp); 2^k built from its exponent bits ((k + 127) << 23). NaN stays NaN (min/max propagate it).
// Rounding uses the float trick instead of f32x4.nearest + i32x4.trunc_sat: t = x log2e + (1.5 * 2^23 + 127) has
// ulp 1, so the add rounds to nearest and t's low mantissa bits hold k + 127; shifting t's bits left by 23 drops the
// rest and leaves exactly the exponent field of 2^k.
const ROUND_BIAS = 1.5 * 2 ** 23 + 127;
const LOG2E = 1.4426950408889634;
const LN2_HI = 0.693359375;
const LN2_LO = -2.1219444e-4;
const EXP_P = [1.98756915e-4, 1.39819995e-3, 8.33345191e-3, 4.16657959e-2, 1.66666655e-1, 5.00000012e-1];

/** Replaces the v128 on the stack by its lane-wise exp; uses scratch v128 locals x, k and t. */
function expV(x: number, k: number, t: number, K: Consts): number[] {
  const horner: number[] = [...K.c(EXP_P[0])];
  for (const c of EXP_P.slice(1)) horner.push(...get(x), ...op.f32x4Mul, ...K.c(c), ...op.f32x4Add);
  return [
    ...K.c(-87),
    ...op.f32x4Max,
    ...K.c(88),
    ...op.f32x4Min,
    ...tee(x),
    ...K.c(LOG2E),
    ...op.f32x4Mul,
    ...K.c(ROUND_BIAS),
    ...op.f32x4Add,
    ...tee(t),
    ...K.c(ROUND_BIAS),
    ...op.f32x4Sub,
    ...set(k),
    // x := r = x - k ln2_hi - k ln2_lo
    ...get(x),
    ...get(k),
    ...K.c(LN2_HI),
    ...op.f32x4Mul,
    ...op.f32x4Sub,
    ...get(k),
    ...K.c(LN2_LO),
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
    ...K.c(1),
    ...op.f32x4Add,
    // * 2^k
    ...get(t),
    ...op.i32(23),
    ...op.i32x4Shl,
    ...op.f32x4Mul,
  ];
}

/** swigluFwd(out, sig, gate, up, bytes): sig = 1 / (1 + exp(-gate)), out = gate * sig * up. */
function swigluFwd(): WasmFunc {
  const f = new Frame();
  const out = f.param(I32);
  const sig = f.param(I32);
  const gate = f.param(I32);
  const up = f.param(I32);
  const n = f.param(I32);
  const i = f.local(I32);
  const g = f.local(V128);
  const s = f.local(V128);
  const x = f.local(V128);
  const k = f.local(V128);
  const t = f.local(V128);
  const K = new Consts(f.next);
  const body = loop16(i, n, [
    ...load(gate, i),
    ...tee(g),
    ...op.f32x4Neg,
    ...expV(x, k, t, K),
    ...K.c(1),
    ...op.f32x4Add,
    ...set(s),
    ...K.c(1),
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
  ]);
  return {
    name: "swigluFwd",
    params: f.params,
    results: [],
    locals: [...f.locals, ...K.locals],
    body: [...K.prologue, ...body],
  };
}

/** swigluBwd(dgate, dup, dout, gate, up, sig, bytes): dgate += dout up s (1 + g (1 - s)), dup += dout g s. */
function swigluBwd(): WasmFunc {
  const f = new Frame();
  const dgate = f.param(I32);
  const dup = f.param(I32);
  const dout = f.param(I32);
  const gate = f.param(I32);
  const up = f.param(I32);
  const sig = f.param(I32);
  const n = f.param(I32);
  const i = f.local(I32);
  const g = f.local(V128);
  const s = f.local(V128);
  const d = f.local(V128);
  const K = new Consts(f.next);
  const body = loop16(i, n, [
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
    ...K.c(1),
    ...get(g),
    ...K.c(1),
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
  ]);
  return {
    name: "swigluBwd",
    params: f.params,
    results: [],
    locals: [...f.locals, ...K.locals],
    body: [...K.prologue, ...body],
  };
}

/**
 * rmsFwd(out, rstd, inp, w, totalBytes, rowBytes, invC, eps): per row r = 1 / sqrt(sum(x^2) invC + eps), saved to
 * rstd; out = x r w. Rows of rowBytes (a multiple of 16), N = totalBytes / rowBytes.
 */
function rmsFwd(): WasmFunc {
  const f = new Frame();
  const out = f.param(I32);
  const rstd = f.param(I32);
  const inp = f.param(I32);
  const w = f.param(I32);
  const total = f.param(I32);
  const rowB = f.param(I32);
  const invC = f.param(F32);
  const eps = f.param(F32);
  const row = f.local(I32);
  const i = f.local(I32);
  const acc = f.local(V128);
  const r = f.local(V128);
  const x = f.local(V128);
  const rs = f.local(F32); // the row's rstd
  const body = [
    ...op.i32(0),
    ...set(row),
    ...loopBy(row, total, get(rowB), [
      ...op.f32x4(0),
      ...set(acc),
      ...loop16(i, rowB, [
        ...load2(inp, row, i),
        ...tee(x),
        ...get(x),
        ...op.f32x4Mul,
        ...get(acc),
        ...op.f32x4Add,
        ...set(acc),
      ]),
      ...op.f32(1),
      ...hsum(acc),
      ...get(invC),
      ...op.f32Mul,
      ...get(eps),
      ...op.f32Add,
      ...op.f32Sqrt,
      ...op.f32Div,
      ...set(rs),
      ...get(rstd),
      ...get(rs),
      ...op.f32Store,
      ...get(rstd),
      ...op.i32(4),
      ...op.i32Add,
      ...set(rstd),
      ...get(rs),
      ...op.f32x4Splat,
      ...set(r),
      ...loop16(i, rowB, [
        ...at2(out, row, i),
        ...load2(inp, row, i),
        ...get(r),
        ...op.f32x4Mul,
        ...load(w, i),
        ...op.f32x4Mul,
        ...op.v128Store,
      ]),
    ]),
  ];
  return {
    name: "rmsFwd",
    params: f.params,
    results: [],
    locals: f.locals,
    body,
  };
}

/**
 * rmsBwd(dinp, dw, dout, inp, w, rstd, totalBytes, rowBytes, invC): with xhat = x r and m = mean(dout w xhat):
 * dinp += r (dout w - xhat m), dw += dout xhat (dw: C floats, accumulated over the rows).
 */
function rmsBwd(): WasmFunc {
  const f = new Frame();
  const dinp = f.param(I32);
  const dw = f.param(I32);
  const dout = f.param(I32);
  const inp = f.param(I32);
  const w = f.param(I32);
  const rstd = f.param(I32);
  const total = f.param(I32);
  const rowB = f.param(I32);
  const invC = f.param(F32);
  const row = f.local(I32);
  const i = f.local(I32);
  const acc = f.local(V128);
  const r = f.local(V128);
  const m = f.local(V128);
  const d = f.local(V128);
  const xh = f.local(V128);
  const rs = f.local(F32);
  const body = [
    ...op.i32(0),
    ...set(row),
    ...loopBy(row, total, get(rowB), [
      ...get(rstd),
      ...op.f32Load,
      ...tee(rs),
      ...op.f32x4Splat,
      ...set(r),
      ...get(rstd),
      ...op.i32(4),
      ...op.i32Add,
      ...set(rstd),
      ...op.f32x4(0),
      ...set(acc),
      ...loop16(i, rowB, [
        ...load2(dout, row, i),
        ...load(w, i),
        ...op.f32x4Mul,
        ...load2(inp, row, i),
        ...op.f32x4Mul,
        ...get(acc),
        ...op.f32x4Add,
        ...set(acc),
      ]),
      ...hsum(acc),
      ...get(rs),
      ...op.f32Mul,
      ...get(invC),
      ...op.f32Mul,
      ...op.f32x4Splat,
      ...set(m),
      ...loop16(i, rowB, [
        ...load2(inp, row, i),
        ...get(r),
        ...op.f32x4Mul,
        ...set(xh),
        ...load2(dout, row, i),
        ...set(d),
        ...at(dw, i),
        ...load(dw, i),
        ...get(d),
        ...get(xh),
        ...op.f32x4Mul,
        ...op.f32x4Add,
        ...op.v128Store,
        ...at2(dinp, row, i),
        ...load2(dinp, row, i),
        ...get(r),
        ...get(d),
        ...load(w, i),
        ...op.f32x4Mul,
        ...get(xh),
        ...get(m),
        ...op.f32x4Mul,
        ...op.f32x4Sub,
        ...op.f32x4Mul,
        ...op.f32x4Add,
        ...op.v128Store,
      ]),
    ]),
  ];
  return {
    name: "rmsBwd",
    params: f.params,
    results: [],
    locals: f.locals,
    body,
  };
}

/**
 * softmaxCausal(p, rows, L, off): in-place causal softmax of a (rows, L) block at byte address p; row t sees keys
 * 0..min(off + t, L - 1), later keys get 0. Each row runs over whole vectors up to its last key; lanes past it are
 * masked (-inf for the max, 0 after the exp), and the rest of the row is zero-filled. L must be a multiple of 4.
 */
function softmaxCausal(): WasmFunc {
  const f = new Frame();
  const p = f.param(I32);
  const rows = f.param(I32);
  const L = f.param(I32);
  const off = f.param(I32);
  const t = f.local(I32);
  const n = f.local(I32);
  const nb = f.local(I32);
  const lb = f.local(I32);
  const j = f.local(I32);
  const rowp = f.local(I32);
  const idx = f.local(V128);
  const nspl = f.local(V128);
  const mx = f.local(V128);
  const acc = f.local(V128);
  const x = f.local(V128);
  const k = f.local(V128);
  const tt = f.local(V128);
  const iota = f.local(V128);
  const four = f.local(V128);
  const K = new Consts(f.next);
  /** Lane mask of the vector at byte offset j: key index < n. */
  const mask = [...get(idx), ...get(nspl), ...op.i32x4LtS];
  const nextIdx = [...get(idx), ...get(four), ...op.i32x4Add, ...set(idx)];
  const row = [
    // n = min(off + t + 1, L) keys; nb = bytes of the whole vectors covering them
    ...get(off),
    ...get(t),
    ...op.i32Add,
    ...op.i32(1),
    ...op.i32Add,
    ...set(n),
    ...get(L),
    ...get(n),
    ...get(n),
    ...get(L),
    ...op.i32GtS,
    ...op.select, // n > L ? L : n
    ...tee(n),
    ...op.i32x4Splat,
    ...set(nspl),
    ...get(n),
    ...op.i32(3),
    ...op.i32Add,
    ...op.i32(-4),
    ...op.i32And,
    ...op.i32(4),
    ...op.i32Mul,
    ...set(nb),
    // max over the row's keys
    ...get(iota),
    ...set(idx),
    ...K.c(-Infinity),
    ...set(mx),
    ...loop16(j, nb, [
      ...get(mx),
      ...load(rowp, j),
      ...K.c(-Infinity),
      ...mask,
      ...op.v128Bitselect,
      ...op.f32x4Max,
      ...set(mx),
      ...nextIdx,
    ]),
    ...hreduce(mx, op.f32Max),
    ...op.f32x4Splat,
    ...set(mx),
    // e = exp(x - max) on keys, 0 past them; acc = sum
    ...get(iota),
    ...set(idx),
    ...K.c(0),
    ...set(acc),
    ...loop16(j, nb, [
      ...at(rowp, j),
      ...load(rowp, j),
      ...get(mx),
      ...op.f32x4Sub,
      ...expV(x, k, tt, K),
      ...mask,
      ...op.v128And,
      ...tee(x),
      ...get(x),
      ...get(acc),
      ...op.f32x4Add,
      ...set(acc),
      ...op.v128Store,
      ...nextIdx,
    ]),
    ...op.f32(1),
    ...hsum(acc),
    ...op.f32Div,
    ...op.f32x4Splat,
    ...set(acc),
    ...loop16(j, nb, [...at(rowp, j), ...load(rowp, j), ...get(acc), ...op.f32x4Mul, ...op.v128Store]),
    // zero the keys this row does not see
    ...get(nb),
    ...set(j),
    ...op.block,
    ...op.loop,
    ...get(j),
    ...get(lb),
    ...op.i32GeU,
    ...op.brIf(1),
    ...at(rowp, j),
    ...K.c(0),
    ...op.v128Store,
    ...get(j),
    ...op.i32(16),
    ...op.i32Add,
    ...set(j),
    ...op.br(0),
    ...op.end,
    ...op.end,
    ...get(rowp),
    ...get(lb),
    ...op.i32Add,
    ...set(rowp),
  ];
  const body = [
    ...op.i32x4(0, 1, 2, 3),
    ...set(iota),
    ...op.i32x4(4),
    ...set(four),
    ...get(L),
    ...op.i32(4),
    ...op.i32Mul,
    ...set(lb),
    ...get(p),
    ...set(rowp),
    ...op.i32(0),
    ...set(t),
    ...op.block,
    ...op.loop,
    ...get(t),
    ...get(rows),
    ...op.i32GeU,
    ...op.brIf(1),
    ...row,
    ...get(t),
    ...op.i32(1),
    ...op.i32Add,
    ...set(t),
    ...op.br(0),
    ...op.end,
    ...op.end,
  ];
  return {
    name: "softmaxCausal",
    params: f.params,
    results: [],
    locals: [...f.locals, ...K.locals],
    body: [...K.prologue, ...body],
  };
}

/** expTest(dst, src, bytes): dst = exp(src), exported for the tests of the exp approximation. */
function expTest(): WasmFunc {
  const f = new Frame();
  const dst = f.param(I32);
  const src = f.param(I32);
  const n = f.param(I32);
  const i = f.local(I32);
  const x = f.local(V128);
  const k = f.local(V128);
  const t = f.local(V128);
  const K = new Consts(f.next);
  const body = loop16(i, n, [...at(dst, i), ...load(src, i), ...expV(x, k, t, K), ...op.v128Store]);
  return {
    name: "exp",
    params: f.params,
    results: [],
    locals: [...f.locals, ...K.locals],
    body: [...K.prologue, ...body],
  };
}

/** The kernels' exports, all taking byte addresses into the instance's memory. */
export interface SimdKernels {
  swigluFwd(out: number, sig: number, gate: number, up: number, bytes: number): void;
  swigluBwd(dgate: number, dup: number, dout: number, gate: number, up: number, sig: number, bytes: number): void;
  exp(dst: number, src: number, bytes: number): void;
  softmaxCausal(p: number, rows: number, L: number, off: number): void;
  rmsFwd(
    out: number,
    rstd: number,
    inp: number,
    w: number,
    total: number,
    rowB: number,
    invC: number,
    eps: number,
  ): void;
  rmsBwd(
    dinp: number,
    dw: number,
    dout: number,
    inp: number,
    w: number,
    rstd: number,
    total: number,
    rowB: number,
    invC: number,
  ): void;
}

const compiled = new Map<boolean, WasmModule | null>();

/**
 * The compiled module, or null where this runtime has no WebAssembly SIMD (then every op stays in JavaScript). With
 * `shared`, the variant importing a shared memory (arenas that the wasm gemm also computes in; see arena.ts).
 */
export function simdModule(shared = false): WasmModule | null {
  if (!compiled.has(shared)) {
    const features: WasmFeature[] = shared ? ["simd", "shared-memory"] : ["simd"];
    const funcs = () => [swigluFwd(), swigluBwd(), expTest(), rmsFwd(), rmsBwd(), softmaxCausal()];
    compiled.set(
      shared,
      compileKernels("the elementwise SIMD kernels", features, () =>
        buildModule(funcs(), shared ? { maxPages: 65536 } : undefined),
      ),
    );
  }
  return compiled.get(shared) ?? null;
}
