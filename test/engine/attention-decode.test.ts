/** The decode-step attention loops (one query per row, 4 head dims at a time) against the gemm prefill path. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { attentionCachedForward } from "../../src/engine/ops/attention.js";
import { Rng } from "../../src/data/rng.js";

test("decode-step attention equals the prefill path's last row: hd 4, 6, 16 (loops, leftovers), 64 with long rows (gemm), GQA, rows", () => {
  const r = new Rng(31);
  for (const hd of [4, 6, 16, 64]) {
    const B = 3,
      H = 4,
      KVH = 2,
      S = hd === 64 ? 40 : 9;
    const ks = KVH * hd;
    const kc = Float32Array.from({ length: (B + 1) * S * ks }, () => r.normal());
    const vc = Float32Array.from({ length: (B + 1) * S * ks }, () => r.normal());
    // position of the decoded token in each row; with hd 64, row 2 has 40 keys: L*hd = 2560 takes the gemm branch
    const start = Int32Array.from(hd === 64 ? [0, 8, 39] : [0, 4, 8]);
    const rows = Int32Array.from([3, 0, 2]); // cache row of each batch row
    const q = Float32Array.from({ length: B * H * hd }, () => r.normal());
    const dec = new Float32Array(B * H * hd);
    attentionCachedForward(dec, new Float32Array(H * S), q, kc, vc, start, rows, B, 1, S, H, KVH, hd);
    // reference: each row alone through the T > 1 (gemm) path, its query repeated twice at start-1 and start
    for (let b = 0; b < B; b++) {
      if (start[b] === 0) continue; // the T = 2 reference needs a previous position
      const q2 = new Float32Array(2 * H * hd);
      q2.set(q.subarray(b * H * hd, (b + 1) * H * hd), H * hd);
      const out2 = new Float32Array(2 * H * hd);
      const st = Int32Array.from([start[b] - 1]);
      attentionCachedForward(
        out2,
        new Float32Array(H * 2 * S),
        q2,
        kc,
        vc,
        st,
        rows.subarray(b, b + 1),
        1,
        2,
        S,
        H,
        KVH,
        hd,
      );
      for (let i = 0; i < H * hd; i++)
        assert.ok(
          Math.abs(dec[b * H * hd + i] - out2[H * hd + i]) < 1e-5,
          `hd ${hd} row ${b} dim ${i}: ${dec[b * H * hd + i]} vs ${out2[H * hd + i]}`,
        );
    }
    // start 0: the only key is position 0, so the output is v at position 0 of that row's kv head
    for (let h = 0; h < H; h++)
      for (let i = 0; i < hd; i++)
        assert.ok(Math.abs(dec[h * hd + i] - vc[rows[0] * S * ks + Math.floor(h / 2) * hd + i]) < 1e-6);
  }
});
