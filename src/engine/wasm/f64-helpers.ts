/**
 * Building blocks of the float64 WebAssembly kernels (decode-kernels.ts, exact-kernels.ts) that reproduce
 * JavaScript's double arithmetic exactly: loops, f32 pairs widened to f64x2, splatted constants, and fastExp on two
 * lanes with fastExp's own constants, table and order of operations.
 */

import { type Frame, op, V128 } from "./module-builder.js";
import { FAST_EXP } from "../ops/fast-exp.js";

const { get, set, tee } = op;

/** Bytes of fastExp's 2^(k/32) table, which each memory the kernels run on holds at byte address `tab`. */
export const EXP_TABLE_BYTES = FAST_EXP.POW2_32.length * 8;

/** `for (i = from; cond(i); i += step) body`: `from` and `step` push an i32, `exit` pushes 1 when the loop ends. */
export function forLoop(i: number, from: number[], exit: number[], step: number[], body: number[]): number[] {
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
export const upTo = (i: number, n: number, step: number, body: number[]) =>
  forLoop(i, op.i32(0), [...get(i), ...get(n), ...op.i32GeU], op.i32(step), body);

/** Two f32 at byte address (p + off) as an f64x2 (exact). */
export const pairAt = (p: number, off: number) => [...get(p), ...op.v128Load64ZeroAt(off), ...op.f64x2PromoteLowF32x4];

/**
 * Splatted f64 constants in v128 locals set once in the prologue (V8 otherwise rematerialises a v128.const inside a
 * loop). `c(x)` pushes the constant.
 */
export class Consts64 {
  private readonly idx = new Map<number, number>();
  constructor(private readonly f: Frame) {}
  c(x: number): number[] {
    let i = this.idx.get(x);
    if (i === undefined) this.idx.set(x, (i = this.f.local(V128)));
    return get(i);
  }
  get prologue(): number[] {
    return [...this.idx.entries()].flatMap(([x, i]) => [...op.f64(x), ...op.f64x2Splat, ...set(i)]);
  }
}

/** Scratch locals of fastExpF64x2: v128 x, kf, r, r2, ix. */
export interface ExpLocals {
  x: number;
  kf: number;
  r: number;
  r2: number;
  ix: number;
}

/** Declares fastExpF64x2's scratch locals in frame f. */
export function expLocals(f: Frame): ExpLocals {
  const [x, kf, r, r2, ix] = f.localsOf(5, V128);
  return { x, kf, r, r2, ix };
}

/**
 * Replaces the f64x2 on the stack by fastExp of each lane (arguments in the fast range), in fastExp's operations and
 * order: kf = x * 32log2e + M - M; r = x - kf * ln2/32; (1 + r + r2 * (1/2 + r/6 + r2/24)) * POW2_32[(kf | 0) +
 * K_OFF], the table at byte address `tab` (an i32 local). The two table addresses come from one truncation
 * (saturating: NaN gives 0, as `| 0` does, so a NaN argument still reads inside the table and gives NaN).
 */
export function fastExpF64x2(K: Consts64, l: ExpLocals, tab: number): number[] {
  const { x, kf, r, r2, ix } = l;
  /** POW2_32 entry of lane i of ix */
  const entry = (i: number) => [...get(ix), ...op.i32x4ExtractLane(i), ...op.f64LoadAt(0)];
  return [
    ...tee(x),
    ...K.c(FAST_EXP.STEPS_LOG2E),
    ...op.f64x2Mul,
    ...K.c(FAST_EXP.ROUND_MAGIC),
    ...op.f64x2Add,
    ...K.c(FAST_EXP.ROUND_MAGIC),
    ...op.f64x2Sub,
    ...tee(kf),
    // byte addresses tab + 8 ((kf | 0) + K_OFF), lanes 0 and 1
    ...op.i32x4TruncSatF64x2SZero,
    ...op.i32(FAST_EXP.K_OFF),
    ...op.i32x4Splat,
    ...op.i32x4Add,
    ...op.i32(3),
    ...op.i32x4Shl,
    ...get(tab),
    ...op.i32x4Splat,
    ...op.i32x4Add,
    ...set(ix),
    ...get(x),
    ...get(kf),
    ...K.c(FAST_EXP.LN2_STEPS),
    ...op.f64x2Mul,
    ...op.f64x2Sub,
    ...tee(r),
    ...get(r),
    ...op.f64x2Mul,
    ...set(r2),
    // (1 + r) + r2 * ((0.5 + r * (1/6)) + r2 * (1/24))
    ...K.c(1),
    ...get(r),
    ...op.f64x2Add,
    ...get(r2),
    ...K.c(0.5),
    ...get(r),
    ...K.c(1 / 6),
    ...op.f64x2Mul,
    ...op.f64x2Add,
    ...get(r2),
    ...K.c(1 / 24),
    ...op.f64x2Mul,
    ...op.f64x2Add,
    ...op.f64x2Mul,
    ...op.f64x2Add,
    ...entry(0),
    ...op.f64x2Splat,
    ...entry(1),
    ...op.f64x2ReplaceLane(1),
    ...op.f64x2Mul,
  ];
}

/**
 * Pushes 1 when a lane of f64x2 local x is outside fastExp's fast range (JS: `x < -FAST_R || x > FAST_R`, where
 * fastExp calls Math.exp, which a kernel cannot reproduce: the caller then computes those values in JavaScript).
 */
export const outsideExpRange = (K: Consts64, x: number) => [
  ...get(x),
  ...K.c(-FAST_EXP.FAST_R),
  ...op.f64x2Lt,
  ...get(x),
  ...K.c(FAST_EXP.FAST_R),
  ...op.f64x2Gt,
  ...op.v128Or,
  ...op.v128AnyTrue,
];
