/** safetensors: our round-trip, a file written by plain Python (struct + json), and Python reading ours. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  decodeSafetensors,
  encodeSafetensors,
  readSafetensors,
  writeSafetensors,
  SafetensorsError,
} from "../../src/engine/safetensors.js";
import { testPython } from "../python-env.js";

const PY = testPython;
const noPython = existsSync(PY) || PY === "python3" ? false : `no ${PY}`;

test("encode/decode round-trip keeps names, order, shapes, values and metadata; data starts 8-byte aligned", () => {
  const a = { shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 1e-30, -0, 7]) };
  const big = new Float32Array(10).map((_, i) => i / 3);
  const b = { shape: [4], data: big.subarray(3, 7) }; // a view with a byteOffset
  const bytes = encodeSafetensors(
    new Map([
      ["z.weight", a],
      ["a.bias", b],
    ]),
    { format: "pt", note: "ü" },
  );
  const hlen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal((8 + hlen) % 8, 0);
  const f = decodeSafetensors(bytes);
  assert.deepEqual([...f.tensors.keys()], ["z.weight", "a.bias"]);
  assert.deepEqual(f.tensors.get("z.weight")!.shape, [2, 3]);
  assert.deepEqual(Array.from(f.tensors.get("z.weight")!.data), Array.from(a.data));
  assert.deepEqual(Array.from(f.tensors.get("a.bias")!.data), Array.from(b.data));
  assert.deepEqual(f.metadata, { format: "pt", note: "ü" });
  assert.equal(f.dtypes.get("a.bias"), "F32");
});

test("bad files give errors naming the file and tensor", () => {
  assert.throws(() => decodeSafetensors(new Uint8Array(4), "x.st"), /x\.st: too short/);
  const hdr = Buffer.from(JSON.stringify({ w: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }));
  const buf = Buffer.alloc(8 + hdr.length + 8);
  buf.writeBigUInt64LE(BigInt(hdr.length));
  hdr.copy(buf, 8);
  assert.throws(() => decodeSafetensors(buf, "y.st"), /y\.st: tensor "w": data_offsets/);
  const hdr2 = Buffer.from(JSON.stringify({ w: { dtype: "I8", shape: [1], data_offsets: [0, 1] } }));
  const buf2 = Buffer.alloc(8 + hdr2.length + 1);
  buf2.writeBigUInt64LE(BigInt(hdr2.length));
  hdr2.copy(buf2, 8);
  assert.throws(() => decodeSafetensors(buf2, "z.st"), SafetensorsError);
  assert.throws(() => encodeSafetensors([["w", { shape: [2, 2], data: new Float32Array(3) }]]), /4 elements/);
});

test(
  "reads F32, F16 and BF16 from a file written by plain Python (struct + json, unaligned header)",
  { skip: noPython },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "mst-st-"));
    try {
      const file = join(dir, "py.safetensors");
      const script = `
import json, struct, sys
f32 = struct.pack('<4f', 1.0, -2.5, 0.1, 3e38)
f16 = struct.pack('<5H', 15360, 49408, 31743, 2, 16968)    # 1, -2.5, 65504, 2^-23 (subnormal), 3.140625
bf16 = struct.pack('<4H', 16256, 49184, 16457, 29002)      # 1, -2.5, 3.140625, ~1.00026e30
hdr = {"__metadata__": {"format": "pt"},
       "b": {"dtype": "F16", "shape": [5], "data_offsets": [len(f32), len(f32) + len(f16)]},
       "a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, len(f32)]},
       "c": {"dtype": "BF16", "shape": [2, 2], "data_offsets": [len(f32) + len(f16), len(f32) + len(f16) + len(bf16)]}}
h = json.dumps(hdr).encode() + b' '   # odd length: the data section is not aligned
open(sys.argv[1], 'wb').write(struct.pack('<Q', len(h)) + h + f32 + f16 + bf16)
`;
      const r = spawnSync(PY, ["-c", script, file], { encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      const f = await readSafetensors(file);

      assert.deepEqual(f.metadata, { format: "pt" });
      assert.deepEqual(Array.from(f.tensors.get("a")!.data), Array.from(Float32Array.from([1, -2.5, 0.1, 3e38])));
      assert.deepEqual(f.tensors.get("a")!.shape, [2, 2]);
      assert.deepEqual(Array.from(f.tensors.get("b")!.data), [1, -2.5, 65504, 2 ** -23, 3.140625]);
      assert.deepEqual(Array.from(f.tensors.get("c")!.data), [1, -2.5, 3.140625, 1.0002555517425873e30]);
      assert.equal(f.dtypes.get("c"), "BF16");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test("plain Python parses a file we wrote", { skip: noPython }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "mst-st-"));
  try {
    const file = join(dir, "ours.safetensors");
    await writeSafetensors(file, [["m.w", { shape: [1, 3], data: Float32Array.from([0.5, -1, 2]) }]], { k: "v" });
    const script = `
import json, struct, sys
b = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', b[:8])[0]
h = json.loads(b[8:8 + n])
e = h['m.w']; s, t = e['data_offsets']
print(json.dumps([h['__metadata__'], e['dtype'], e['shape'], list(struct.unpack('<3f', b[8 + n + s:8 + n + t]))]))
`;
    const r = spawnSync(PY, ["-c", script, file], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), [{ k: "v" }, "F32", [1, 3], [0.5, -1, 2]]);
    writeFileSync(join(dir, "junk"), "not a safetensors file at all");
    await assert.rejects(readSafetensors(join(dir, "junk")), /junk: header length/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
