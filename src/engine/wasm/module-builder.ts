/**
 * A minimal WebAssembly binary-format writer: enough to emit one module that imports a memory and exports a few
 * functions over (i32, v128) locals, so the engine's SIMD kernels are written here as TypeScript and compiled at load
 * time (no toolchain, no committed binary). Byte layout per the WebAssembly core spec, "Binary Format": magic +
 * version, then sections (id, LEB128 byte length, contents); vectors are a LEB128 count followed by the items.
 */

/** Value types used by the kernels. */
export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;
export const F64 = 0x7c;

/** Unsigned LEB128 (section sizes, counts, indices, memarg fields, SIMD sub-opcodes). */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (i32.const immediates). */
export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    const done = (n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0);
    out.push(done ? b : b | 0x80);
    if (done) return out;
  }
}

const utf8 = (s: string) => [...uleb(Buffer.byteLength(s)), ...Buffer.from(s, "utf8")];
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];

/** One exported function: its signature, extra locals (after the params) and body (without the final `end`). */
export interface WasmFunc {
  name: string;
  params: number[];
  results: number[];
  locals: number[];
  body: number[];
}

/**
 * A module importing `env.memory` and exporting `funcs` by name; every function gets its own type entry. With
 * `shared`, the import is a shared memory of at most `shared.maxPages` pages (the threads proposal: limits flag 0x03
 * = min and max, shared), so worker threads can instantiate the same module over one memory.
 */
export function buildModule(funcs: WasmFunc[], shared?: { maxPages: number }): Uint8Array {
  const types = funcs.map((f) => [
    0x60,
    ...uleb(f.params.length),
    ...f.params,
    ...uleb(f.results.length),
    ...f.results,
  ]);
  // import kind 0x02 = memory, limits flag 0x00 = min only (0 pages: whatever memory is given satisfies it)
  const limits = shared ? [0x03, 0x00, ...uleb(shared.maxPages)] : [0x00, 0x00];
  const imports = [[...utf8("env"), ...utf8("memory"), 0x02, ...limits]];
  const funcIdx = funcs.map((_, i) => uleb(i));
  const exports = funcs.map((f, i) => [...utf8(f.name), 0x00, ...uleb(i)]);
  const codes = funcs.map((f) => {
    // locals as (count, type) runs, one run per local: simple, and the count is tiny
    const body = [...vec(f.locals.map((t) => [1, t])), ...f.body, 0x0b];
    return [...uleb(body.length), ...body];
  });
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec(types)),
    ...section(2, vec(imports)),
    ...section(3, vec(funcIdx)),
    ...section(7, vec(exports)),
    ...section(10, vec(codes)),
  ]);
}

/**
 * A function's parameters and locals by name: `param(t)` and `local(t)` hand out indices in order (every parameter
 * before the first local, as the binary format numbers them), so a kernel declares `const out = f.param(I32)` with its
 * type instead of reading a table of numbers. `params` and `locals` go into the WasmFunc.
 */
export class Frame {
  readonly params: number[] = [];
  readonly locals: number[] = [];
  param(t: number): number {
    if (this.locals.length > 0) throw new Error("module-builder: declare every parameter before the first local");
    this.params.push(t);
    return this.params.length - 1;
  }
  local(t: number): number {
    this.locals.push(t);
    return this.next - 1;
  }
  /** `n` locals of type t. */
  localsOf(n: number, t: number): number[] {
    return Array.from({ length: n }, () => this.local(t));
  }
  /** The index the next local will get. */
  get next(): number {
    return this.params.length + this.locals.length;
  }
}

