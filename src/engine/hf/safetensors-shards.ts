/**
 * Reads the tensors of a Hugging Face model directory (model.safetensors, or shards listed in
 * model.safetensors.index.json) by offset through a file handle: only headers are parsed up front, and each tensor is
 * read in pieces straight into its destination, so files of any size load and no file is ever held whole.
 */

import { open, readFile, type FileHandle } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { CheckpointError } from "../checkpoint-error.js";
import { assertFinite, assertFiniteBf16 } from "../finite.js";
import { floatToBf16 } from "../quant/bf16.js";

/** Element widths of the dtypes read (F64 too, for tiny test files written by numpy-less Python). */
const WIDTH: Record<string, number> = { F32: 4, F16: 2, BF16: 2, F64: 8 };
/** Bytes read per piece: large enough for fast reads, small enough to keep the temporary buffer modest. */
const PIECE = 1 << 26;

const EntrySchema = z.object({
  dtype: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  data_offsets: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]),
});
const IndexSchema = z.looseObject({ weight_map: z.record(z.string(), z.string()) });

/** Where one tensor lives. */
export interface TensorInfo {
  readonly name: string;
  readonly file: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  /** Absolute byte offset of the data in `file`. */
  readonly offset: number;
  readonly bytes: number;
}

/** float16 bits -> float32 value. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Parse one safetensors header (8-byte little-endian length + JSON) from an open file. */
async function readHeader(fh: FileHandle, file: string): Promise<TensorInfo[]> {
  const size = (await fh.stat()).size;
  const lenBuf = Buffer.alloc(8);
  if (size < 8 || (await fh.read(lenBuf, 0, 8, 0)).bytesRead !== 8)
    throw new CheckpointError(`${file}: too short for a safetensors header`);
  const hlen = Number(lenBuf.readBigUInt64LE(0));
  if (8 + hlen > size)
    throw new CheckpointError(`${file}: header length ${hlen} exceeds the file size ${size} (not a safetensors file?)`);
  const hbuf = Buffer.alloc(hlen);
  await fh.read(hbuf, 0, hlen, 8);
  let header: unknown;
  try {
    header = JSON.parse(hbuf.toString("utf8"));
  } catch (e) {
    throw new CheckpointError(`${file}: header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header))
    throw new CheckpointError(`${file}: header must be a JSON object`);
  const dataStart = 8 + hlen;
  const out: TensorInfo[] = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const e = EntrySchema.safeParse(value);
    if (!e.success)
      throw new CheckpointError(`${file}: tensor "${name}": bad header entry (${e.error.issues[0]?.message})`);
    const { dtype, shape } = e.data;
    const [begin, end] = e.data.data_offsets;
    const width = WIDTH[dtype];
    if (width === undefined)
      throw new CheckpointError(`${file}: tensor "${name}": dtype ${dtype} is not supported (F32, F16, BF16)`);
    const n = shape.reduce((a, b) => a * b, 1);
    if (end < begin || dataStart + end > size || end - begin !== n * width)
      throw new CheckpointError(
        `${file}: tensor "${name}": data_offsets [${begin}, ${end}] do not fit shape [${shape}] of ${dtype} in the file`,
      );
    out.push({ name, file, dtype, shape, offset: dataStart + begin, bytes: end - begin });
  }
  return out;
}

/** The tensors of a model directory's safetensors file(s), read on demand. Call `close()` when done. */
export class SafetensorsShards {
  /** Every tensor by name. */
  readonly tensors: ReadonlyMap<string, TensorInfo>;
  private readonly handles: Map<string, FileHandle>;

  private constructor(tensors: Map<string, TensorInfo>, handles: Map<string, FileHandle>) {
    this.tensors = tensors;
    this.handles = handles;
  }

  /**
   * Open `dir`/model.safetensors.index.json and every shard it lists (each must exist), or else
   * `dir`/model.safetensors. Throws CheckpointError naming the file that is missing or malformed.
   */
  static async open(dir: string): Promise<SafetensorsShards> {
    const indexFile = join(dir, "model.safetensors.index.json");
    const single = join(dir, "model.safetensors");
    let files: string[];
    let weightMap: Record<string, string> | null = null;
    if (existsSync(indexFile)) {
      let raw: unknown;
      try {
        raw = JSON.parse(await readFile(indexFile, "utf8"));
      } catch (e) {
        throw new CheckpointError(`${indexFile}: invalid JSON (${(e as Error).message})`);
      }
      const r = IndexSchema.safeParse(raw);
      if (!r.success) throw new CheckpointError(`${indexFile}: key "weight_map": ${r.error.issues[0]?.message}`);
      weightMap = r.data.weight_map;
      files = [...new Set(Object.values(weightMap))];
      for (const f of files)
        if (!existsSync(join(dir, f))) {
          const t = Object.keys(weightMap).find((k) => weightMap?.[k] === f);
          throw new CheckpointError(
            `${join(dir, f)}: shard not found (listed in ${indexFile} key "weight_map" for "${t}")`,
          );
        }
    } else if (existsSync(single)) files = ["model.safetensors"];
    else
      throw new CheckpointError(
        `${single}: not found, nor model.safetensors.index.json (only safetensors weights are read, not pytorch_model.bin)`,
      );
    const handles = new Map<string, FileHandle>();
    const tensors = new Map<string, TensorInfo>();
    try {
      for (const f of files) {
        const path = join(dir, f);
        const fh = await open(path, "r");
        handles.set(path, fh);
        for (const t of await readHeader(fh, path)) {
          if (weightMap !== null && weightMap[t.name] !== undefined && weightMap[t.name] !== f) continue;
          tensors.set(t.name, t);
        }
      }
      if (weightMap !== null)
        for (const [name, f] of Object.entries(weightMap))
          if (!tensors.has(name))
            throw new CheckpointError(`${join(dir, f)}: tensor "${name}" is missing (${indexFile} lists it there)`);
    } catch (e) {
      for (const fh of handles.values()) await fh.close();
      throw e;
    }
    return new SafetensorsShards(tensors, handles);
  }

  /** Info of a tensor, or a CheckpointError naming the files searched. */
  info(name: string, where: string): TensorInfo {
    const t = this.tensors.get(name);
    if (t === undefined) throw new CheckpointError(`${where}: tensor "${name}" is missing`);
    return t;
  }

  /** Read the raw bytes of `t` in pieces, calling `sink(bytes, firstElement)` for each (pieces hold whole elements). */
  private async readPieces(t: TensorInfo, sink: (bytes: Buffer, first: number) => void): Promise<void> {
    const fh = this.handles.get(t.file) as FileHandle;
    const width = WIDTH[t.dtype];
    const piece = PIECE - (PIECE % width);
    const buf = Buffer.allocUnsafe(Math.min(piece, Math.max(t.bytes, 1)));
    for (let done = 0; done < t.bytes;) {
      const len = Math.min(piece, t.bytes - done);
      let got = 0;
      while (got < len) {
        const r = await fh.read(buf, got, len - got, t.offset + done + got);
        if (r.bytesRead === 0) throw new CheckpointError(`${t.file}: tensor "${t.name}": file ends early`);
        got += r.bytesRead;
      }
      sink(buf.subarray(0, len), done / width);
      done += len;
    }
  }

  /** The tensor's values as float32 into `dst` (its full size); NaN or an infinity is a NonFiniteWeightsError. */
  async readF32(t: TensorInfo, dst: Float32Array): Promise<void> {
    await this.readPieces(t, (b, first) => {
      const n = b.length / WIDTH[t.dtype];
      // copy to an aligned buffer: a Buffer from the pool need not be aligned for 2/4/8-byte views
      const bytes = new Uint8Array(b);
      if (t.dtype === "F32") dst.set(new Float32Array(bytes.buffer, 0, bytes.length / 4), first);
      else if (t.dtype === "F64") dst.set(new Float64Array(bytes.buffer, 0, bytes.length / 8), first);
      else {
        const u16 = new Uint16Array(bytes.buffer, 0, bytes.length / 2);
        if (t.dtype === "BF16") {
          const out = new Uint32Array(dst.buffer, dst.byteOffset + first * 4, u16.length);
          for (let i = 0; i < u16.length; i++) out[i] = u16[i] << 16;
        } else for (let i = 0; i < u16.length; i++) dst[first + i] = halfToFloat(u16[i]);
      }
      assertFinite(dst.subarray(first, first + n), t.name, t.file, first);
    });
  }

  /**
   * The tensor's values as bf16 bits into `dst`: copied when stored as BF16, else converted (rounded); NaN or an
   * infinity is a NonFiniteWeightsError.
   */
  async readBf16(t: TensorInfo, dst: Uint16Array): Promise<void> {
    if (t.dtype !== "BF16") {
      // convert piece by piece: no float32 copy of the whole tensor
      const width = WIDTH[t.dtype];
      await this.readPieces(t, (b, first) => {
        const n = b.length / width;
        const f = new Float32Array(n);
        const bytes = new Uint8Array(b);
        if (t.dtype === "F32") f.set(new Float32Array(bytes.buffer, 0, n));
        else if (t.dtype === "F64") f.set(new Float64Array(bytes.buffer, 0, n));
        else {
          const u16 = new Uint16Array(bytes.buffer, 0, n);
          for (let i = 0; i < n; i++) f[i] = halfToFloat(u16[i]);
        }
        assertFinite(f, t.name, t.file, first);
        for (let i = 0; i < n; i++) dst[first + i] = floatToBf16(f[i]);
      });
      return;
    }
    await this.readPieces(t, (b, first) => {
      const bytes = new Uint8Array(b);
      const bits = new Uint16Array(bytes.buffer, 0, bytes.length / 2);
      assertFiniteBf16(bits, t.name, t.file, first);
      dst.set(bits, first);
    });
  }

  /** The first `n` bytes (at most the whole tensor) of a tensor's raw data, as stored. */
  async headBytes(t: TensorInfo, n: number): Promise<Uint8Array> {
    const fh = this.handles.get(t.file) as FileHandle;
    const buf = Buffer.alloc(Math.min(n, t.bytes));
    const r = await fh.read(buf, 0, buf.length, t.offset);
    if (r.bytesRead !== buf.length) throw new CheckpointError(`${t.file}: tensor "${t.name}": file ends early`);
    return buf;
  }

  async close(): Promise<void> {
    for (const fh of this.handles.values()) await fh.close();
    this.handles.clear();
  }
}
