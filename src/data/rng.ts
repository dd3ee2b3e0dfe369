/** Seeded random numbers: the only source of randomness in mst (xoshiro128** seeded through splitmix32). */

/** Serializable generator state, saved in checkpoints so a resumed run draws the same numbers. */
export interface RngState {
  /** Format tag so a stale state is rejected instead of silently misread. */
  format: "mst-rng-xoshiro128ss/1";
  /** The seed path this generator was created from (used by `fork`). */
  seed: string;
  /** The four 32-bit words of xoshiro128** state. */
  s: [number, number, number, number];
  /** Cached second normal deviate from Box-Muller, or null. */
  spare: number | null;
}

/** 32-bit FNV-1a hash of a string: turns seed paths like "42/arm:mst" into integers. */
export function hashString(str: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < str.length; i++) {
    h ^= str.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function splitmix32(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/**
 * A deterministic pseudo-random generator.
 *
 * ```ts
 * const rng = new Rng(42);
 * rng.float();            // uniform in [0, 1)
 * rng.fork("arm:mst");    // an independent stream that does not depend on how much `rng` was used
 * ```
 */
export class Rng {
  readonly seed: string;
  private s: Uint32Array;
  private spare: number | null = null;

  constructor(seed: number | string) {
    this.seed = String(seed);
    const sm = splitmix32(hashString(this.seed));
    this.s = new Uint32Array([sm(), sm(), sm(), sm()]);
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
  }

  /** Restore a generator from `state()`; throws if the format is unknown. */
  static fromState(state: RngState): Rng {
    if (state.format !== "mst-rng-xoshiro128ss/1") {
      throw new Error(`unknown RNG state format ${JSON.stringify(state.format)}; expected "mst-rng-xoshiro128ss/1"`);
    }
    const r = new Rng(state.seed);
    r.s = new Uint32Array(state.s);
    r.spare = state.spare;
    return r;
  }

  /** A snapshot of the state (plain JSON). */
  state(): RngState {
    return {
      format: "mst-rng-xoshiro128ss/1",
      seed: this.seed,
      s: [this.s[0], this.s[1], this.s[2], this.s[3]],
      spare: this.spare,
    };
  }

  /**
   * An independent child stream named by `name`. Depends only on this generator's seed and the name,
   * never on how many numbers were drawn, so adding a draw in one place does not shift another.
   */
  fork(name: string | number): Rng {
    return new Rng(`${this.seed}/${name}`);
  }

  /** Next uniformly distributed unsigned 32-bit integer. */
  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform float in [0, 1) with 32 bits of randomness. */
  float(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform float in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.float();
  }

  /** Uniform integer in [0, n), unbiased (rejection sampling). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 4294967296)
      throw new RangeError(`Rng.int: n must be an integer in [1, 2^32], got ${n}`);
    const limit = 4294967296 - (4294967296 % n);
    let x: number;
    do x = this.nextU32();
    while (x >= limit);
    return x % n;
  }

  /** Standard normal deviate (Box-Muller, caching the second value). */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.float();
    const v = this.float();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** True with probability p. */
  bernoulli(p: number): boolean {
    return this.float() < p;
  }

  /** A uniformly chosen element. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError("Rng.pick: empty array");
    return items[this.int(items.length)];
  }

  /** Index drawn with probability proportional to `weights` (non-negative, not all zero). */
  weighted(weights: ArrayLike<number>): number {
    let total = 0;
    for (let i = 0; i < weights.length; i++) {
      const w = weights[i];
      // NaN or Infinity here almost always comes from a model whose outputs are NaN (e.g. NaN weights in a
      // checkpoint), so the message says which weight and what to look at, not just that the sum is wrong.
      if (!(w >= 0) || w === Infinity) {
        throw new RangeError(
          `Rng.weighted: weight ${i} of ${weights.length} is ${w} (weights must be finite and >= 0)` +
            (Number.isNaN(w) ? "; NaN weights usually mean the model's outputs are NaN: check its checkpoint" : ""),
        );
      }
      total += w;
    }
    if (!(total > 0)) throw new RangeError(`Rng.weighted: all ${weights.length} weights are 0 (need a positive sum)`);
    let x = this.float() * total;
    for (let i = 0; i < weights.length; i++) {
      x -= weights[i];
      if (x < 0) return i;
    }
    return weights.length - 1;
  }

  /** Fisher-Yates shuffle in place; returns the same array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = items[i];
      items[i] = items[j];
      items[j] = t;
    }
    return items;
  }
}
