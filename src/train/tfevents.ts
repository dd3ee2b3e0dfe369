/**
 * Training curves as TensorBoard event files, so `tensorboard --logdir <run>` shows every job's logged fields: TFRecord
 * framing (length, masked CRC32C of the length, data, masked CRC32C of the data) around tensorflow.Event protobufs
 * whose Summary holds one simple_value scalar per field. Written by hand: the format is small and fixed.
 */
import { closeSync, fstatSync, ftruncateSync, openSync } from "node:fs";
import { join } from "node:path";
import { makeDir, withPath, writeFully } from "../data/fs-errors.js";

/** The event file of a directory; TensorBoard reads any file whose name holds "tfevents". */
export const EVENTS_FILE = "events.out.tfevents.mst";

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1; // Castagnoli, reflected
    t[i] = c >>> 0;
  }
  return t;
})();

/** CRC-32C (Castagnoli) of bytes. */
export function crc32c(b: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = CRC32C_TABLE[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** TFRecord's masked CRC: rotate right by 15 and add a constant, so CRCs of CRCs stay well distributed. */
export function maskedCrc32c(b: Uint8Array): number {
  const c = crc32c(b);
  return (((c >>> 15) | (c << 17)) + 0xa282ead8) >>> 0;
}

/** One TFRecord: u64 length, masked CRC of the length bytes, the data, masked CRC of the data (all little-endian). */
export function tfRecord(data: Uint8Array): Buffer {
  const out = Buffer.alloc(8 + 4 + data.length + 4);
  out.writeBigUInt64LE(BigInt(data.length), 0);
  out.writeUInt32LE(maskedCrc32c(out.subarray(0, 8)), 8);
  out.set(data, 12);
  out.writeUInt32LE(maskedCrc32c(data), 12 + data.length);
  return out;
}

/** Protobuf wire encoding, as much as Event needs: varints, fixed64/fixed32 and length-delimited fields. */
class Proto {
  private parts: Buffer[] = [];
  private varint(v: bigint): void {
    const bytes: number[] = [];
    let x = BigInt.asUintN(64, v);
    do {
      let b = Number(x & 0x7fn);
      x >>= 7n;
      if (x !== 0n) b |= 0x80;
      bytes.push(b);
    } while (x !== 0n);
    this.parts.push(Buffer.from(bytes));
  }
  private key(field: number, wire: number): void {
    this.varint(BigInt((field << 3) | wire));
  }
  int64(field: number, v: number): this {
    this.key(field, 0);
    this.varint(BigInt(Math.trunc(v)));
    return this;
  }
  double(field: number, v: number): this {
    this.key(field, 1);
    const b = Buffer.alloc(8);
    b.writeDoubleLE(v);
    this.parts.push(b);
    return this;
  }
  float(field: number, v: number): this {
    this.key(field, 5);
    const b = Buffer.alloc(4);
    b.writeFloatLE(v);
    this.parts.push(b);
    return this;
  }
  bytes(field: number, v: Uint8Array | string): this {
    const b = typeof v === "string" ? Buffer.from(v, "utf8") : Buffer.from(v);
    this.key(field, 2);
    this.varint(BigInt(b.length));
    this.parts.push(b);
    return this;
  }
  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** tensorflow.Event {wall_time = 1, step = 2, file_version = 3} */
export function versionEvent(wallTime: number): Buffer {
  return new Proto().double(1, wallTime).int64(2, 0).bytes(3, "brain.Event:2").done();
}

/** tensorflow.Event {wall_time = 1, step = 2, summary = 5: Summary {value = 1: Value {tag = 1, simple_value = 2}}} */
export function scalarsEvent(wallTime: number, step: number, scalars: [string, number][]): Buffer {
  const summary = new Proto();
  for (const [tag, v] of scalars) summary.bytes(1, new Proto().bytes(1, tag).float(2, v).done());
  return new Proto().double(1, wallTime).int64(2, step).bytes(5, summary.done()).done();
}

/** The finite numeric fields of a metrics line (step excluded), in order: what becomes a scalar. */
export function scalarsOf(m: Record<string, unknown>): [string, number][] {
  return Object.entries(m).filter(
    (e): e is [string, number] => e[0] !== "step" && typeof e[1] === "number" && Number.isFinite(e[1]),
  );
}

/** Appends events to `<dir>/events.out.tfevents.mst`; the file is written anew when opened (its own first record). */
export class EventFileWriter {
  private fd: number | null;

  private constructor(readonly file: string) {
    // emptied, then opened for appending: after a write cut short, the next record still goes to the end
    this.fd = withPath(file, "open for writing", () => {
      closeSync(openSync(file, "w"));
      return openSync(file, "a");
    });
    this.write(versionEvent(Date.now() / 1000));
  }

  static open(dir: string): EventFileWriter {
    makeDir(dir);
    return new EventFileWriter(join(dir, EVENTS_FILE));
  }

  /** Appends one record; on a failed write (a full disk) the part that fit is cut, so the file stays whole records. */
  private write(event: Buffer): void {
    const fd = this.fd;
    if (fd === null) throw new Error(`${this.file}: event file already closed`);
    const before = fstatSync(fd).size;
    try {
      withPath(this.file, "append", () => writeFully(fd, tfRecord(event)));
    } catch (e) {
      try {
        ftruncateSync(fd, before);
      } catch {
        // a torn last record is dropped by TensorBoard's reader (its CRC fails)
      }
      throw e;
    }
  }

  /** One step's scalars (fields that are null or not finite are left out). */
  scalars(step: number, m: Record<string, unknown>, wallTime = Date.now() / 1000): void {
    const s = scalarsOf(m);
    if (s.length > 0) this.write(scalarsEvent(wallTime, step, s));
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
