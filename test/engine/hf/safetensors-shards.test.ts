/**
 * The shard reader reads by offset: a tensor stored beyond 2 GiB in a (sparse) file is read without holding the file,
 * F16/F32/BF16 convert exactly, and a header that does not fit its file is refused naming the file and tensor.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SafetensorsShards } from "../../../src/engine/hf/safetensors-shards.js";

function header(entries: Record<string, unknown>): Buffer {
  let json = JSON.stringify(entries);
  json += " ".repeat((8 - ((8 + json.length) % 8)) % 8);
  const h = Buffer.from(json);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  return Buffer.concat([len, h]);
}

test("a tensor past 2 GiB is read by offset (sparse file, nothing held whole)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mst-st-"));
  try {
    const big = 2 ** 31 + 4096; // bytes of a tensor nobody reads: a hole in the file
    const h = header({
      big: { dtype: "F32", shape: [big / 4], data_offsets: [0, big] },
      small: { dtype: "BF16", shape: [2, 2], data_offsets: [big, big + 8] },
      half: { dtype: "F16", shape: [3], data_offsets: [big + 8, big + 14] },
    });
    const fh = await open(join(dir, "model.safetensors"), "w");
    await fh.write(h, 0, h.length, 0);
    const bf = Uint16Array.from([0x3f80, 0xc000, 0x4040, 0x3e80]); // 1, -2, 3, 0.25
    const f16 = Uint16Array.from([0x3c00, 0xc500, 0x0001]); // 1, -5, 2^-24
    await fh.write(new Uint8Array(bf.buffer), 0, 8, h.length + big);
    await fh.write(new Uint8Array(f16.buffer), 0, 6, h.length + big + 8);
    await fh.close();
    const st = await SafetensorsShards.open(dir);
    try {
      const s = st.info("small", "test");
      assert.ok(s.offset > 2 ** 31);
      const out = new Float32Array(4);
      await st.readF32(s, out);
      assert.deepEqual(Array.from(out), [1, -2, 3, 0.25]);
      const bits = new Uint16Array(4);
      await st.readBf16(s, bits);
      assert.deepEqual(Array.from(bits), Array.from(bf));
      const hf = new Float32Array(3);
      await st.readF32(st.info("half", "test"), hf);
      assert.deepEqual(Array.from(hf), [1, -5, 2 ** -24]);
    } finally {
      await st.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a header entry that does not fit the file is refused naming the file and tensor", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mst-st-"));
  try {
    const h = header({ w: { dtype: "F32", shape: [4], data_offsets: [0, 16] } });
    writeFileSync(join(dir, "model.safetensors"), Buffer.concat([h, Buffer.alloc(8)]));
    await assert.rejects(
      SafetensorsShards.open(dir),
      /model\.safetensors: tensor "w": data_offsets \[0, 16\] do not fit shape \[4\] of F32 in the file/,
    );
    writeFileSync(join(dir, "model.safetensors"), header({ w: { dtype: "I8", shape: [1], data_offsets: [0, 1] } }));
    await assert.rejects(SafetensorsShards.open(dir), /tensor "w": dtype I8 is not supported/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
