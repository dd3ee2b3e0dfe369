/**
 * NF4 storage: the code table is bitsandbytes' (16 sorted values from -1 to 1 with an exact 0), every value becomes
 * its nearest code times its block's absmax, the error stays within half a code spacing of the block (plus the absmax's
 * own error under double quantisation), and the packed layout (high nibble first, blocks of 64, absmaxes in groups of
 * 256) is what bitsandbytes uses. bf16 rounding is round-to-nearest-even.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../../src/data/rng.js";
import { NF4_ABSMAX_BLOCK, NF4_BLOCK, NF4_CODE, Nf4Matrix, nf4Index } from "../../../src/engine/quant/nf4.js";
import { Bf16Matrix, floatToBf16 } from "../../../src/engine/quant/bf16.js";
import { dequantAll } from "../../../src/engine/quant/packed.js";
import { dynamicHalfSpacing } from "../../../src/engine/quant/dynamic-map.js";

test("the NF4 code table is bitsandbytes': sorted, from -1 to 1, with an exact zero at index 7", () => {
  assert.equal(NF4_CODE.length, 16);
  assert.equal(NF4_CODE[0], -1);
  assert.equal(NF4_CODE[7], 0);
  assert.equal(NF4_CODE[15], 1);
  for (let i = 1; i < 16; i++) assert.ok(NF4_CODE[i] > NF4_CODE[i - 1]);
  assert.equal(NF4_CODE[8], 0.07958029955625534);
  assert.equal(NF4_CODE[1], -0.6961928009986877);
  // every code maps to itself, midpoints split ties consistently
  for (let i = 0; i < 16; i++) assert.equal(nf4Index(NF4_CODE[i]), i);
  assert.equal(nf4Index(0.5), 12); // 0.4407 is nearer than 0.5626
  assert.equal(nf4Index(-0.05), 6);
});

for (const doubleQuant of [false, true])
  test(`NF4 quantise/dequantise (double quantisation ${doubleQuant}): nearest code x absmax, error within half a code spacing`, () => {
    const rng = new Rng(3);
    const rows = 96;
    const cols = 200; // rows*cols not a multiple of 64: blocks span rows, the last block is partial
    const n = rows * cols;
    const v = Float32Array.from({ length: n }, (_, i) => rng.normal() * (i % 977 === 0 ? 8 : 0.3));
    const m = new Nf4Matrix(rows, cols, v, { doubleQuant });
    assert.equal(m.codes.length, n / 2);
    const nb = Math.ceil(n / NF4_BLOCK);
    if (doubleQuant) {
      assert.equal(m.absmaxQ?.length, nb);
      assert.equal(m.scale2?.length, Math.ceil(nb / NF4_ABSMAX_BLOCK));
    } else assert.equal(m.absmax?.length, nb);
    const out = dequantAll(m);
    const maxHalfGap = Math.max(...NF4_CODE.slice(1).map((c, i) => (c - NF4_CODE[i]) / 2));
    for (let b = 0; b < nb; b++) {
      const s = b * NF4_BLOCK;
      const e = Math.min(n, s + NF4_BLOCK);
      let amax = 0;
      for (let i = s; i < e; i++) amax = Math.max(amax, Math.abs(v[i]));
      const a = m.blockScale(b);
      for (let i = s; i < e; i++) {
        // the stored code is the nearest one to x / absmax, and dequantises to code x the stored absmax
        assert.equal(m.codeIndex(i), nf4Index(v[i] / amax), `element ${i}`);
        assert.equal(out[i], Math.fround(NF4_CODE[m.codeIndex(i)] * a));
        const q = m.codeIndex(i);
        const gapHere =
          Math.max(q > 0 ? NF4_CODE[q] - NF4_CODE[q - 1] : 0, q < 15 ? NF4_CODE[q + 1] - NF4_CODE[q] : 0) / 2;
        const bound = amax * Math.min(gapHere, maxHalfGap) + Math.abs(a - amax) + 1e-6 * amax;
        assert.ok(Math.abs(out[i] - v[i]) <= bound, `element ${i}: error ${Math.abs(out[i] - v[i])} > ${bound}`);
      }
      if (!doubleQuant) assert.equal(a, Math.fround(amax));
      // the absmax's own error under double quantisation: half the dynamic map's spacing around its code, times the
      // group's scale
      else {
        const q = (m.absmaxQ as Uint8Array)[b];
        const s2 = (m.scale2 as Float32Array)[Math.floor(b / NF4_ABSMAX_BLOCK)];
        const bound = dynamicHalfSpacing(q) * s2 * (1 + 1e-6) + 1e-6 * amax;
        assert.ok(Math.abs(a - amax) <= bound, `block ${b}`);
      }
    }
    // partial dequantisation (a panel of rows) agrees with the whole
    const part = new Float32Array(7 * cols);
    m.dequantRows(13, 20, part);
    assert.deepEqual(part, out.subarray(13 * cols, 20 * cols));
    // memory: about half a byte per value
    assert.ok(m.bytes / n < (doubleQuant ? 0.53 : 0.57), `${m.bytes / n} bytes per value`);
  });

test("NF4 layout: the first value of a byte sits in the high nibble", () => {
  const v = Float32Array.from([1, -1, 0, 1]);
  const m = new Nf4Matrix(1, 4, v, { doubleQuant: false });
  assert.deepEqual(Array.from(m.codes), [(15 << 4) | 0, (7 << 4) | 15]);
});

test("bf16: round to nearest even, exact round trip of bf16 values", () => {
  assert.equal(floatToBf16(1), 0x3f80);
  assert.equal(floatToBf16(-2), 0xc000);
  // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties to even (1)
  assert.equal(floatToBf16(1 + 2 ** -8), 0x3f80);
  assert.equal(floatToBf16(1 + 3 * 2 ** -8), 0x3f82);
  assert.equal(floatToBf16(Infinity), 0x7f80);
  assert.ok((floatToBf16(NaN) & 0x7fff) > 0x7f80);
  const m = new Bf16Matrix(2, 3);
  const vals = Float32Array.from([1.5, -0.25, 3, 0, 1e-3, -7]);
  m.setRows(0, vals);
  const out = dequantAll(m);
  for (let i = 0; i < 6; i++) assert.ok(Math.abs(out[i] - vals[i]) <= Math.abs(vals[i]) * 2 ** -8);
  assert.deepEqual(Array.from(out.subarray(0, 4)), [1.5, -0.25, 3, 0]);
});
