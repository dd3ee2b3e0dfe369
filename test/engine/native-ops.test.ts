/**
 * The native elementwise ops (src/engine/ops/native-ops.c) give exactly their JavaScript loops' bits: RoPE both ways
 * and in place, the causal softmax (with the rows it hands back to JavaScript: exp arguments past fastExp's range,
 * -Infinity, NaN), attention backward's softmax step, SwiGLU (both the loop's float64 and the wasm kernel's float32
 * arithmetic), RMSNorm and AdamW.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { nativeOps, resetNativeOps } from "../../src/engine/ops/native-ops.js";
import { AdamW } from "../../src/engine/optim.js";
import type { Param } from "../../src/engine/model-api.js";
import { rotateJs, ropeForward, ropeBackward, ropeTables } from "../../src/engine/ops/rope.js";
import { causalSoftmaxRowsJs, softmaxCausalBwdJs } from "../../src/engine/ops/attention.js";
import { swigluForwardJs } from "../../src/engine/ops/swiglu.js";
import { rmsnormForwardJs } from "../../src/engine/ops/rmsnorm.js";
import { simdFor, WasmArena } from "../../src/engine/wasm/arena.js";
import { Rng } from "../../src/data/rng.js";
import { hasCompiler, randn } from "./gemm-helpers.js";

const skip = hasCompiler() ? false : "no C compiler here (CC or cc)";
const bitsOf = (x: Float32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString("hex");

test("native RoPE equals the JavaScript loop bit for bit: both signs, in place, odd head sizes", { skip }, () => {
  const ops = nativeOps();
  assert.ok(ops !== null, "the native library loads where a compiler is");
  const r = new Rng(41);
  for (const [N, nh, hd] of [
    [1, 1, 2],
    [5, 3, 6],
    [37, 4, 16],
    [9, 2, 64],
    [3, 14, 130],
  ]) {
    const { cos, sin } = ropeTables(64, hd, 10000);
    const pos = Int32Array.from({ length: N }, () => r.int(64));
    const x = randn(r, N * nh * hd);
    for (const sign of [1, -1] as const) {
      const [a, b] = [new Float32Array(x.length), new Float32Array(x.length)];
      assert.ok(ops.rope(a, x, pos, cos, sin, sign, N, nh, hd));
      rotateJs(b, x, pos, cos, sin, sign, N, nh, hd);
      assert.equal(bitsOf(a), bitsOf(b), `N${N} nh${nh} hd${hd} sign ${sign}`);
      // in place (the backward overwrites its input)
      const c = x.slice();
      assert.ok(ops.rope(c, c, pos, cos, sin, sign, N, nh, hd));
      assert.equal(bitsOf(c), bitsOf(b), `in place, N${N} nh${nh} hd${hd} sign ${sign}`);
    }
    // the public entry points agree with the loop too (they take the native path here)
    const [f, g] = [new Float32Array(x.length), new Float32Array(x.length)];
    ropeForward(f, x, pos, cos, sin, N, nh, hd);
    rotateJs(g, x, pos, cos, sin, 1, N, nh, hd);
    assert.equal(bitsOf(f), bitsOf(g));
    ropeBackward(f, x, pos, cos, sin, N, nh, hd);
    rotateJs(g, x, pos, cos, sin, -1, N, nh, hd);
    assert.equal(bitsOf(f), bitsOf(g));
  }
  // a position past the table: nothing written, the loop takes it (and gives its NaNs)
  const { cos, sin } = ropeTables(8, 4, 10000);
  const out = new Float32Array(4).fill(7);
  assert.equal(ops.rope(out, new Float32Array(4), Int32Array.of(8), cos, sin, 1, 1, 1, 4), false);
  assert.deepEqual([...out], [7, 7, 7, 7]);
});

test(
  "native causal softmax equals the JavaScript loop bit for bit, and hands back the rows it must not do",
  { skip },
  () => {
    const ops = nativeOps();
    assert.ok(ops !== null);
    const r = new Rng(43);
    for (const [rows, L, off] of [
      [1, 1, 0],
      [18, 18, 0],
      [17, 17, 0],
      [5, 23, 18],
      [64, 37, 0],
      [4, 700, 400], // rows of 401-404 keys: past one 256-key pass of the exps
      [2, 520, 510],
    ]) {
      // three (rows, L) blocks, handed over last first (as attention hands over every head's block at once)
      const count = 3;
      const s = randn(r, count * rows * L).map((v) => v * 6);
      // rows the JavaScript loop must do: a spread past fastExp's range (Math.exp), -Infinity and NaN
      if (rows > 3) {
        s[2 * L] = 150;
        s[rows * L + 3 * L] = -Infinity;
        s[count * rows * L - 1] = NaN;
      }
      const offs = Int32Array.from({ length: count }, (_, b) => (count - 1 - b) * rows * L);
      const [a, b] = [s.slice(), s.slice()];
      const done = new Uint8Array(count * rows);
      const left = ops.softmaxCausal(a, offs, count, rows, L, off, done);
      assert.equal(left, done.filter((d) => d === 0).length);
      // block 0 of the call is the last matrix: its row 2 is s's row 2 of matrix 0, i.e. block 2's row 2
      if (rows > 3) assert.ok(left >= 2 && done[2 * rows + 2] === 0, `rows left to JavaScript: ${left}`);
      for (let k = 0; k < count; k++) {
        causalSoftmaxRowsJs(a, offs[k], rows, L, off, done.subarray(k * rows, (k + 1) * rows));
        causalSoftmaxRowsJs(b, offs[k], rows, L, off, null);
      }
      assert.equal(bitsOf(a), bitsOf(b), `rows ${rows} L ${L} off ${off}`);
    }
  },
);

test("native attention-backward softmax step equals the JavaScript loop bit for bit", { skip }, () => {
  const ops = nativeOps();
  assert.ok(ops !== null);
  const r = new Rng(47);
  for (const [H, T] of [
    [1, 1],
    [4, 18],
    [14, 33],
  ]) {
    const att = randn(r, 2 * H * T * T).map(Math.abs);
    const dP = randn(r, H * T * T);
    const po = Int32Array.from({ length: H }, (_, h) => (H + h) * T * T);
    const so = Int32Array.from({ length: H }, (_, h) => h * T * T);
    const [a, b] = [dP.slice(), dP.slice()];
    ops.softmaxCausalBwd(a, so, att, po, H, T);
    softmaxCausalBwdJs(b, so, att, po, H, T);
    assert.equal(bitsOf(a), bitsOf(b), `H ${H} T ${T}`);
  }
});

test(
  "native SwiGLU forward: the JavaScript loop's bits on plain arrays, the wasm kernel's on an arena",
  { skip },
  () => {
    const ops = nativeOps();
    assert.ok(ops !== null);
    const r = new Rng(53);
    const n = 4 * 257 + 3;
    const fill = (a: Float32Array) => {
      a.set(randn(r, n).map((v) => v * 8));
      // Math.exp's range (left to the JavaScript loop) and NaN
      a[5] = 150;
      a[6] = -120;
      a[n - 2] = NaN;
      return a;
    };
    const gate = fill(new Float32Array(n));
    const up = randn(r, n);
    // plain arrays: the JavaScript loop's float64 arithmetic
    const [o1, s1, o2, s2] = [0, 0, 0, 0].map(() => new Float32Array(n));
    const left = ops.swigluForward(o1, s1, gate, up, 0, n);
    assert.equal(left, 3);
    swigluForwardJs(o1, s1, gate, up, 0, n, true);
    swigluForwardJs(o2, s2, gate, up, 0, n);
    assert.equal(bitsOf(o1), bitsOf(o2));
    assert.equal(bitsOf(s1), bitsOf(s2));
    // an arena: the wasm kernel's float32 arithmetic, on the whole multiple of 4
    const arena = new WasmArena(6 * n + 64);
    const [ag, au, ao, as, bo, bs] = [0, 0, 0, 0, 0, 0].map(() => arena.f32(n));
    ag.set(gate);
    au.set(up);
    const m = n & ~3;
    const h = simdFor(ag, au, bo, bs);
    assert.ok(h !== null, "WebAssembly SIMD here");
    h.k.swigluFwd(bo.byteOffset, bs.byteOffset, ag.byteOffset, au.byteOffset, m * 4);
    ops.swigluForwardF32(ao, as, ag, au, m);
    assert.equal(bitsOf(ao.subarray(0, m)), bitsOf(bo.subarray(0, m)));
    assert.equal(bitsOf(as.subarray(0, m)), bitsOf(bs.subarray(0, m)));
  },
);

test("native RMSNorm forward equals the JavaScript loop bit for bit", { skip }, () => {
  const ops = nativeOps();
  assert.ok(ops !== null);
  const r = new Rng(59);
  for (const [N, C] of [
    [1, 1],
    [7, 6],
    [33, 64],
    [5, 130],
  ]) {
    const inp = randn(r, N * C);
    const w = randn(r, C);
    const [o1, r1, o2, r2] = [N * C, N, N * C, N].map((k) => new Float32Array(k));
    ops.rmsnormForward(o1, r1, inp, w, N, C, 1e-5);
    rmsnormForwardJs(o2, r2, inp, w, N, C, 1e-5);
    assert.equal(bitsOf(o1), bitsOf(o2), `N ${N} C ${C}`);
    assert.equal(bitsOf(r1), bitsOf(r2), `rstd, N ${N} C ${C}`);
  }
});

test(
  "native float32 kernels equal the WebAssembly SIMD kernels bit for bit: SwiGLU and RMSNorm backward, RMSNorm forward, causal softmax",
  { skip },
  () => {
    const ops = nativeOps();
    assert.ok(ops !== null);
    const r = new Rng(61);
    const arena = new WasmArena(1 << 16);
    const take = (x: Float32Array) => {
      const a = arena.f32(x.length);
      a.set(x);
      return a;
    };
    const h = simdFor(arena.f32(4));
    assert.ok(h !== null, "WebAssembly SIMD here");
    // SwiGLU backward on 4 * 101 elements
    {
      const n = 404;
      const [gate, up, dout] = [0, 0, 0].map(() => take(randn(r, n).map((v) => v * 4)));
      const sig = take(randn(r, n).map((v) => 1 / (1 + Math.exp(-v))));
      const [dg1, du1] = [take(randn(r, n)), take(randn(r, n))];
      const [dg2, du2] = [take(dg1), take(du1)];
      h.k.swigluBwd(
        dg1.byteOffset,
        du1.byteOffset,
        dout.byteOffset,
        gate.byteOffset,
        up.byteOffset,
        sig.byteOffset,
        n * 4,
      );
      ops.swigluBackwardF32(dg2, du2, dout, gate, up, sig, n);
      assert.equal(bitsOf(dg2), bitsOf(dg1));
      assert.equal(bitsOf(du2), bitsOf(du1));
    }
    // RMSNorm forward and backward, C = 4, 64, 132
    for (const [N, C] of [
      [3, 4],
      [17, 64],
      [5, 132],
    ]) {
      const inp = take(randn(r, N * C));
      const w = take(randn(r, C));
      const [o1, o2] = [arena.f32(N * C), arena.f32(N * C)];
      const [r1, r2] = [arena.f32(N), arena.f32(N)];
      h.scratch.set(w);
      h.k.rmsFwd(o1.byteOffset, r1.byteOffset, inp.byteOffset, h.scratch.byteOffset, N * C * 4, C * 4, 1 / C, 1e-5);
      ops.rmsnormForwardF32(o2, r2, inp, w, N, C, 1e-5);
      assert.equal(bitsOf(o2), bitsOf(o1), `rms forward N ${N} C ${C}`);
      assert.equal(bitsOf(r2), bitsOf(r1), `rms rstd N ${N} C ${C}`);
      const dout = take(randn(r, N * C));
      const [d1, d2] = [take(randn(r, N * C)), arena.f32(N * C)];
      d2.set(d1);
      const sdw = h.scratch.subarray(C, 2 * C);
      sdw.fill(0);
      h.k.rmsBwd(
        d1.byteOffset,
        sdw.byteOffset,
        dout.byteOffset,
        inp.byteOffset,
        h.scratch.byteOffset,
        r1.byteOffset,
        N * C * 4,
        C * 4,
        1 / C,
      );
      const dw = new Float32Array(C);
      ops.rmsnormBackwardF32(d2, dw, dout, inp, w, r1, N, C);
      assert.equal(bitsOf(d2), bitsOf(d1), `rms backward dinp N ${N} C ${C}`);
      assert.equal(bitsOf(dw), bitsOf(sdw), `rms backward dw N ${N} C ${C}`);
    }
    // causal softmax: rows whose key count is not a multiple of 4, an offset, two blocks
    for (const [rows, L, off] of [
      [16, 16, 0],
      [5, 24, 9],
      [1, 4, 0],
    ]) {
      const x = take(randn(r, 2 * rows * L).map((v) => v * 5));
      const y = take(x);
      h.k.softmaxCausal(x.byteOffset, rows, L, off);
      h.k.softmaxCausal(x.byteOffset + 4 * rows * L, rows, L, off);
      ops.softmaxCausalF32(y, Int32Array.of(rows * L, 0), 2, rows, L, off);
      assert.equal(bitsOf(y), bitsOf(x), `softmax rows ${rows} L ${L} off ${off}`);
    }
  },
);

test(
  "AdamW steps on the native path equal the JavaScript loop bit for bit (decay on and off, bias correction)",
  { skip },
  () => {
    const r = new Rng(67);
    const make = () => {
      const rr = new Rng(71);
      return [5, 64 * 3, 1].map((n, i) => ({
        name: `p${i}`,
        shape: [n],
        data: randn(rr, n),
        grad: new Float32Array(n),
        trainable: true,
      })) as unknown as Param[];
    };
    const grads = Array.from({ length: 4 }, () => [5, 192, 1].map((n) => randn(r, n).map((v) => v * 0.1)));
    const run = (nativeOff: boolean) => {
      const saved = process.env.MST_NATIVE_OPS;
      if (nativeOff) process.env.MST_NATIVE_OPS = "0";
      else delete process.env.MST_NATIVE_OPS;
      resetNativeOps();
      try {
        assert.equal(nativeOps() === null, nativeOff);
        const ps = make();
        const opt = new AdamW(ps, { lr: 1e-2, weightDecay: 0.1, decays: (p) => p.shape[0] > 1 });
        for (const gs of grads) {
          ps.forEach((p, i) => p.grad.set(gs[i]));
          opt.step();
        }
        return ps.map((p) => bitsOf(p.data)).join("|") + bitsOf(opt.stateDict().m[1]) + bitsOf(opt.stateDict().v[1]);
      } finally {
        if (saved === undefined) delete process.env.MST_NATIVE_OPS;
        else process.env.MST_NATIVE_OPS = saved;
        resetNativeOps();
      }
    };
    assert.equal(run(false), run(true));
  },
);
