/**
 * The WebAssembly SIMD single-precision GEMM kernels, written with module-builder.ts: panel packing and a
 * register-blocked MR x NR macro-kernel. gemm-wasm.ts drives them (cache blocking, staging, threads).
 *
 * Reduction order (what makes results bit-identical on every machine and thread count): each C element is one f32x4
 * lane, accumulated from 0 by `acc = acc + a * b` (two roundings: plain mul then add) in increasing k within a KC
 * block; the block's sum then updates C as `beta * C + alpha * acc` for the first block and `1 * C + alpha * acc`
 * after. KC is a constant, so no machine, block placement or thread split changes a single rounding. The relaxed-SIMD
 * variant replaces mul + add by `f32x4.relaxed_madd`, which the engine may fuse (one rounding) or not depending on the
 * CPU: faster where it fuses, but then results differ across machines, so it is built only on explicit request.
 */

import { buildModule, F32, Frame, I32, op, V128, type WasmFunc } from "./module-builder.js";

const { get, set } = op;

/**
 * Micro-tile rows (A panel width) and columns (B panel width), multiples of 4. Measured on Node 20 (V8 11.3, x64,
 * 2026-12-04), 4096x172x64: 4x8 57 GFLOP/s; 4x12, 6x8, 8x4 25-30 (V8 spills past ~11 live v128 values, x64 having
 * 16 xmm registers); 2x16 and 3x8 about as 4x8.
 */
export const MR = 4;
export const NR = 8;
/**
 * k steps per iteration of the micro-kernel's inner loop (the rest run one at a time). Unrolling by 2 or 4 made V8
 * spill accumulators: 36 against 55 GFLOP/s.
 */
const UNROLL = 1;

/** `while (!(cond)) { body }` : `exit` is code leaving 1 (true) on the stack when the loop must end. */
function whileNot(exit: number[], body: number[]): number[] {
  return [...op.block, ...op.loop, ...exit, ...op.brIf(1), ...body, ...op.br(0), ...op.end, ...op.end];
}
/** local x += code-pushing-an-i32 */
const addTo = (x: number, delta: number[]) => [...get(x), ...delta, ...op.i32Add, ...set(x)];
/** i8x16.shuffle picking f32 lanes (0-3 from the first operand, 4-7 from the second). */
const shuffle32 = (lanes: number[]) => [0xfd, 0x0d, ...lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3])];

/**
 * pack{P}(src, sq, sk, n, kc, dst): copies the n x kc matrix X(q, k) = f32 at src + q*sq + k*sk (byte strides) into
 * panels of P rows, each panel k-major (P consecutive floats per k), rows past n zero-filled. With q = i and
 * (sq, sk) = (lda*4, 4) this packs A; with q = j it packs op(B). Contiguous panels (sq = 4) copy whole vectors,
 * panels contiguous in k (sk = 4) transpose 4 x 4 blocks with shuffles, the rest (and the edge panel) go by element.
 */
