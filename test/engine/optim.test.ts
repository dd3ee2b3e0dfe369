/** AdamW against hand-computed steps, gradient clipping, state round-trip, and the cosine schedule's landmarks. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { AdamW, clipGradNorm, cosineWithWarmup, OptimStateError } from "../../src/engine/optim.js";
import type { Param } from "../../src/engine/model-api.js";

function param(name: string, data: number[], grad: number[], trainable = true): Param {
  return { name, shape: [data.length], data: Float32Array.from(data), grad: Float32Array.from(grad), trainable };
}

const close = (a: number, b: number, tol = 1e-6) => assert.ok(Math.abs(a - b) <= tol, `${a} != ${b}`);

test("AdamW: first step by hand, second step matches torch.optim.AdamW (float64)", () => {
  const p = param("w", [1, -2], [0.5, -0.1]);
  const frozen = param("f", [3], [100], false);
  const opt = new AdamW([p, frozen], { lr: 0.1, weightDecay: 0.01 });
  assert.equal(opt.params.length, 1, "only trainable params are optimized");
  opt.step();
  // step 1: m_hat = g, v_hat = g^2, so p = p*(1 - lr*wd) - lr * g / (|g| + eps)
  close(p.data[0], 1 * (1 - 0.001) - (0.1 * 0.5) / (0.5 + 1e-8));
  close(p.data[1], -2 * (1 - 0.001) + (0.1 * 0.1) / (0.1 + 1e-8));
  assert.equal(frozen.data[0], 3);
  p.grad.set([-0.5, 0.3]);
  opt.step();
  // reference: torch.optim.AdamW([w], lr=0.1, weight_decay=0.01), same two gradients, float64
  close(p.data[0], 0.9033641597874735);
  close(p.data[1], -1.9455209911100655);
  assert.equal(opt.stepCount, 2);
});

test("AdamW: lr override, decay filter, state dict round-trip continues identically", () => {
  const mk = () => [param("a", [0.3, 0.7, -1], [0.2, -0.4, 0.1]), param("norm", [1, 1], [0.05, -0.05])];
  const cfg = { lr: 0.01, weightDecay: 0.1, decays: (q: Param) => q.name !== "norm" };
  const p1 = mk();
  const o1 = new AdamW(p1, cfg);
  o1.step();
  o1.step(0.02);
  const saved = o1.stateDict();
  const snapshot = p1.map((q) => q.data.slice());
  o1.step();
  const p2 = mk();
  p2.forEach((q, i) => q.data.set(snapshot[i]));
  const o2 = new AdamW(p2, cfg);
  o2.loadStateDict(saved);
  o2.step();
  for (let k = 0; k < 2; k++) assert.deepEqual(Array.from(p2[k].data), Array.from(p1[k].data));
  // with a zero gradient, only decayed params move (and the moments' momentum)
  const z = param("z", [2], [0]);
  const n = param("norm", [2], [0]);
  new AdamW([z, n], cfg).step();
  close(z.data[0], 2 * (1 - 0.01 * 0.1));
  assert.equal(n.data[0], 2);
  assert.throws(
    () => o2.loadStateDict({ step: 1, m: [new Float32Array(3)], v: [new Float32Array(3)] }),
    OptimStateError,
  );
});

test("clipGradNorm returns the pre-clip norm and scales only when above the limit", () => {
  const a = param("a", [0, 0], [3, 0]);
  const b = param("b", [0], [4]);
  const f = param("f", [0], [100], false);
  close(clipGradNorm([a, b, f], 1), 5);
  close(a.grad[0], 3 / (5 + 1e-6), 1e-7);
  close(b.grad[0], 4 / (5 + 1e-6), 1e-7);
  assert.equal(f.grad[0], 100, "frozen params are ignored");
  close(clipGradNorm([a, b], 10), 1, 1e-5);
  close(b.grad[0], 0.8, 1e-6);
  const nan = param("n", [0], [NaN]);
  assert.ok(Number.isNaN(clipGradNorm([nan], 1)));
});

test("cosineWithWarmup: 0 at step 0, base at warm-up end, half-way at the midpoint, min at the end", () => {
  const o = { baseLr: 1e-3, warmupSteps: 10, totalSteps: 110 };
  assert.equal(cosineWithWarmup(0, o), 0);
  close(cosineWithWarmup(5, o), 5e-4, 1e-12);
  close(cosineWithWarmup(10, o), 1e-3, 1e-12);
  close(cosineWithWarmup(60, o), 5e-4, 1e-12);
  close(cosineWithWarmup(35, o), 1e-3 * 0.5 * (1 + Math.cos(Math.PI / 4)), 1e-12);
  close(cosineWithWarmup(110, o), 0, 1e-12);
  close(cosineWithWarmup(500, o), 0, 1e-12);
  const m = { ...o, minLr: 1e-4 };
  close(cosineWithWarmup(60, m), 1e-4 + 0.9e-3 * 0.5, 1e-12);
  close(cosineWithWarmup(110, m), 1e-4, 1e-12);
  close(cosineWithWarmup(0, { baseLr: 2, warmupSteps: 0, totalSteps: 4 }), 2, 1e-12);
});
