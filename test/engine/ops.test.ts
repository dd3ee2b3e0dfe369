/**
 * Every engine op's explicit backward against central finite differences (float32 tensors, float64 loss,
 * eps 1e-2 or 1e-3; per tensor max |analytic - numeric| <= 1e-3 * max|grad| + 1e-4: measured errors are
 * 1e-6..5e-4 at gradient scales 0.5..20, so a real bug shows up far above the bound), plus forward identities.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/data/rng.js";
import { embeddingBackward, embeddingForward } from "../../src/engine/ops/embedding.js";
import { rmsnormBackward, rmsnormForward } from "../../src/engine/ops/rmsnorm.js";
import {
  dropoutBackward,
  dropoutForward,
  linearBackward,
  linearForward,
  loraBackward,
  loraForward,
} from "../../src/engine/ops/linear.js";
import { ropeBackward, ropeForward, ropeTables } from "../../src/engine/ops/rope.js";
import { attentionBackward, attentionCachedForward, attentionForward } from "../../src/engine/ops/attention.js";
import { swigluBackward, swigluForward } from "../../src/engine/ops/swiglu.js";
import { residualBackward, residualForward } from "../../src/engine/ops/residual.js";
import { crossEntropyForward } from "../../src/engine/ops/cross-entropy.js";
import {
  entropyBackward,
  entropyForward,
  logSoftmaxForward,
  tokenLogprobBackward,
  tokenLogprobForward,
} from "../../src/engine/ops/softmax.js";
import { valueHeadBackward, valueHeadForward } from "../../src/engine/ops/value-head.js";
import { fastExp, fastSigmoid } from "../../src/engine/ops/fast-exp.js";
import { assertGrads, dot64, numericGrads, randn } from "./grad-check.js";

const RTOL = 1e-3;
const ATOL = 1e-4;
const verbose = process.env.MST_GRAD_VERBOSE === "1";
function check(
  label: string,
  tensors: { name: string; x: Float32Array; g: Float32Array }[],
  loss: () => number,
  eps = 1e-2,
) {
  const rep = numericGrads(tensors, loss, eps);
  if (verbose)
    for (const r of rep)
      console.log(`${label} ${r.name}: err ${r.maxAbsErr.toExponential(2)} max ${r.maxGrad.toExponential(2)}`);
  assertGrads(rep, RTOL, ATOL, label);
}

test("embedding: forward gathers rows, backward scatters (repeated ids accumulate)", () => {
  const rng = new Rng(1);
  const V = 6,
    C = 4,
    N = 5;
  const wte = randn(rng, V * C);
  const ids = Int32Array.from([2, 0, 2, 5, 1]);
  const out = new Float32Array(N * C);
  const R = randn(rng, N * C);
  embeddingForward(out, ids, wte, N, C, V);
  const dw = new Float32Array(V * C);
  embeddingBackward(dw, R, ids, N, C);
  check("embedding", [{ name: "wte", x: wte, g: dw }], () => {
    embeddingForward(out, ids, wte, N, C, V);
    return dot64(out, R);
  });
  assert.throws(
    () => embeddingForward(out, Int32Array.from([0, 0, 0, 0, 6]), wte, N, C, V),
    /token id 6 at position 4/,
  );
});

test("rmsnorm: gradients wrt input and weight", () => {
  const rng = new Rng(2);
  const N = 3,
    C = 5;
  const inp = randn(rng, N * C);
  const w = randn(rng, C);
  const out = new Float32Array(N * C);
  const rstd = new Float32Array(N);
  const R = randn(rng, N * C);
  rmsnormForward(out, rstd, inp, w, N, C, 1e-5);
  const dinp = new Float32Array(N * C);
  const dw = new Float32Array(C);
  rmsnormBackward(dinp, dw, R, inp, w, rstd, N, C);
  check(
    "rmsnorm",
    [
      { name: "inp", x: inp, g: dinp },
      { name: "w", x: w, g: dw },
    ],
    () => {
      rmsnormForward(out, rstd, inp, w, N, C, 1e-5);
      return dot64(out, R);
    },
    1e-3,
  );
});

test("linear with bias: gradients wrt input, weight, bias", () => {
  const rng = new Rng(3);
  const N = 3,
    IC = 4,
    OC = 5;
  const inp = randn(rng, N * IC);
  const w = randn(rng, OC * IC);
  const bias = randn(rng, OC);
  const out = new Float32Array(N * OC);
  const R = randn(rng, N * OC);
  const dinp = new Float32Array(N * IC);
  const dw = new Float32Array(OC * IC);
  const db = new Float32Array(OC);
  linearBackward(dinp, dw, db, R, inp, w, N, IC, OC);
  check(
    "linear",
    [
      { name: "inp", x: inp, g: dinp },
      { name: "w", x: w, g: dw },
      { name: "bias", x: bias, g: db },
    ],
    () => {
      linearForward(out, inp, w, bias, N, IC, OC);
      return dot64(out, R);
    },
  );
});

test("lora adapter with dropout: gradients wrt input, A and B", () => {
  const rng = new Rng(4);
  const N = 3,
    IC = 4,
    OC = 5,
    r = 2,
    scale = 1.5,
    p = 0.3;
  const inp = randn(rng, N * IC);
  const A = randn(rng, r * IC);
  const B = randn(rng, OC * r);
  const out = new Float32Array(N * OC);
  const a = new Float32Array(N * r);
  const h = new Float32Array(N * IC);
  const keep = new Float32Array(N * IC);
  const R = randn(rng, N * OC);
  const fwd = () => {
    out.fill(0);
    dropoutForward(h, keep, inp, N * IC, p, new Rng("mask")); // same mask every call
    loraForward(out, a, h, A, B, N, IC, OC, r, scale);
    return dot64(out, R);
  };
  fwd();
  assert.ok(keep.some((k) => k === 0) && keep.some((k) => k > 0), "mask should drop some and keep some");
  const dh = new Float32Array(N * IC);
  const dA = new Float32Array(r * IC);
  const dB = new Float32Array(OC * r);
  const da = new Float32Array(N * r);
  loraBackward(dh, dA, dB, da, R, h, a, A, B, N, IC, OC, r, scale);
  const dinp = new Float32Array(N * IC);
  dropoutBackward(dinp, dh, keep, N * IC);
  check(
    "lora",
    [
      { name: "inp", x: inp, g: dinp },
      { name: "A", x: A, g: dA },
      { name: "B", x: B, g: dB },
    ],
    fwd,
  );
});

test("rope: HF rotate_half convention, norm-preserving, gradient; per-row positions", () => {
  const rng = new Rng(5);
  const N = 3,
    nh = 2,
    hd = 4,
    half = hd / 2;
  const { cos, sin } = ropeTables(8, hd, 10000);
  const pos = Int32Array.from([0, 5, 2]);
  const inp = randn(rng, N * nh * hd);
  const out = new Float32Array(N * nh * hd);
  ropeForward(out, inp, pos, cos, sin, N, nh, hd);
  // position 0 is the identity; position 5, head 1, pair i=1 rotates by 5 * 10000^(-2/4)
  for (let i = 0; i < nh * hd; i++) assert.equal(out[i], inp[i]);
  const o = (1 * nh + 1) * hd;
  const ang = 5 * Math.pow(10000, -0.5);
  assert.ok(Math.abs(out[o + 1] - (inp[o + 1] * Math.cos(ang) - inp[o + 1 + half] * Math.sin(ang))) < 1e-5);
  assert.ok(Math.abs(out[o + 1 + half] - (inp[o + 1 + half] * Math.cos(ang) + inp[o + 1] * Math.sin(ang))) < 1e-5);
  assert.ok(Math.abs(dot64(out, out) - dot64(inp, inp)) < 1e-4);
  const R = randn(rng, N * nh * hd);
  const dinp = new Float32Array(N * nh * hd);
  ropeBackward(dinp, R, pos, cos, sin, N, nh, hd);
  check("rope", [{ name: "inp", x: inp, g: dinp }], () => {
    ropeForward(out, inp, pos, cos, sin, N, nh, hd);
    return dot64(out, R);
  });
});

test("attention (GQA 4 query heads / 2 kv heads): gradients, causality, cached form matches", () => {
  const rng = new Rng(6);
  const B = 2,
    T = 4,
    H = 4,
    KVH = 2,
    hd = 3;
  const q = randn(rng, B * T * H * hd);
  const k = randn(rng, B * T * KVH * hd);
  const v = randn(rng, B * T * KVH * hd);
  const out = new Float32Array(B * T * H * hd);
  const att = new Float32Array(B * H * T * T);
  const R = randn(rng, out.length);
  attentionForward(out, att, q, k, v, B, T, H, KVH, hd);
  const dq = new Float32Array(q.length);
  const dk = new Float32Array(k.length);
  const dv = new Float32Array(v.length);
  attentionBackward(dq, dk, dv, new Float32Array(H * T * T), R, q, k, v, att, B, T, H, KVH, hd);
  check(
    "attention",
    [
      { name: "q", x: q, g: dq },
      { name: "k", x: k, g: dk },
      { name: "v", x: v, g: dv },
    ],
    () => {
      attentionForward(out, att, q, k, v, B, T, H, KVH, hd);
      return dot64(out, R);
    },
    1e-3,
  );
  // causality: changing the last position's k/v leaves earlier outputs untouched
  attentionForward(out, att, q, k, v, B, T, H, KVH, hd);
  const before = Float32Array.from(out);
  for (let i = 0; i < KVH * hd; i++) {
    k[(T - 1) * KVH * hd + i] += 1;
    v[(T - 1) * KVH * hd + i] += 1;
  }
  attentionForward(out, att, q, k, v, B, T, H, KVH, hd);
  for (let i = 0; i < (T - 1) * H * hd; i++) assert.equal(out[i], before[i]);
  // cached form: whole sequences at start 0, cache capacity S > T
  const S = 6;
  const kc = new Float32Array(B * S * KVH * hd);
  const vc = new Float32Array(B * S * KVH * hd);
  for (let b = 0; b < B; b++) {
    kc.set(k.subarray(b * T * KVH * hd, (b + 1) * T * KVH * hd), b * S * KVH * hd);
    vc.set(v.subarray(b * T * KVH * hd, (b + 1) * T * KVH * hd), b * S * KVH * hd);
  }
  const out2 = new Float32Array(out.length);
  attentionCachedForward(
    out2,
    new Float32Array(H * T * S),
    q,
    kc,
    vc,
    Int32Array.from([0, 0]),
    null,
    B,
    T,
    S,
    H,
    KVH,
    hd,
  );
  for (let i = 0; i < out.length; i++) assert.ok(Math.abs(out[i] - out2[i]) < 1e-6);
  // one decode step: the last query of each row at start T-1
  const qLast = new Float32Array(B * H * hd);
  for (let b = 0; b < B; b++) qLast.set(q.subarray((b * T + T - 1) * H * hd, (b * T + T) * H * hd), b * H * hd);
  const out3 = new Float32Array(B * H * hd);
  attentionCachedForward(
    out3,
    new Float32Array(H * S),
    qLast,
    kc,
    vc,
    Int32Array.from([T - 1, T - 1]),
    null,
    B,
    1,
    S,
    H,
    KVH,
    hd,
  );
  for (let b = 0; b < B; b++)
    for (let i = 0; i < H * hd; i++)
      assert.ok(Math.abs(out3[b * H * hd + i] - out[(b * T + T - 1) * H * hd + i]) < 1e-6);
});

test("swiglu and residual: gradients", () => {
  const rng = new Rng(7);
  const n = 12;
  const gate = randn(rng, n, 2);
  const up = randn(rng, n);
  const out = new Float32Array(n);
  const R = randn(rng, n);
  const dg = new Float32Array(n);
  const du = new Float32Array(n);
  const sig = new Float32Array(n);
  swigluForward(out, sig, gate, up, n);
  swigluBackward(dg, du, R, gate, up, sig, n);
  check(
    "swiglu",
    [
      { name: "gate", x: gate, g: dg },
      { name: "up", x: up, g: du },
    ],
    () => {
      swigluForward(out, sig, gate, up, n);
      return dot64(out, R);
    },
    1e-3,
  );
  const a = randn(rng, n);
  const b = randn(rng, n);
  const da = new Float32Array(n);
  const db = new Float32Array(n);
  residualBackward(da, db, R, n);
  check(
    "residual",
    [
      { name: "a", x: a, g: da },
      { name: "b", x: b, g: db },
    ],
    () => {
      residualForward(out, a, b, n);
      return dot64(out, R);
    },
  );
});

test("cross-entropy with a loss mask: value, gradient, masked rows get zero gradient", () => {
  const rng = new Rng(8);
  const N = 4,
    V = 5;
  const logits = randn(rng, N * V);
  const targets = Int32Array.from([1, -1, 4, 0]);
  const mask = Float32Array.from([1, 1, 0, 1]); // row 1 ignored by target, row 2 by mask
  const d = new Float32Array(N * V);
  const loss = crossEntropyForward(d, logits, targets, mask, N, V);
  let ref = 0;
  for (const n of [0, 3]) {
    let s = 0;
    for (let j = 0; j < V; j++) s += Math.exp(logits[n * V + j]);
    ref += Math.log(s) - logits[n * V + targets[n]];
  }
  assert.ok(Math.abs(loss - ref / 2) < 1e-6, `loss ${loss} vs ${ref / 2}`);
  for (let j = 0; j < V; j++) assert.equal(d[1 * V + j], 0);
  for (let j = 0; j < V; j++) assert.equal(d[2 * V + j], 0);
  check(
    "cross-entropy",
    [{ name: "logits", x: logits, g: d }],
    () => crossEntropyForward(null, logits, targets, mask, N, V),
    1e-3,
  );
  assert.equal(crossEntropyForward(null, logits, targets, new Float32Array(N), N, V), 0);
});

test("log-softmax, token log-prob and entropy: values and gradients", () => {
  const rng = new Rng(9);
  const N = 3,
    V = 6;
  const logits = randn(rng, N * V, 2);
  const ls = new Float32Array(N * V);
  logSoftmaxForward(ls, logits, N, V);
  for (let n = 0; n < N; n++) {
    let s = 0;
    for (let j = 0; j < V; j++) s += Math.exp(ls[n * V + j]);
    assert.ok(Math.abs(s - 1) < 1e-6);
  }
  const targets = Int32Array.from([3, 0, 5]);
  const lp = new Float32Array(N);
  tokenLogprobForward(lp, logits, targets, N, V);
  for (let n = 0; n < N; n++) assert.ok(Math.abs(lp[n] - ls[n * V + targets[n]]) < 1e-6);
  const R = randn(rng, N);
  const dl = new Float32Array(N * V);
  tokenLogprobBackward(dl, R, logits, targets, N, V);
  check(
    "token-logprob",
    [{ name: "logits", x: logits, g: dl }],
    () => {
      tokenLogprobForward(lp, logits, targets, N, V);
      return dot64(lp, R);
    },
    1e-3,
  );
  const ent = new Float32Array(N);
  entropyForward(ent, new Float32Array(N * V), N, V);
  for (let n = 0; n < N; n++) assert.ok(Math.abs(ent[n] - Math.log(V)) < 1e-6, "uniform entropy is log V");
  entropyForward(ent, logits, N, V);
  for (let n = 0; n < N; n++) {
    let h = 0;
    for (let j = 0; j < V; j++) h -= Math.exp(ls[n * V + j]) * ls[n * V + j];
    assert.ok(Math.abs(ent[n] - h) < 1e-5);
  }
  const de = new Float32Array(N * V);
  entropyBackward(de, R, logits, N, V);
  check(
    "entropy",
    [{ name: "logits", x: logits, g: de }],
    () => {
      entropyForward(ent, logits, N, V);
      return dot64(ent, R);
    },
    1e-3,
  );
});

test("value head: gradients wrt hidden, weight, bias", () => {
  const rng = new Rng(10);
  const N = 4,
    C = 5;
  const hidden = randn(rng, N * C);
  const w = randn(rng, C);
  const b = randn(rng, 1);
  const vals = new Float32Array(N);
  const R = randn(rng, N);
  const dh = new Float32Array(N * C);
  const dw = new Float32Array(C);
  const db = new Float32Array(1);
  valueHeadBackward(dh, dw, db, R, hidden, w, N, C);
  check(
    "value-head",
    [
      { name: "hidden", x: hidden, g: dh },
      { name: "w", x: w, g: dw },
      { name: "b", x: b, g: db },
    ],
    () => {
      valueHeadForward(vals, hidden, w, b, N, C);
      return dot64(vals, R);
    },
  );
});

test("dropout masks drop a share p of elements (both the geometric-gap and the 16-bit paths) and scale by 1/(1-p)", () => {
  const n = 200000;
  const inp = new Float32Array(n).fill(1);
  const out = new Float32Array(n);
  const keep = new Float32Array(n);
  for (const p of [0.05, 0.2, 0.5]) {
    dropoutForward(out, keep, inp, n, p, new Rng(`drop${p}`));
    let dropped = 0;
    for (let i = 0; i < n; i++) {
      if (keep[i] === 0) dropped++;
      else assert.ok(Math.abs(keep[i] - 1 / (1 - p)) < 1e-6);
      assert.equal(out[i], keep[i]);
    }
    const sd = Math.sqrt((p * (1 - p)) / n);
    assert.ok(Math.abs(dropped / n - p) < 5 * sd, `p=${p}: dropped ${dropped / n}`);
    // no long-range structure: the two halves drop at the same rate
    let firstHalf = 0;
    for (let i = 0; i < n / 2; i++) if (keep[i] === 0) firstHalf++;
    assert.ok(Math.abs(firstHalf / (n / 2) - p) < 5 * Math.sqrt((p * (1 - p)) / (n / 2)));
  }
});

test("rope is relative: q.k after rotation depends only on the distance between positions", () => {
  const rng = new Rng(11);
  const hd = 8;
  const { cos, sin } = ropeTables(64, hd, 10000);
  const x = randn(rng, hd);
  const y = randn(rng, hd);
  const dotAt = (pq: number, pk: number) => {
    const a = new Float32Array(hd);
    const b = new Float32Array(hd);
    ropeForward(a, x, Int32Array.from([pq]), cos, sin, 1, 1, hd);
    ropeForward(b, y, Int32Array.from([pk]), cos, sin, 1, 1, hd);
    return dot64(a, b);
  };
  for (const shift of [1, 7, 30]) {
    assert.ok(Math.abs(dotAt(9, 4) - dotAt(9 + shift, 4 + shift)) < 1e-4);
    assert.ok(Math.abs(dotAt(3, 3) - dotAt(3 + shift, 3 + shift)) < 1e-4);
  }
});

test("fastExp matches Math.exp to 2e-11 relative over the range softmax and sigmoid use; edges", () => {
  const rng = new Rng(12);
  let worst = 0;
  for (let i = 0; i < 100000; i++) {
    const x = rng.uniform(-100, 100);
    worst = Math.max(worst, Math.abs(fastExp(x) - Math.exp(x)) / Math.exp(x));
  }
  for (const x of [-700, -87.3, -1e-9, 0, 1e-9, 0.5 * Math.LN2, 1, 88.7, 700]) {
    worst = Math.max(worst, Math.abs(fastExp(x) - Math.exp(x)) / Math.exp(x));
  }
  assert.ok(worst < 2e-11, `worst relative error ${worst}`);
  assert.equal(fastExp(0), 1);
  assert.equal(fastExp(-Infinity), 0);
  assert.equal(fastExp(Infinity), Infinity);
  assert.ok(Number.isNaN(fastExp(NaN)));
});

test("fastSigmoid matches the exact sigmoid to 1e-11 everywhere; edges", () => {
  const rng = new Rng(13);
  let worst = 0;
  for (let i = 0; i < 100000; i++) {
    const x = rng.uniform(-40, 40);
    worst = Math.max(worst, Math.abs(fastSigmoid(x) - 1 / (1 + Math.exp(-x))));
  }
  for (const x of [-16, -15.999, -1e-9, 0, 1e-9, 15.999, 16, 100])
    worst = Math.max(worst, Math.abs(fastSigmoid(x) - 1 / (1 + Math.exp(-x))));
  assert.ok(worst < 1e-11, `worst absolute error ${worst}`);
  assert.equal(fastSigmoid(-Infinity), 0);
  assert.equal(fastSigmoid(Infinity), 1);
  assert.ok(Number.isNaN(fastSigmoid(NaN)));
});
