/**
 * The elementwise ops of native-ops.c (RoPE, the causal softmax and its backward step), called through koffi from the
 * native library when it builds here. Each computes exactly what its JavaScript loop computes (tested bit for bit),
 * so where the library is missing, or env MST_NATIVE_OPS=0 (read once; `resetNativeOps` reads it again), the loops
 * run.
 */

import { BufferAddresses, loadKoffi } from "../gemm/koffi.js";
import { buildNative, detectIsa } from "../gemm/native-build.js";
import { FAST_EXP } from "./fast-exp.js";

type NativeFn = (...args: unknown[]) => number;

export interface NativeOps {
  /** RoPE on (N,nh,hd) rows (sign -1: backward); false when a position is outside the table (nothing written). */
  rope(
    out: Float32Array,
    inp: Float32Array,
    pos: Int32Array,
    cos: Float32Array,
    sin: Float32Array,
    sign: 1 | -1,
    N: number,
    nh: number,
    hd: number,
  ): boolean;
  /**
   * The causal softmax of `count` blocks of `rows` rows of L, block b from s[offs[b]]; rows it left for JavaScript
   * (an exp argument outside fastExp's table range, or NaN) are 0 in done[b * rows + t]. Returns how many.
   */
  softmaxCausal(
    s: Float32Array,
    offs: Int32Array,
    count: number,
    rows: number,
    L: number,
    off: number,
    done: Uint8Array,
  ): number;
  /**
   * SwiGLU forward as its JavaScript loop on elements from..n-1; elements that loop must do (|gate| > 100 or NaN:
   * Math.exp's range) are left. Returns how many.
   */
  swigluForward(
    out: Float32Array,
    sig: Float32Array,
    gate: Float32Array,
    up: Float32Array,
    from: number,
    n: number,
  ): number;
  /** SwiGLU forward as the WebAssembly SIMD kernel computes it (float32 lanes) on the first n elements (n % 4 = 0). */
  swigluForwardF32(out: Float32Array, sig: Float32Array, gate: Float32Array, up: Float32Array, n: number): void;
  /** RMSNorm forward as its JavaScript loop. */
  rmsnormForward(
    out: Float32Array,
    rstd: Float32Array,
    inp: Float32Array,
    w: Float32Array,
    N: number,
    C: number,
    eps: number,
  ): void;
  /** The wasm kernels' float32 arithmetic (wasm/simd-kernels.ts) for arena buffers: swigluBwd on n % 4 = 0 elements. */
  swigluBackwardF32(
    dgate: Float32Array,
    dup: Float32Array,
    dout: Float32Array,
    gate: Float32Array,
    up: Float32Array,
    sig: Float32Array,
    n: number,
  ): void;
  /** rmsFwd's float32 arithmetic (C % 4 = 0). */
  rmsnormForwardF32(
    out: Float32Array,
    rstd: Float32Array,
    inp: Float32Array,
    w: Float32Array,
    N: number,
    C: number,
    eps: number,
  ): void;
  /** rmsBwd's float32 arithmetic (C % 4 = 0); dw (C floats) receives the rows' sum as the kernel's scratch does. */
  rmsnormBackwardF32(
    dinp: Float32Array,
    dw: Float32Array,
    dout: Float32Array,
    inp: Float32Array,
    w: Float32Array,
    rstd: Float32Array,
    N: number,
    C: number,
  ): void;
  /** softmaxCausal's float32 arithmetic on `count` (rows, L) blocks at offs (L % 4 = 0). */
  softmaxCausalF32(s: Float32Array, offs: Int32Array, count: number, rows: number, L: number, off: number): void;
  /** engine/optim.ts's AdamW update of one tensor (w, g, m, v of n floats), in its float64 arithmetic. */
  adamw(
    w: Float32Array,
    g: Float32Array,
    m: Float32Array,
    v: Float32Array,
    k: {
      b1: number;
      b2: number;
      c1: number;
      c2: number;
      shrink: number;
      stepSize: number;
      invBc2Sqrt: number;
      eps: number;
    },
  ): void;
  /** Attention backward's dS = P * (dP - rowsum(P * dP)) on `heads` (T,T) blocks at the given offsets. */
  softmaxCausalBwd(
    scratch: Float32Array,
    scratchOffs: Int32Array,
    att: Float32Array,
    attOffs: Int32Array,
    heads: number,
    T: number,
  ): void;
}

let loaded: NativeOps | null | undefined;