function packFn(P: number): WasmFunc {
  const f = new Frame();
  const src = f.param(I32);
  const sq = f.param(I32);
  const sk = f.param(I32);
  const n = f.param(I32);
  const kc = f.param(I32);
  const dst = f.param(I32);
  const p0 = f.local(I32);
  const k = f.local(I32);
  const base = f.local(I32);
  const ptr = f.local(I32);
  const rem = f.local(I32);
  const r = f.localsOf(4, V128);
  const t = f.localsOf(4, V128);

  // k loop over one panel with `step` k's per iteration; `bodyK` packs them and advances dst
  const kLoop = (step: number, bodyK: number[]) =>
    whileNot(
      [...get(k), ...op.i32(step - 1), ...op.i32Add, ...get(kc), ...op.i32GeU],
      [...bodyK, ...addTo(k, op.i32(step))],
    );
  const kLoopFrom0 = (step: number, bodyK: number[]) => [...op.i32(0), ...set(k), ...kLoop(step, bodyK)];
  // base = src + p0*sq + k*sk is kept incrementally: advance by sk per k
  const nextK = (count: number) => [
    ...addTo(base, [...get(sk), ...op.i32(count), ...op.i32Mul]),
    ...addTo(dst, op.i32(P * 4 * count)),
  ];

  // sq == 4, full panel: P floats per k are contiguous
  const contiguous = kLoopFrom0(1, [
    ...Array.from({ length: P / 4 }, (_, v) => [
      ...get(dst),
      ...get(base),
      ...op.v128LoadAt(16 * v),
      ...op.v128StoreAt(16 * v),
    ]).flat(),
    ...nextK(1),
  ]);

  // full panel, one element at a time (also the k tail of the transposing path)
  const scalarFull = [
    ...get(base),
    ...set(ptr),
    ...Array.from({ length: P }, (_, q) => [
      ...get(dst),
      ...get(ptr),
      ...op.f32LoadAt(0),
      ...op.f32StoreAt(4 * q),
      ...addTo(ptr, get(sq)),
    ]).flat(),
    ...nextK(1),
  ];

  // sk == 4, full panel: each row has 4 consecutive k's; transpose 4 rows x 4 k's into 4 k-major groups
  const transposeBlocks: number[] = [];
  for (let q0 = 0; q0 < P; q0 += 4) {
    transposeBlocks.push(...get(base), ...op.i32(q0), ...get(sq), ...op.i32Mul, ...op.i32Add, ...set(ptr));
    for (let i = 0; i < 4; i++)
      transposeBlocks.push(...get(ptr), ...op.v128LoadAt(0), ...set(r[i]), ...addTo(ptr, get(sq)));
    transposeBlocks.push(
      ...[...get(r[0]), ...get(r[1]), ...shuffle32([0, 4, 1, 5]), ...set(t[0])],
      ...[...get(r[0]), ...get(r[1]), ...shuffle32([2, 6, 3, 7]), ...set(t[1])],
      ...[...get(r[2]), ...get(r[3]), ...shuffle32([0, 4, 1, 5]), ...set(t[2])],
      ...[...get(r[2]), ...get(r[3]), ...shuffle32([2, 6, 3, 7]), ...set(t[3])],
    );
    const outs: [number, number, number[]][] = [
      [t[0], t[2], [0, 1, 4, 5]],
      [t[0], t[2], [2, 3, 6, 7]],
      [t[1], t[3], [0, 1, 4, 5]],
      [t[1], t[3], [2, 3, 6, 7]],
    ];
    outs.forEach(([x, y, lanes], kk) =>
      transposeBlocks.push(
        ...get(dst),
        ...get(x),
        ...get(y),
        ...shuffle32(lanes),
        ...op.v128StoreAt(4 * (kk * P + q0)),
      ),
    );
  }
  const transposing = [
    ...op.i32(0),
    ...set(k),
    ...kLoop(4, [...transposeBlocks, ...nextK(4)]),
    ...kLoop(1, scalarFull),
  ];

  // edge panel (rem < P rows): zero past the last row
  const scalarEdge = kLoopFrom0(1, [
    ...get(base),
    ...set(ptr),
    ...Array.from({ length: P }, (_, q) => [
      ...get(dst),
      ...op.i32(q),
      ...get(rem),
      ...op.i32LtS,
      ...op.ifF32,
      ...get(ptr),
      ...op.f32LoadAt(0),
      ...op.else,
      ...op.f32(0),
      ...op.end,
      ...op.f32StoreAt(4 * q),
      ...addTo(ptr, get(sq)),
    ]).flat(),
    ...nextK(1),
  ]);

  const panel = [
    ...get(n),
    ...get(p0),
    ...op.i32Sub,
    ...set(rem),
    ...get(src),
    ...get(p0),
    ...get(sq),
    ...op.i32Mul,
    ...op.i32Add,
    ...set(base),
    ...get(rem),
    ...op.i32(P),
    ...op.i32GeS,
    ...op.if,
    ...get(sq),
    ...op.i32(4),
    ...op.i32Eq,
    ...op.if,
    ...contiguous,
    ...op.else,
    ...get(sk),
    ...op.i32(P % 4 === 0 ? 4 : -1), // the 4 x 4 transposes need whole groups of 4 rows
    ...op.i32Eq,
    ...op.if,
    ...transposing,
    ...op.else,
    ...op.i32(0),
    ...set(k),
    ...kLoop(1, scalarFull),
    ...op.end,
    ...op.end,
    ...op.else,
    ...scalarEdge,
    ...op.end,
  ];
  const body = [
    ...op.i32(0),
    ...set(p0),
    ...whileNot([...get(p0), ...get(n), ...op.i32GeS], [...panel, ...addTo(p0, op.i32(P))]),
  ];
  return { name: `pack${P}`, params: f.params, results: [], locals: f.locals, body };
}

/**
 * macro(pa, pb, c, ldcB, rows, cols, kc, alphaBits, betaBits, mode, tmp): C block (rows x cols at byte address c, row stride
 * ldcB bytes) from packed A (rows padded to MR, kc deep) and packed B (cols padded to NR). Micro-tiles in jr-outer,
 * ir-inner order (the B micro-panel stays in L1 across the A panels). mode 0: C = alpha * acc (C is not read, so
 * NaNs there are overwritten); mode 1: C = beta * C + alpha * acc. Edge tiles go through `tmp` (MR*NR floats) and
 * take the same per-element operations one lane at a time.
 */