/** Instruction encoders (core opcodes and the 0xFD-prefixed SIMD ones) used to write kernel bodies. */
export const op = {
  block: [0x02, 0x40], // block with an empty result type
  loop: [0x03, 0x40],
  end: [0x0b],
  br: (d: number) => [0x0c, ...uleb(d)],
  brIf: (d: number) => [0x0d, ...uleb(d)],
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  tee: (i: number) => [0x22, ...uleb(i)],
  i32: (v: number) => [0x41, ...sleb(v)],
  i32Add: [0x6a],
  i32Shl: [0x74],
  i32Eqz: [0x45],
  i32Eq: [0x46],
  i32LtS: [0x48],
  i32GeS: [0x4e],
  /** `if` with an empty result, or producing one f32 (both branches push it). */
  if: [0x04, 0x40],
  ifF32: [0x04, F32],
  else: [0x05],
  /** Loads and stores at a constant byte offset from the address on the stack (memarg: align hint, offset). */
  f32LoadAt: (off: number) => [0x2a, 2, ...uleb(off)],
  f32StoreAt: (off: number) => [0x38, 2, ...uleb(off)],
  v128LoadAt: (off: number) => [0xfd, ...uleb(0x00), 4, ...uleb(off)],
  v128StoreAt: (off: number) => [0xfd, ...uleb(0x0b), 4, ...uleb(off)],
  /** v128.load32_splat: one f32 from memory into all four lanes. */
  v128Load32SplatAt: (off: number) => [0xfd, ...uleb(0x09), 2, ...uleb(off)],
  /** relaxed-SIMD f32x4.relaxed_madd (a * b + c, fused or not as the hardware likes: not reproducible). */
  f32x4RelaxedMadd: [0xfd, ...uleb(0x105)],
  i32GeU: [0x4f],
  f32Load: [0x2a, 2, 0], // align 2^2, offset 0
  f32Store: [0x38, 2, 0],
  f32: (v: number) => [0x43, ...new Uint8Array(new Float32Array([v]).buffer)],
  i32Mul: [0x6c],
  i32Sub: [0x6b],
  i32And: [0x71],
  i32Or: [0x72],
  i32GtS: [0x4a],
  select: [0x1b],
  f32Max: [0x97],
  f32Sqrt: [0x91],
  f32ReinterpretI32: [0xbe],
  f32Add: [0x92],
  f32Mul: [0x94],
  f32Div: [0x95],
  // SIMD: 0xFD then the sub-opcode as LEB128; memarg align 2^4 is a hint (unaligned addresses still work)
  v128Load: [0xfd, ...uleb(0x00), 4, 0],
  v128Store: [0xfd, ...uleb(0x0b), 4, 0],
  f32x4: (...xs: number[]) => {
    const b = new Uint8Array(new Float32Array(xs.length === 1 ? [xs[0], xs[0], xs[0], xs[0]] : xs).buffer);
    return [0xfd, ...uleb(0x0c), ...b];
  },
  i32x4: (...vs: number[]) => {
    const b = new Uint8Array(new Int32Array(vs.length === 1 ? [vs[0], vs[0], vs[0], vs[0]] : vs).buffer);
    return [0xfd, ...uleb(0x0c), ...b];
  },
  i32x4Splat: [0xfd, ...uleb(0x11)],
  i32x4LtS: [0xfd, ...uleb(0x39)],
  v128And: [0xfd, ...uleb(0x4e)],
  v128Bitselect: [0xfd, ...uleb(0x52)],
  f32x4Splat: [0xfd, ...uleb(0x13)],
  f32x4ExtractLane: (l: number) => [0xfd, ...uleb(0x1f), l],
  f32x4Nearest: [0xfd, ...uleb(0x6a)],
  i32x4Shl: [0xfd, ...uleb(0xab)],
  i32x4Add: [0xfd, ...uleb(0xae)],
  f32x4Neg: [0xfd, ...uleb(0xe1)],
  f32x4Sqrt: [0xfd, ...uleb(0xe3)],
  f32x4Add: [0xfd, ...uleb(0xe4)],
  f32x4Sub: [0xfd, ...uleb(0xe5)],
  f32x4Mul: [0xfd, ...uleb(0xe6)],
  f32x4Div: [0xfd, ...uleb(0xe7)],
  f32x4Min: [0xfd, ...uleb(0xe8)],
  f32x4Max: [0xfd, ...uleb(0xe9)],
  i32x4TruncSatF32x4S: [0xfd, ...uleb(0xf8)],
  /** v128.const from 16 raw bytes (lane 0 first). */
  v128Bytes: (bytes: readonly number[]) => [0xfd, ...uleb(0x0c), ...bytes],
  /** i8x16.shuffle a, b: byte lane l of the result is byte lanes[l] of a:b (0..15 from a, 16..31 from b). */
  i8x16Shuffle: (lanes: readonly number[]) => [0xfd, ...uleb(0x0d), ...lanes],
  /** i8x16.swizzle table, idx: byte table[idx[l]] per lane (0 where idx >= 16). */
  i8x16Swizzle: [0xfd, ...uleb(0x0e)],
  i8x16ShrU: [0xfd, ...uleb(0x6d)],
  i32x4ExtendLowI16x8U: [0xfd, ...uleb(0xa9)],
  i32x4ExtendHighI16x8U: [0xfd, ...uleb(0xaa)],
  // float64, scalar and f64x2 (the decode kernels reproduce JavaScript's double arithmetic exactly)
  return: [0x0f],
  i32DivU: [0x6e],
  i32LtU: [0x49],
  f64: (v: number) => [0x44, ...new Uint8Array(new Float64Array([v]).buffer)],
  f64LoadAt: (off: number) => [0x2b, 3, ...uleb(off)],
  f64StoreAt: (off: number) => [0x39, 3, ...uleb(off)],
  f64Lt: [0x63],
  f64Gt: [0x64],
  f64Add: [0xa0],
  f64Sub: [0xa1],
  f64Mul: [0xa2],
  f64Div: [0xa3],
  f64Sqrt: [0x9f],
  f32DemoteF64: [0xb6],
  f64PromoteF32: [0xbb],
  /** i32.trunc_sat_f64_s: NaN gives 0 (as JavaScript's `x | 0`), never a trap. */
  i32TruncSatF64S: [0xfc, ...uleb(0x02)],
  /** v128.load64_zero: 8 bytes into the low half, the high half zero. */
  v128Load64ZeroAt: (off: number) => [0xfd, ...uleb(0x5d), 3, ...uleb(off)],
  /** v128.load64_splat: one f64 from memory into both lanes. */
  v128Load64SplatAt: (off: number) => [0xfd, ...uleb(0x0a), 3, ...uleb(off)],
  /** v128.store64_lane: stores 8-byte lane l. */
  v128Store64LaneAt: (off: number, l: number) => [0xfd, ...uleb(0x5b), 3, ...uleb(off), l],
  f64x2Splat: [0xfd, ...uleb(0x14)],
  f64x2ExtractLane: (l: number) => [0xfd, ...uleb(0x21), l],
  f64x2ReplaceLane: (l: number) => [0xfd, ...uleb(0x22), l],
  f32x4DemoteF64x2Zero: [0xfd, ...uleb(0x5e)],
  f64x2PromoteLowF32x4: [0xfd, ...uleb(0x5f)],
  f64x2Add: [0xfd, ...uleb(0xf0)],
  f64x2Sub: [0xfd, ...uleb(0xf1)],
  f64x2Mul: [0xfd, ...uleb(0xf2)],
  f64x2Div: [0xfd, ...uleb(0xf3)],
  f64x2Neg: [0xfd, ...uleb(0xed)],
  f32x4Abs: [0xfd, ...uleb(0xe0)],
  f32x4Gt: [0xfd, ...uleb(0x44)],
  f64x2Lt: [0xfd, ...uleb(0x49)],
  f64x2Gt: [0xfd, ...uleb(0x4a)],
  v128Or: [0xfd, ...uleb(0x50)],
  v128AnyTrue: [0xfd, ...uleb(0x53)],
  i32x4ExtractLane: (l: number) => [0xfd, ...uleb(0x1b), l],
  /** i32x4.trunc_sat_f64x2_s_zero: two f64 lanes to i32 (NaN gives 0), upper lanes zero. */
  i32x4TruncSatF64x2SZero: [0xfd, ...uleb(0xfc)],
};
