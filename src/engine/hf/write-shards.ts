/**
 * Writes tensors as Hugging Face does: one model.safetensors, or shards model-0000i-of-0000n.safetensors with
 * model.safetensors.index.json, in F32 or BF16. Each tensor is encoded and written on its own (never the whole file
 * in one buffer).
 */

import { open, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { floatToBf16 } from "../quant/bf16.js";
import type { Tensor } from "../safetensors.js";

export type StoredDtype = "F32" | "BF16";

export interface WriteShardsOptions {
  /** Stored dtype. Default "BF16" (what released checkpoints use). */
  dtype?: StoredDtype;
  /** Number of shard files; 1 writes model.safetensors with no index. Default 1. */
  shards?: number;
  /** String metadata of every file. Default { format: "pt" } (transformers requires it). */
  metadata?: Record<string, string>;
  /** Basename prefix (Default "model"; PEFT adapters use "adapter_model" with shards = 1). */
  prefix?: string;
}

/** A tensor to write: values as float32 (rounded to bf16 when dtype is BF16), or a lazy producer of them. */
export type TensorSource = Tensor | { shape: readonly number[]; values: () => Float32Array };

function valuesOf(t: TensorSource): Float32Array {
  return "data" in t ? t.data : t.values();
}

/** Bytes of one tensor in `dtype`. */
function encode(v: Float32Array, dtype: StoredDtype): Uint8Array {
  if (dtype === "F32") return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  const u = new Uint16Array(v.length);
  for (let i = 0; i < v.length; i++) u[i] = floatToBf16(v[i]);
  return new Uint8Array(u.buffer);
}

async function writeOne(
  path: string,
  list: [string, TensorSource][],
  dtype: StoredDtype,
  metadata: Record<string, string>,
): Promise<number> {
  const width = dtype === "F32" ? 4 : 2;
  const header: Record<string, unknown> = { __metadata__: metadata };
  let off = 0;
  for (const [name, t] of list) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    header[name] = { dtype, shape: [...t.shape], data_offsets: [off, off + n * width] };
    off += n * width;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const hb = Buffer.from(json, "utf8");
  const fh = await open(path, "w");
  try {
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(hb.length));
    await fh.write(len);
    await fh.write(hb);
    for (const [name, t] of list) {
      const v = valuesOf(t);
      const n = t.shape.reduce((a, b) => a * b, 1);
      if (v.length !== n)
        throw new RangeError(`${path}: tensor "${name}" has ${v.length} values for shape [${t.shape}]`);
      await fh.write(encode(v, dtype));
    }
  } finally {
    await fh.close();
  }
  return off;
}

/** Write `tensors` into `dir` (which must exist); returns the file names written. */
export async function writeShards(
  dir: string,
  tensors: [string, TensorSource][],
  options: WriteShardsOptions = {},
): Promise<string[]> {
  const dtype = options.dtype ?? "BF16";
  const n = Math.max(1, Math.min(options.shards ?? 1, tensors.length));
  const metadata = options.metadata ?? { format: "pt" };
  const prefix = options.prefix ?? "model";
  if (n === 1) {
    await writeOne(join(dir, `${prefix}.safetensors`), tensors, dtype, metadata);
    return [`${prefix}.safetensors`];
  }
  // contiguous groups of about equal size, in the given order (a group left empty by a large tensor is dropped)
  const sizes = tensors.map(([, t]) => t.shape.reduce((a, b) => a * b, 1));
  const total = Math.max(
    1,
    sizes.reduce((a, b) => a + b, 0),
  );
  const buckets: [string, TensorSource][][] = Array.from({ length: n }, () => []);
  let acc = 0;
  tensors.forEach((t, i) => {
    const g = Math.max(Math.min(n - 1, Math.floor((acc * n) / total)), n - (tensors.length - i));
    buckets[Math.min(g, n - 1)].push(t);
    acc += sizes[i];
  });
  const groups = buckets.filter((g) => g.length > 0);
  const names: string[] = [];
  const weightMap: Record<string, string> = {};
  let bytes = 0;
  for (let i = 0; i < groups.length; i++) {
    const f = `${prefix}-${String(i + 1).padStart(5, "0")}-of-${String(groups.length).padStart(5, "0")}.safetensors`;
    bytes += await writeOne(join(dir, f), groups[i], dtype, metadata);
    for (const [name] of groups[i]) weightMap[name] = f;
    names.push(f);
  }
  await writeFile(
    join(dir, `${prefix}.safetensors.index.json`),
    JSON.stringify({ metadata: { total_size: bytes }, weight_map: weightMap }, null, 2) + "\n",
  );
  return names;
}
