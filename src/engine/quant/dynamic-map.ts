/**
 * bitsandbytes' signed 8-bit dynamic quantisation map (functional.py `create_dynamic_map(signed=True,
 * max_exponent_bits=7, total_bits=8)`), the second-level code of NF4 double quantisation (`quantize_4bit` with
 * compress_statistics quantises the block absmaxes, minus their mean, with `quantize_blockwise(..., blocksize=256)`
 * and this map), and its nearest-value rule.
 * The map: for i = 0..6, the 2^i midpoints of torch.linspace(0.1, 1, 2^i + 1) times 10^(i-6), each with both signs
 * (254 values), plus 0 and 1, sorted. Everything is float32 as torch computes it: linspace's CPU kernel (step =
 * (end - start) / (steps - 1); the first half counts up from start, the second half down from end), the midpoints
 * (a + b) / 2, and the scalar product (the Python float 10^(i-6) is rounded to float32 first).
 * Quantisation (the reference "default" backend's rule): x times the float32 reciprocal of the block's absmax,
 * clamped to [-1, 1], goes to the index torch.bucketize gives over the float32 midpoints between neighbouring codes:
 * the count of midpoints strictly below it (a tie goes to the lower code).
 */

const f = Math.fround;

/** float32 fused multiply-add a * b + c with one rounding (float32 inputs): what the compiler emits for ATen's code. */
export function fmaF32(a: number, b: number, c: number): number {
  const p = a * b; // exact: two 24-bit significands fit a double's 53
  const s = p + c;
  const t = s - p;
  const err = p - (s - t) + (c - t); // TwoSum: s + err is exactly p + c
  const r = f(s);
  if (err === 0 || r === s) return r;
  // rounding s to float32 after rounding to double can only go wrong when s lies exactly halfway between r and its
  // float32 neighbour on the other side: then the sign of err decides
  const other = s + (s - r);
  if (f(other) !== other) return r;
  return err > 0 === other > r ? other : r;
}

/**
 * torch.linspace(start, end, steps) in float32 as ATen's CPU kernel (RangeFactoriesKernel.cpp) computes it with
 * AVX2: step = (end - start) / (steps - 1); values come in vectors of 8 (two per loop turn, the rest one by one);
 * a vector starting before steps / 2 counts up from start (base = start + step * idx), one starting later from end
 * (base = end - step * (steps - idx - 1)), lane k being base + k * step; the scalar remainder uses the same two
 * formulas per index. The compiler fuses the base and scalar multiply-adds (one rounding) but not the lane ones.
 * Checked against torch 1.13 (x86-64): all 256 map values equal; the plain unvectorised formula differs in 44 of
 * them by one float32 ulp. Other torch builds (AVX-512 kernels, no FMA) can differ from this in the last bit.
 */
export function linspaceF32(start: number, end: number, steps: number): Float32Array {
  const V = 8;
  const s = f(start);
  const e = f(end);
  const step = f(f(e - s) / (steps - 1));
  const half = Math.floor(steps / 2);
  const at = (i: number) => (i < half ? fmaF32(step, i, s) : fmaF32(-step, steps - i - 1, e));
  const out = new Float32Array(steps);
  let i = 0;
  for (; i + 2 * V <= steps; i += 2 * V)
    for (const v of [i, i + V]) {
      const base = at(v);
      for (let k = 0; k < V; k++) out[v + k] = f(base + f(k * step));
    }
  for (; i < steps; i++) out[i] = at(i);
  return out;
}

// 10^(i-6) as Python evaluates 10 ** (i - 6) (a correctly rounded double), written out so no pow() rounding enters
const POW10 = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1];

function buildMap(): Float32Array {
  const data: number[] = [];
  for (let i = 0; i < 7; i++) {
    const b = linspaceF32(0.1, 1, 2 ** i + 1);
    const p = f(POW10[i]);
    for (let j = 0; j + 1 < b.length; j++) {
      const v = f(p * f(f(b[j] + b[j + 1]) / 2));
      data.push(v, -v);
    }
  }
  data.push(0, 1);
  return Float32Array.from(data).sort();
}

/** The 256 sorted map values (index 127 is 0, index 255 is 1; the most negative is -0.99296875, not -1). */
export const DYNAMIC_MAP: Float32Array = buildMap();

/** float32 midpoints between neighbouring map values: bitsandbytes' (code[:-1] + code[1:]) / 2. */
const BOUNDS = Float32Array.from({ length: 255 }, (_, i) => f(f(DYNAMIC_MAP[i] + DYNAMIC_MAP[i + 1]) / 2));

/** The map index of x (in [-1, 1]): how many midpoints lie strictly below x (torch.bucketize, right=False). */
export function dynamicIndex(x: number): number {
  let lo = 0;
  let hi = 255; // answer in [lo, hi]
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (BOUNDS[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Quantises `values` blockwise (blocks of `block`) with the dynamic map as bitsandbytes' quantize_blockwise:
 * per block its absmax into `absmax`, per value the index of x * float32(1 / absmax) clamped to [-1, 1] into `q`.
 */
export function quantizeDynamic(values: Float32Array, block: number, q: Uint8Array, absmax: Float32Array): void {
  const n = values.length;
  for (let b = 0; b * block < n; b++) {
    const e = Math.min(n, (b + 1) * block);
    let m = 0;
    for (let i = b * block; i < e; i++) m = Math.max(m, Math.abs(values[i]));
    absmax[b] = m;
    // bitsandbytes clamps the absmax to 1e-38 before the reciprocal: an all-zero block maps to 0 (index 127)
    const inv = f(1 / Math.max(m, 1e-38));
    for (let i = b * block; i < e; i++) q[i] = dynamicIndex(Math.min(1, Math.max(-1, f(values[i] * inv))));
  }
}

/**
 * The largest error (in units of the block absmax) of a value quantised to code k: half the map's spacing around k,
 * and below the lowest code the distance to -1 (the map has no -1; -0.99296875 sits about half a gap above it).
 */
export function dynamicHalfSpacing(k: number): number {
  const gap = Math.max(
    k > 0 ? DYNAMIC_MAP[k] - DYNAMIC_MAP[k - 1] : 0,
    k < 255 ? DYNAMIC_MAP[k + 1] - DYNAMIC_MAP[k] : 0,
  );
  return Math.max(gap / 2, k === 0 ? 1 + DYNAMIC_MAP[0] : 0);
}
