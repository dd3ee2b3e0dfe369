/** safetensors reader/writer (format only): 8-byte LE header length, JSON header, raw little-endian tensor bytes. */

import { readFile, rm, writeFile } from "node:fs/promises";
import { endianness } from "node:os";
import { z } from "zod";
import { withPathAsync } from "../data/fs-errors.js";

/** Raised for a malformed or unsupported safetensors file; the message names the file and the tensor. */
export class SafetensorsError extends Error {
  override name = "SafetensorsError";
}

/** A tensor as the engine holds it: float32 values, row-major, with its PyTorch shape. */
export interface Tensor {
  shape: readonly number[];
  data: Float32Array;
}

/** A decoded file: tensors (converted to float32) in header order, their stored dtypes, and the string metadata. */
export interface SafetensorsFile {
  tensors: Map<string, Tensor>;
  dtypes: Map<string, string>;
  metadata: Record<string, string>;
}

const BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, F64: 8 };

const EntrySchema = z.object({
  dtype: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  data_offsets: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]),
});
const MetadataSchema = z.record(z.string(), z.string());

// The format is little-endian; typed arrays use the host order, so a big-endian host would need byte swaps.
if (endianness() !== "LE") throw new SafetensorsError("safetensors: big-endian hosts are not supported");

/** Serialize float32 tensors (stored as F32) plus optional string metadata. Offsets follow insertion order. */
export function encodeSafetensors(
  tensors: Iterable<[string, Tensor]> | Map<string, Tensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  const list: [string, Tensor][] = [];
  let off = 0;
  for (const [name, t] of tensors) {
    if (name === "__metadata__") throw new SafetensorsError(`safetensors: "__metadata__" is not a valid tensor name`);
    if (name in header) throw new SafetensorsError(`safetensors: duplicate tensor name "${name}"`);
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length)
      throw new SafetensorsError(
        `safetensors: tensor "${name}" shape [${t.shape}] has ${n} elements but data has ${t.data.length}`,
      );
    header[name] = { dtype: "F32", shape: [...t.shape], data_offsets: [off, off + 4 * n] };
    list.push([name, t]);
    off += 4 * n;
  }
  let json = JSON.stringify(header);
  // pad with spaces so the data section starts 8-byte aligned (what the reference writer does)
  const raw = Buffer.byteLength(json, "utf8");
  json += " ".repeat((8 - ((8 + raw) % 8)) % 8);
  const headerBytes = Buffer.from(json, "utf8");
  const out = new Uint8Array(8 + headerBytes.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const [, t] of list) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    pos += t.data.byteLength;
  }
  return out;
}

/** float16 bits -> float32 value (normals, subnormals, inf, NaN). */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Decode a safetensors byte buffer; F32, F16, BF16 and F64 tensors become Float32Array. `file` names errors. */
export function decodeSafetensors(bytes: Uint8Array, file = "<buffer>"): SafetensorsFile {
  if (bytes.length < 8)
    throw new SafetensorsError(`${file}: too short for a safetensors header (${bytes.length} bytes)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = Number(dv.getBigUint64(0, true));
  if (8 + hlen > bytes.length)
    throw new SafetensorsError(
      `${file}: header length ${hlen} exceeds the file size ${bytes.length} (not a safetensors file?)`,
    );
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, hlen).toString("utf8"));
  } catch (e) {
    throw new SafetensorsError(`${file}: header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header))
    throw new SafetensorsError(`${file}: header must be a JSON object`);
  const dataStart = 8 + hlen;
  const dataLen = bytes.length - dataStart;
  const result: SafetensorsFile = { tensors: new Map(), dtypes: new Map(), metadata: {} };
  for (const [name, value] of Object.entries(header)) {
    if (name === "__metadata__") {
      const m = MetadataSchema.safeParse(value);
      if (!m.success) throw new SafetensorsError(`${file}: __metadata__ must map strings to strings`);
      result.metadata = m.data;
      continue;
    }
    const e = EntrySchema.safeParse(value);
    if (!e.success)
      throw new SafetensorsError(`${file}: tensor "${name}": bad header entry (${e.error.issues[0]?.message})`);
    const {
      dtype,
      shape,
      data_offsets: [begin, end],
    } = e.data;
    const width = BYTES[dtype];
    if (width === undefined)
      throw new SafetensorsError(`${file}: tensor "${name}": dtype ${dtype} is not supported (F32, F16, BF16, F64)`);
    const n = shape.reduce((a, b) => a * b, 1);
    if (end < begin || end > dataLen || end - begin !== n * width)
      throw new SafetensorsError(
        `${file}: tensor "${name}": data_offsets [${begin}, ${end}] do not fit shape [${shape}] of ${dtype} in ${dataLen} data bytes`,
      );
    // copy into a fresh aligned buffer: the data section need not be aligned for the element width
    // (Buffer.slice is a view, so copy explicitly)
    const chunk = new Uint8Array(end - begin);
    chunk.set(bytes.subarray(dataStart + begin, dataStart + end));
    let data: Float32Array;
    if (dtype === "F32") data = new Float32Array(chunk.buffer, 0, n);
    else if (dtype === "F64") data = Float32Array.from(new Float64Array(chunk.buffer, 0, n));
    else {
      const u16 = new Uint16Array(chunk.buffer, 0, n);
      data = new Float32Array(n);
      if (dtype === "BF16") {
        const u32 = new Uint32Array(data.buffer);
        for (let i = 0; i < n; i++) u32[i] = u16[i] << 16; // bf16 is the top half of a float32
      } else for (let i = 0; i < n; i++) data[i] = halfToFloat(u16[i]);
    }
    result.tensors.set(name, { shape, data });
    result.dtypes.set(name, dtype);
  }
  return result;
}

/** Write float32 tensors to `path` as a safetensors file. */
export async function writeSafetensors(
  path: string,
  tensors: Iterable<[string, Tensor]> | Map<string, Tensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  const bytes = encodeSafetensors(tensors, metadata);
  // a full disk must name the file and leave no truncated copy that a later load would trust
  await withPathAsync(path, "write", () =>
    writeFile(path, bytes).catch(async (e: unknown) => {
      await rm(path, { force: true });
      throw e;
    }),
  );
}

/** Read a safetensors file from disk (all tensors as float32). */
export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  return decodeSafetensors(await readFile(path), path);
}
