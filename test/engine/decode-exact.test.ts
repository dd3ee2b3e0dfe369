/**
 * The float64 wasm decode path (KV cache and inference activations in decode arenas) against the JavaScript loops
 * it replaces (plain arrays, MST_SIMD=0): every sampled token, log-prob and entropy the same bits (Object.is), and
 * each kernel on its own, with exp arguments outside fastExp's table range (the kernels hand those back to JS).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/data/rng.js";
import { createModel } from "../../src/engine/model.js";
import { sample, type SampleOptions, type SampleResult } from "../../src/engine/sampler.js";
import { drawScored, RowScratch } from "../../src/engine/sampler-rows.js";
import { attentionCachedForward } from "../../src/engine/ops/attention.js";
import { swigluForward } from "../../src/engine/ops/swiglu.js";
import { rmsnormForward } from "../../src/engine/ops/rmsnorm.js";
import { KvCache } from "../../src/engine/kv-cache.js";
import { decodeArenaFor, inDecodeArena } from "../../src/engine/wasm/decode-arena.js";
import type { ModelConfigInput } from "../../src/engine/config.js";
import { withSimd } from "./with-simd.js";

const simdOff = process.env.MST_SIMD?.trim() === "0" ? "MST_SIMD=0: no decode arenas to compare" : false;

/** Samples with a fresh model of `cfg` on the decode-arena path (on) or the plain JavaScript path (off). */
function run(on: boolean, cfg: ModelConfigInput, initStd: number, prompts: number[][], o: Partial<SampleOptions>) {
  return withSimd(on, () => {
    const m = createModel(cfg, { seed: 7, initStd });
    const res = sample(m, prompts, { maxNewTokens: 40, temperature: 1, seed: 3, ...o });
    const kv = m.scratchKvCache(1, 1);
    return { res, arena: decodeArenaFor(kv.k[0], kv.v[0]) !== null };
  });
}

function assertSameBits(a: SampleResult, b: SampleResult, what: string): number {
  assert.deepEqual(a.tokens, b.tokens, `${what}: tokens`);
  assert.deepEqual(a.finish, b.finish, `${what}: finish`);
  let n = 0;
  a.tokens.forEach((toks, i) =>
    toks.forEach((_id, j) => {
      n++;
      assert.ok(Object.is(a.logprobs[i][j], b.logprobs[i][j]), `${what}: logprob ${i}/${j}`);
      assert.ok(Object.is(a.entropies[i][j], b.entropies[i][j]), `${what}: entropy ${i}/${j}`);
    }),
  );
  return n;
}

test(
  "sampling on the decode arenas gives the plain path's bits: tokens, log-probs, entropies",
  { skip: simdOff },
  () => {
    const r = new Rng(11);
    // ragged prompts (1..13 tokens), B = 9
    const prompts = (V: number) =>
      Array.from({ length: 9 }, (_, i) => Array.from({ length: 1 + ((i * 7) % 13) }, () => r.int(V)));
    const cases: { cfg: ModelConfigInput; initStd: number; o: Partial<SampleOptions> }[] = [
      // the embedded shape (hd 16), the bench's temperature
      { cfg: { vocabSize: 200, dModel: 64, nLayers: 2, nHeads: 4, dFf: 172, maxSeq: 64 }, initStd: 0.3, o: {} },
      // grouped KV heads, hd 12 (8 + 4 dims per pass), tempered with top-k
      {
        cfg: { vocabSize: 97, dModel: 48, nLayers: 2, nHeads: 4, nKvHeads: 2, dFf: 100, maxSeq: 64 },
        initStd: 0.3,
        o: { temperature: 0.7, topK: 20, stopIds: [3] },
      },
      // hd 64: rows past 32 keys take the gemm path, in the same batch as rows on the kernel; top-p
      {
        cfg: { vocabSize: 300, dModel: 256, nLayers: 2, nHeads: 4, dFf: 300, maxSeq: 64 },
        initStd: 0.1,
        o: { temperature: 1.3, topP: 0.9 },
      },
      // huge weights: attention and SwiGLU exp arguments beyond fastExp's table (the kernels hand them back)
      { cfg: { vocabSize: 50, dModel: 32, nLayers: 2, nHeads: 2, dFf: 40, maxSeq: 64 }, initStd: 3, o: {} },
    ];
    let n = 0;
    for (const [i, c] of cases.entries()) {
      const ps = prompts(c.cfg.vocabSize);
      const fast = run(true, c.cfg, c.initStd, ps, c.o);
      const plain = run(false, c.cfg, c.initStd, ps, c.o);
      assert.ok(fast.arena, `case ${i}: the cache is in a decode arena`);
      assert.ok(!plain.arena, `case ${i}: MST_SIMD=0 gives plain arrays`);
      n += assertSameBits(fast.res, plain.res, `case ${i}`);
    }
    assert.ok(n >= 1000, `compared ${n} tokens`);
  },
);