function load(): NativeOps | null {
  const k = loadKoffi();
  if (!("koffi" in k)) return null;
  let lib: ReturnType<typeof k.koffi.load>;
  try {
    lib = k.koffi.load(buildNative(detectIsa()).path);
  } catch {
    // the gemm choice reports why the native library cannot be built or loaded (env.json); the loops run instead
    return null;
  }
  const addr = new BufferAddresses(k.koffi);
  const rope = lib.func(
    "int mst_rope(intptr_t, intptr_t, intptr_t, intptr_t, intptr_t, int, int, int, int, int)",
  ) as NativeFn;
  const softmax = lib.func("int mst_softmax_causal(intptr_t, intptr_t, int, int, int, int, intptr_t)") as NativeFn;
  const softmaxBwd = lib.func(
    "void mst_softmax_causal_bwd(intptr_t, intptr_t, intptr_t, intptr_t, int, int)",
  ) as NativeFn;
  const swiglu = lib.func("int mst_swiglu_fwd(intptr_t, intptr_t, intptr_t, intptr_t, long, long)") as NativeFn;
  const swigluF32 = lib.func("void mst_swiglu_fwd_f32(intptr_t, intptr_t, intptr_t, intptr_t, long)") as NativeFn;
  const rmsnorm = lib.func(
    "void mst_rmsnorm_fwd(intptr_t, intptr_t, intptr_t, intptr_t, int, int, double)",
  ) as NativeFn;
  const swigluBwdF32 = lib.func(
    "void mst_swiglu_bwd_f32(intptr_t, intptr_t, intptr_t, intptr_t, intptr_t, intptr_t, long)",
  ) as NativeFn;
  const rmsFwdF32 = lib.func(
    "void mst_rms_fwd_f32(intptr_t, intptr_t, intptr_t, intptr_t, int, int, float, float)",
  ) as NativeFn;
  const rmsBwdF32 = lib.func(
    "void mst_rms_bwd_f32(intptr_t, intptr_t, intptr_t, intptr_t, intptr_t, intptr_t, int, int, float)",
  ) as NativeFn;
  const softmaxF32 = lib.func("void mst_softmax_causal_f32(intptr_t, intptr_t, int, int, int, int)") as NativeFn;
  const adamw = lib.func(
    "void mst_adamw(intptr_t, intptr_t, intptr_t, intptr_t, long, double, double, double, double, double, double, double, double)",
  ) as NativeFn;
  const init = lib.func("void mst_fast_exp_init(intptr_t, int, double, double)") as NativeFn;
  const { POW2_32, K_OFF, STEPS_LOG2E, LN2_STEPS } = FAST_EXP;
  init(addr.of(POW2_32), K_OFF, STEPS_LOG2E, LN2_STEPS); // the table lives as long as the module: its address holds
  const extent = (x: { length: number }, off: number, n: number, what: string) => {
    if (off < 0 || off + n > x.length)
      throw new RangeError(`native ops: ${what} [${off}, ${off + n}) outside ${x.length}`);
  };
  return {
    rope(out, inp, pos, cos, sin, sign, N, nh, hd) {
      if (N === 0) return true;
      extent(out, 0, N * nh * hd, "rope out");
      extent(inp, 0, N * nh * hd, "rope input");
      extent(pos, 0, N, "rope positions");
      const half = hd / 2;
      const maxPos = Math.min(Math.floor(cos.length / half), Math.floor(sin.length / half));
      return rope(addr.of(out), addr.of(inp), addr.of(pos), addr.of(cos), addr.of(sin), sign, N, nh, hd, maxPos) === 0;
    },
    softmaxCausal(s, offs, count, rows, L, off, done) {
      if (rows === 0 || count === 0) return 0;
      extent(offs, 0, count, "softmax block offsets");
      for (let b = 0; b < count; b++) extent(s, offs[b], rows * L, "softmax rows");
      extent(done, 0, count * rows, "softmax row flags");
      return softmax(addr.of(s), addr.of(offs), count, rows, L, off, addr.of(done));
    },
    swigluForward(out, sig, gate, up, from, n) {
      if (n <= from) return 0;
      for (const [x, what] of [
        [out, "out"],
        [sig, "sig"],
        [gate, "gate"],
        [up, "up"],
      ] as const)
        extent(x, 0, n, `swiglu ${what}`);
      return swiglu(addr.of(out), addr.of(sig), addr.of(gate), addr.of(up), from, n);
    },
    swigluForwardF32(out, sig, gate, up, n) {
      if (n === 0) return;
      if (n % 4 !== 0) throw new RangeError(`native ops: swiglu f32 on ${n} elements, not a multiple of 4`);
      for (const x of [out, sig, gate, up]) extent(x, 0, n, "swiglu");
      swigluF32(addr.of(out), addr.of(sig), addr.of(gate), addr.of(up), n);
    },
    rmsnormForward(out, rstd, inp, w, N, C, eps) {
      if (N === 0) return;
      extent(out, 0, N * C, "rmsnorm out");
      extent(inp, 0, N * C, "rmsnorm input");
      extent(rstd, 0, N, "rmsnorm rstd");
      extent(w, 0, C, "rmsnorm weight");
      rmsnorm(addr.of(out), addr.of(rstd), addr.of(inp), addr.of(w), N, C, eps);
    },
    swigluBackwardF32(dgate, dup, dout, gate, up, sig, n) {
      if (n === 0) return;
      if (n % 4 !== 0) throw new RangeError(`native ops: swiglu backward f32 on ${n} elements, not a multiple of 4`);
      for (const x of [dgate, dup, dout, gate, up, sig]) extent(x, 0, n, "swiglu backward");
      swigluBwdF32(addr.of(dgate), addr.of(dup), addr.of(dout), addr.of(gate), addr.of(up), addr.of(sig), n);
    },
    rmsnormForwardF32(out, rstd, inp, w, N, C, eps) {
      if (N === 0) return;
      if (C % 4 !== 0) throw new RangeError(`native ops: rmsnorm f32 with C = ${C}, not a multiple of 4`);
      extent(out, 0, N * C, "rmsnorm out");
      extent(inp, 0, N * C, "rmsnorm input");
      extent(rstd, 0, N, "rmsnorm rstd");
      extent(w, 0, C, "rmsnorm weight");
      rmsFwdF32(addr.of(out), addr.of(rstd), addr.of(inp), addr.of(w), N, C, 1 / C, eps);
    },
    rmsnormBackwardF32(dinp, dw, dout, inp, w, rstd, N, C) {
      if (N === 0) return;
      if (C % 4 !== 0) throw new RangeError(`native ops: rmsnorm backward f32 with C = ${C}, not a multiple of 4`);
      for (const x of [dinp, dout, inp]) extent(x, 0, N * C, "rmsnorm backward");
      extent(rstd, 0, N, "rmsnorm backward rstd");
      extent(w, 0, C, "rmsnorm backward weight");
      extent(dw, 0, C, "rmsnorm backward dw");
      rmsBwdF32(addr.of(dinp), addr.of(dw), addr.of(dout), addr.of(inp), addr.of(w), addr.of(rstd), N, C, 1 / C);
    },
    softmaxCausalF32(s, offs, count, rows, L, off) {
      if (rows === 0 || count === 0) return;
      if (L % 4 !== 0) throw new RangeError(`native ops: softmax f32 with L = ${L}, not a multiple of 4`);
      extent(offs, 0, count, "softmax block offsets");
      for (let b = 0; b < count; b++) extent(s, offs[b], rows * L, "softmax rows");
      softmaxF32(addr.of(s), addr.of(offs), count, rows, L, off);
    },
    adamw(w, g, m, v, k) {
      const n = w.length;
      if (n === 0) return;
      for (const x of [g, m, v]) extent(x, 0, n, "adamw state");
      adamw(
        addr.of(w),
        addr.of(g),
        addr.of(m),
        addr.of(v),
        n,
        k.b1,
        k.b2,
        k.c1,
        k.c2,
        k.shrink,
        k.stepSize,
        k.invBc2Sqrt,
        k.eps,
      );
    },
    softmaxCausalBwd(scratch, scratchOffs, att, attOffs, heads, T) {
      extent(scratchOffs, 0, heads, "softmax backward dP offsets");
      extent(attOffs, 0, heads, "softmax backward P offsets");
      for (let h = 0; h < heads; h++) {
        extent(scratch, scratchOffs[h], T * T, "softmax backward dP");
        extent(att, attOffs[h], T * T, "softmax backward P");
      }
      softmaxBwd(addr.of(scratch), addr.of(scratchOffs), addr.of(att), addr.of(attOffs), heads, T);
    },
  };
}

/** The native ops, or null where the library cannot be built or loaded here, or MST_NATIVE_OPS=0. */
export function nativeOps(): NativeOps | null {
  if (loaded === undefined) loaded = process.env.MST_NATIVE_OPS?.trim() === "0" ? null : load();
  return loaded;
}

/** Forget the choice, so the next call reads MST_NATIVE_OPS again (tests that compare both paths). */
export function resetNativeOps(): void {
  loaded = undefined;
}