function macroFn(fma: boolean): WasmFunc {
  // alpha and beta arrive as their f32 bit patterns: an all-i32 signature keeps V8's fast JS-to-wasm call path
  const f = new Frame();
  const pa = f.param(I32);
  const pb = f.param(I32);
  const c = f.param(I32);
  const ldcB = f.param(I32);
  const rows = f.param(I32);
  const cols = f.param(I32);
  const kc = f.param(I32);
  const alpha = f.param(I32);
  const beta = f.param(I32);
  const mode = f.param(I32);
  const tmp = f.param(I32);
  const jr = f.local(I32);
  const ir = f.local(I32);
  const ap = f.local(I32);
  const bp = f.local(I32);
  const k = f.local(I32);
  const dst = f.local(I32);
  const ii = f.local(I32);
  const jj = f.local(I32);
  const ptr = f.local(I32);
  const alphaV = f.local(V128);
  const betaV = f.local(V128);
  const av = f.local(V128);
  const NV = NR / 4;
  const bv = f.localsOf(NV, V128);
  const acc = Array.from({ length: MR }, () => f.localsOf(NV, V128));
  const tAcc = f.local(F32);
  const alphaF = f.local(F32);
  const betaF = f.local(F32);

  // one k step at packed offsets u (in k's): acc[i][v] += splat(A[k][i]) * B[k][v]
  const kStep = (u: number) => {
    const code: number[] = [];
    for (let v = 0; v < NV; v++) code.push(...get(bp), ...op.v128LoadAt(4 * (u * NR + 4 * v)), ...set(bv[v]));
    for (let i = 0; i < MR; i++) {
      code.push(...get(ap), ...op.v128Load32SplatAt(4 * (u * MR + i)), ...set(av));
      for (let v = 0; v < NV; v++)
        code.push(
          ...(fma
            ? [...get(av), ...get(bv[v]), ...get(acc[i][v]), ...op.f32x4RelaxedMadd]
            : [...get(acc[i][v]), ...get(av), ...get(bv[v]), ...op.f32x4Mul, ...op.f32x4Add]),
          ...set(acc[i][v]),
        );
    }
    return code;
  };
  const advance = (steps: number) => [...addTo(ap, op.i32(4 * MR * steps)), ...addTo(bp, op.i32(4 * NR * steps))];

  const micro = [
    ...acc.flat().flatMap((a) => [...op.f32x4(0), ...set(a)]),
    ...op.i32(0),
    ...set(k),
    // unrolled: while k + UNROLL <= kc
    ...whileNot(
      [...get(k), ...op.i32(UNROLL), ...op.i32Add, ...get(kc), ...op.i32GtS],
      [...Array.from({ length: UNROLL }, (_, u) => kStep(u)).flat(), ...advance(UNROLL), ...addTo(k, op.i32(UNROLL))],
    ),
    ...(UNROLL > 1
      ? whileNot([...get(k), ...get(kc), ...op.i32GeS], [...kStep(0), ...advance(1), ...addTo(k, op.i32(1))])
      : []),
  ];

  // full tile: rows of C at dst, dst + ldcB, ...
  const storeFull = (withC: boolean) => {
    const code: number[] = [...get(dst), ...set(ptr)];
    for (let i = 0; i < MR; i++) {
      for (let v = 0; v < NV; v++) {
        code.push(...get(ptr));
        if (withC) code.push(...get(ptr), ...op.v128LoadAt(16 * v), ...get(betaV), ...op.f32x4Mul);
        code.push(...get(acc[i][v]), ...get(alphaV), ...op.f32x4Mul);
        if (withC) code.push(...op.f32x4Add);
        code.push(...op.v128StoreAt(16 * v));
      }
      code.push(...addTo(ptr, get(ldcB)));
    }
    return code;
  };
  // edge tile: raw sums to tmp, then element by element into the valid part of C
  const storeEdge = [
    ...acc.flatMap((row, i) =>
      row.flatMap((a, v) => [...get(tmp), ...get(a), ...op.v128StoreAt(4 * (i * NR + 4 * v))]),
    ),
    ...op.i32(0),
    ...set(ii),
    ...whileNot(
      [
        ...get(ii),
        ...op.i32(MR),
        ...op.i32GeS,
        ...get(ii),
        ...get(rows),
        ...get(ir),
        ...op.i32Sub,
        ...op.i32GeS,
        ...op.i32Or,
      ],
      [
        ...op.i32(0),
        ...set(jj),
        ...whileNot(
          [
            ...get(jj),
            ...op.i32(NR),
            ...op.i32GeS,
            ...get(jj),
            ...get(cols),
            ...get(jr),
            ...op.i32Sub,
            ...op.i32GeS,
            ...op.i32Or,
          ],
          [
            // tAcc = tmp[ii][jj]; ptr = dst + ii*ldcB + jj*4
            ...get(tmp),
            ...get(ii),
            ...op.i32(NR * 4),
            ...op.i32Mul,
            ...op.i32Add,
            ...get(jj),
            ...op.i32(4),
            ...op.i32Mul,
            ...op.i32Add,
            ...op.f32LoadAt(0),
            ...set(tAcc),
            ...get(dst),
            ...get(ii),
            ...get(ldcB),
            ...op.i32Mul,
            ...op.i32Add,
            ...get(jj),
            ...op.i32(4),
            ...op.i32Mul,
            ...op.i32Add,
            ...set(ptr),
            ...get(ptr),
            ...get(mode),
            ...op.ifF32,
            ...get(ptr),
            ...op.f32LoadAt(0),
            ...get(betaF),
            ...op.f32Mul,
            ...get(tAcc),
            ...get(alphaF),
            ...op.f32Mul,
            ...op.f32Add,
            ...op.else,
            ...get(tAcc),
            ...get(alphaF),
            ...op.f32Mul,
            ...op.end,
            ...op.f32StoreAt(0),
            ...addTo(jj, op.i32(1)),
          ],
        ),
        ...addTo(ii, op.i32(1)),
      ],
    ),
  ];

  const tile = [
    // ap = pa + ir*kc*4 ; bp = pb + jr*kc*4 ; dst = c + ir*ldcB + jr*4
    ...get(pa),
    ...get(ir),
    ...get(kc),
    ...op.i32Mul,
    ...op.i32(2),
    ...op.i32Shl,
    ...op.i32Add,
    ...set(ap),
    ...get(pb),
    ...get(jr),
    ...get(kc),
    ...op.i32Mul,
    ...op.i32(2),
    ...op.i32Shl,
    ...op.i32Add,
    ...set(bp),
    ...get(c),
    ...get(ir),
    ...get(ldcB),
    ...op.i32Mul,
    ...op.i32Add,
    ...get(jr),
    ...op.i32(2),
    ...op.i32Shl,
    ...op.i32Add,
    ...set(dst),
    ...micro,
    // full tile when rows - ir >= MR and cols - jr >= NR
    ...get(rows),
    ...get(ir),
    ...op.i32Sub,
    ...op.i32(MR),
    ...op.i32GeS,
    ...get(cols),
    ...get(jr),
    ...op.i32Sub,
    ...op.i32(NR),
    ...op.i32GeS,
    ...op.i32And,
    ...op.if,
    ...get(mode),
    ...op.if,
    ...storeFull(true),
    ...op.else,
    ...storeFull(false),
    ...op.end,
    ...op.else,
    ...storeEdge,
    ...op.end,
  ];

  const body = [
    ...get(alpha),
    ...op.f32ReinterpretI32,
    ...set(alphaF),
    ...get(beta),
    ...op.f32ReinterpretI32,
    ...set(betaF),
    ...get(alphaF),
    ...op.f32x4Splat,
    ...set(alphaV),
    ...get(betaF),
    ...op.f32x4Splat,
    ...set(betaV),
    ...op.i32(0),
    ...set(jr),
    ...whileNot(
      [...get(jr), ...get(cols), ...op.i32GeS],
      [
        ...op.i32(0),
        ...set(ir),
        ...whileNot([...get(ir), ...get(rows), ...op.i32GeS], [...tile, ...addTo(ir, op.i32(MR))]),
        ...addTo(jr, op.i32(NR)),
      ],
    ),
  ];
  return {
    name: "macro",
    params: f.params,
    results: [],
    locals: f.locals,
    body,
  };
}

/** The GEMM module's exports (byte addresses and byte strides into the instance's memory). */
export interface GemmKernels {
  packA(src: number, sq: number, sk: number, n: number, kc: number, dst: number): void;
  packB(src: number, sq: number, sk: number, n: number, kc: number, dst: number): void;
  macro(
    pa: number,
    pb: number,
    c: number,
    ldcB: number,
    rows: number,
    cols: number,
    kc: number,
    alphaBits: number,
    betaBits: number,
    mode: number,
    tmp: number,
  ): void;
}

/** Bytes of the GEMM module: plain SIMD (mul + add) or relaxed FMA; importing a shared memory when `shared`. */
export function gemmModuleBytes(opts: { fma: boolean; shared: boolean }): Uint8Array {
  if (MR % 4 !== 0 || NR % 4 !== 0) throw new Error("gemm-kernels: MR and NR must be multiples of 4 (whole vectors)");
  const funcs = [{ ...packFn(MR), name: "packA" }, { ...packFn(NR), name: "packB" }, macroFn(opts.fma)];
  return buildModule(funcs, opts.shared ? { maxPages: 65536 } : undefined);
}