test(
  "decode attention kernel = the JavaScript loops, bit for bit, with scores spread past exp's table",
  {
    skip: simdOff,
  },
  () => {
    const r = new Rng(5);
    for (const [hd, spread] of [
      [4, 1],
      [16, 1],
      [20, 1],
      [64, 1],
      [16, 400],
    ]) {
      const B = 3,
        H = 4,
        KVH = 2,
        S = 24;
      const ks = KVH * hd;
      const cache = withSimd(true, () => new KvCache(1, B + 1, S, ks, H * hd));
      assert.ok(decodeArenaFor(cache.k[0], cache.v[0]) !== null);
      cache.k[0].set(Float32Array.from({ length: cache.k[0].length }, () => spread * r.normal()));
      cache.v[0].set(Float32Array.from({ length: cache.v[0].length }, () => r.normal()));
      const kp = cache.k[0].slice();
      const vp = cache.v[0].slice();
      const q = Float32Array.from({ length: B * H * hd }, () => r.normal());
      const start = Int32Array.from([0, 9, 22]); // 1, 10 (even, odd key counts) and 23 keys
      const rows = Int32Array.from([3, 0, 2]);
      const fast = new Float32Array(B * H * hd);
      const plain = new Float32Array(B * H * hd);
      attentionCachedForward(
        fast,
        new Float32Array(H * S),
        q,
        cache.k[0],
        cache.v[0],
        start,
        rows,
        B,
        1,
        S,
        H,
        KVH,
        hd,
      );
      attentionCachedForward(plain, new Float32Array(H * S), q, kp, vp, start, rows, B, 1, S, H, KVH, hd);
      for (let i = 0; i < fast.length; i++)
        assert.ok(Object.is(fast[i], plain[i]), `hd ${hd} spread ${spread} element ${i}: ${fast[i]} vs ${plain[i]}`);
    }
  },
);

test(
  "SwiGLU and RMSNorm on decode arenas = the JavaScript loops, bit for bit (odd lengths, |gate| > 100)",
  {
    skip: simdOff,
  },
  () => {
    const r = new Rng(9);
    const n = 4 * 37 + 3;
    const C = 36;
    const N = 5;
    const a = withSimd(true, () =>
      inDecodeArena(({ f32 }) => ({
        out: f32(n),
        sig: f32(n),
        gate: f32(n),
        up: f32(n),
        x: f32(N * C),
        y: f32(N * C),
        rstd: f32(N),
      })),
    );
    assert.ok(decodeArenaFor(a.out, a.gate) !== null);
    const gate = Float32Array.from({ length: n }, (_, i) => (i % 17 === 5 ? 150 * r.normal() : 4 * r.normal()));
    gate[7] = -101; // exp(101): outside the table, Math.exp in fastExp
    gate[8] = 100.5;
    const up = Float32Array.from({ length: n }, () => r.normal());
    a.gate.set(gate);
    a.up.set(up);
    const p = { out: new Float32Array(n), sig: new Float32Array(n) };
    swigluForward(a.out, a.sig, a.gate, a.up, n);
    swigluForward(p.out, p.sig, gate, up, n);
    for (let i = 0; i < n; i++) {
      assert.ok(Object.is(a.out[i], p.out[i]), `swiglu out ${i}: ${a.out[i]} vs ${p.out[i]}`);
      assert.ok(Object.is(a.sig[i], p.sig[i]), `swiglu sig ${i}`);
    }
    const x = Float32Array.from({ length: N * C }, () => 3 * r.normal());
    const w = Float32Array.from({ length: C }, () => r.normal());
    a.x.set(x);
    const py = new Float32Array(N * C);
    const prstd = new Float32Array(N);
    rmsnormForward(a.y, a.rstd, a.x, w, N, C, 1e-6);
    rmsnormForward(py, prstd, x, w, N, C, 1e-6);
    for (let i = 0; i < N * C; i++) assert.ok(Object.is(a.y[i], py[i]), `rmsnorm out ${i}`);
    for (let i = 0; i < N; i++) assert.ok(Object.is(a.rstd[i], prstd[i]), `rmsnorm rstd ${i}`);
  },
);

test(
  "the sampler's row work on a decode arena = the plain loops, bit for bit (logits spread past exp's table)",
  {
    skip: simdOff,
  },
  () => {
    const r = new Rng(4);
    for (const V of [2, 10, 64, 200]) {
      const fast = withSimd(true, () => new RowScratch(V));
      const plain = withSimd(false, () => new RowScratch(V));
      assert.ok(fast.fast !== null && plain.fast === null);
      // rows at two offsets of one buffer; every fourth row has logits more than 100 below its max
      const B = 8;
      const logits = Float32Array.from({ length: B * V }, (_, i) =>
        Math.floor(i / V) % 4 === 1 && i % 3 === 0 ? -150 + r.normal() : 5 * r.normal(),
      );
      for (const [temperature, topK, topP] of [
        [1, 0, 1],
        [0.7, 0, 1],
        [0, 0, 1],
        [1, 3, 1],
        [1.3, 0, 0.8],
      ]) {
        const rf = new Rng(1);
        const rp = new Rng(1);
        const a: [number, number, number] = [0, 0, 0];
        const b: [number, number, number] = [0, 0, 0];
        for (let row = 0; row < B; row++) {
          drawScored(logits, row * V, V, temperature, topK, topP, rf, fast, a);
          drawScored(logits, row * V, V, temperature, topK, topP, rp, plain, b);
          for (let i = 0; i < 3; i++)
            assert.ok(
              Object.is(a[i], b[i]),
              `V ${V} T ${temperature} k ${topK} p ${topP} row ${row} [${i}]: ${a} vs ${b}`,
            );
        }
      }
    }
  },
);
