/**
 * bitsandbytes' dynamic 8-bit map (the second level of NF4 double quantisation): its 256 values against values
 * computed by hand from create_dynamic_map's formula and against torch 1.13's output, sortedness and range; the
 * nearest-value rule; and the absmax error of each dequantised block within half the local map spacing.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../../src/data/rng.js";
import {
  DYNAMIC_MAP,
  dynamicHalfSpacing,
  dynamicIndex,
  linspaceF32,
  quantizeDynamic,
} from "../../../src/engine/quant/dynamic-map.js";

const f = Math.fround;

/** The next float32 above x (x a finite float32). */
function nextFloat32(x: number): number {
  const b = new Float32Array([x]);
  const u = new Int32Array(b.buffer);
  if (x === 0) u[0] = 1;
  else u[0] += x > 0 ? 1 : -1;
  return b[0];
}

test("the dynamic map: 256 sorted values in [-1, 1], one zero, 127 of each sign, ending at exactly 1", () => {
  assert.equal(DYNAMIC_MAP.length, 256);
  for (let i = 1; i < 256; i++) assert.ok(DYNAMIC_MAP[i] > DYNAMIC_MAP[i - 1], `index ${i}`);
  assert.equal(DYNAMIC_MAP[127], 0);
  assert.equal(DYNAMIC_MAP[255], 1);
  assert.equal(DYNAMIC_MAP.filter((v) => v < 0).length, 127);
  assert.ok(DYNAMIC_MAP[0] > -1);
  // symmetric apart from the extra 1: index 127 - k and 127 + k are negatives of each other
  for (let k = 1; k <= 127; k++) assert.equal(DYNAMIC_MAP[127 - k], -DYNAMIC_MAP[127 + k]);
});

test("the dynamic map: spot values from the formula (linspace midpoints times 10^(i-6)) and from torch", () => {
  // i = 0: one midpoint of linspace(0.1, 1, 2) = 0.55, times 1e-6: the smallest positive value (index 128)
  assert.equal(DYNAMIC_MAP[128], f(f(1e-6) * f(f(f(0.1) + 1) / 2)));
  assert.equal(DYNAMIC_MAP[126], -DYNAMIC_MAP[128]);
  // i = 1: linspace(0.1, 1, 3) = 0.1, 0.55, 1 -> midpoints 0.325, 0.775, times 1e-5 (indices 129, 130)
  const l3 = linspaceF32(0.1, 1, 3);
  assert.deepEqual(Array.from(l3), [f(0.1), f(0.55), 1]);
  assert.equal(DYNAMIC_MAP[129], f(f(1e-5) * f(f(l3[0] + l3[1]) / 2)));
  assert.equal(DYNAMIC_MAP[130], f(f(1e-5) * f(f(l3[1] + l3[2]) / 2)));
  // i = 6: the largest below 1 is the last midpoint of linspace(0.1, 1, 65): (0.9859375 + 1) / 2
  assert.equal(DYNAMIC_MAP[254], f(0.99296875));
  assert.equal(DYNAMIC_MAP[0], -DYNAMIC_MAP[254]);
  // values torch 1.13 printed for bitsandbytes' create_dynamic_map() (x86-64, float32)
  const torch: [number, number][] = [
    [1, -0.9789062142372131],
    [4, -0.9367187023162842],
    [36, -0.4867187738418579],
    [60, -0.14921875298023224],
    [100, -0.0074687497690320015],
    [126, -5.500000384017767e-7],
    [129, 3.250000190746505e-6],
    [140, 0.0007187500596046448],
    [200, 0.23359376192092896],
    [253, 0.9789062142372131],
  ];
  for (const [i, v] of torch) assert.equal(DYNAMIC_MAP[i], f(v), `index ${i}`);
  // the decades: 2^i values in (10^(i-7), 10^(i-6)] for i = 0..6 above zero, then 1
  let at = 128;
  for (let i = 0; i < 7; i++)
    for (let j = 0; j < 2 ** i; j++, at++) {
      assert.ok(DYNAMIC_MAP[at] > 0.1 * 10 ** (i - 6) && DYNAMIC_MAP[at] < 10 ** (i - 6), `index ${at}`);
    }
  assert.equal(at, 255);
});

test("nearest-value rule: codes map to themselves, midpoints go to the lower code", () => {
  for (let i = 0; i < 256; i++) assert.equal(dynamicIndex(DYNAMIC_MAP[i]), i);
  for (let i = 0; i < 255; i++) {
    const mid = f(f(DYNAMIC_MAP[i] + DYNAMIC_MAP[i + 1]) / 2);
    assert.equal(dynamicIndex(mid), i, `midpoint ${i}`);
    assert.equal(dynamicIndex(nextFloat32(mid)), i + 1, `just above midpoint ${i}`);
  }
  assert.equal(dynamicIndex(-1), 0);
  assert.equal(dynamicIndex(1), 255);
});

test("blockwise quantisation: each value's error is within half the local map spacing times its block's absmax", () => {
  const rng = new Rng(7);
  const n = 256 * 5 + 77; // a partial last block
  const v = Float32Array.from({ length: n }, (_, i) => rng.normal() * (i % 300 === 0 ? 1 : 0.01));
  v.fill(0, 256, 512); // an all-zero block: every value maps to 0
  const q = new Uint8Array(n);
  const absmax = new Float32Array(Math.ceil(n / 256));
  quantizeDynamic(v, 256, q, absmax);
  for (let i = 0; i < n; i++) {
    const a = absmax[Math.floor(i / 256)];
    const k = q[i];
    const err = Math.abs(f(DYNAMIC_MAP[k] * a) - v[i]);
    const bound = dynamicHalfSpacing(k) * a + a * 2 ** -23; // plus the float32 rounding of code * absmax
    assert.ok(err <= bound, `value ${i}: error ${err}, bound ${bound}`);
  }
  for (let i = 256; i < 512; i++) assert.equal(q[i], 127);
});
