/**
 * The sampler's per-token work on one logits row: the draw (temperature, top-k, top-p), the drawn token's log-prob
 * and entropy, the top log-probs; with decode arenas the exp pass runs in float64 wasm with the same bits.
 */

import { fastExp } from "./ops/fast-exp.js";
import type { Rng } from "../data/rng.js";
import { inDecodeArena } from "./wasm/decode-arena.js";
import type { ExactKernels } from "./wasm/exact-kernels.js";

/** The k most likely ids of a logits row as [id, log p] (temperature 1), most likely first, ties by lower id. */
export function topLogprobsOf(row: Float32Array, V: number, k: number): Array<[number, number]> {
  let max = -Infinity;
  for (let j = 0; j < V; j++) if (row[j] > max) max = row[j];
  let sum = 0;
  for (let j = 0; j < V; j++) sum += Math.exp(row[j] - max);
  const lse = max + Math.log(sum);
  // insertion into a small sorted list: k is small (OpenAI allows at most 20)
  const best: number[] = [];
  for (let j = 0; j < V; j++) {
    if (best.length === k && row[j] <= row[best[k - 1]]) continue;
    let at = best.length;
    while (at > 0 && row[best[at - 1]] < row[j]) at--;
    best.splice(at, 0, j);
    if (best.length > k) best.pop();
  }
  return best.map((id) => [id, row[id] - lse]);
}

/** Draws one id from a logits row. `order` is scratch of length V. */
export function drawToken(
  row: Float32Array,
  V: number,
  temperature: number,
  topK: number,
  topP: number,
  rng: Rng,
  probs: Float64Array,
  order: Uint32Array,
): number {
  if (temperature === 0) {
    let best = 0;
    for (let j = 1; j < V; j++) if (row[j] > row[best]) best = j;
    return best;
  }
  let max = -Infinity;
  for (let j = 0; j < V; j++) if (row[j] > max) max = row[j];
  let sum = 0;
  for (let j = 0; j < V; j++) {
    probs[j] = fastExp((row[j] - max) / temperature);
    sum += probs[j];
  }
  const k = topK > 0 && topK < V ? topK : V;
  if (k === V && topP >= 1) {
    let x = rng.float() * sum;
    for (let j = 0; j < V; j++) {
      x -= probs[j];
      if (x < 0) return j;
    }
    return V - 1;
  }
  // sort ids by probability (descending, ties by id) and keep the top-k / nucleus prefix
  for (let j = 0; j < V; j++) order[j] = j;
  order.sort((a, b) => probs[b] - probs[a] || a - b);
  let keep = 0;
  let mass = 0;
  while (keep < k) {
    mass += probs[order[keep]];
    keep++;
    if (mass >= topP * sum) break;
  }
  let x = rng.float() * mass;
  for (let i = 0; i < keep; i++) {
    x -= probs[order[i]];
    if (x < 0) return order[i];
  }
  return order[keep - 1];
}

/** log p(id) and entropy of softmax(row) at temperature 1. */
export function logprobAndEntropy(row: Float32Array, V: number, id: number): [number, number] {
  let max = -Infinity;
  for (let j = 0; j < V; j++) if (row[j] > max) max = row[j];
  let sum = 0;
  let sz = 0;
  for (let j = 0; j < V; j++) {
    const z = row[j] - max;
    const e = fastExp(z);
    sum += e;
    sz += e * z;
  }
  const lse = Math.log(sum);
  return [row[id] - max - lse, lse - sz / sum];
}

/**
 * Scratch of the per-row work for a vocabulary of V: the draw's probabilities and sort order, and, with decode
 * arenas (V even), the row's copy and the float64 kernels that do the exp pass with the JavaScript loops' bits.
 */
export class RowScratch {
  /** (V) the draw's probabilities: in the arena when there is one (the kernels write them). */
  readonly probs: Float64Array;
  readonly order: Uint32Array;
  /** The arena's kernels, the row copy, and the byte addresses of probs and the running sums; null: plain path. */
  readonly fast: { k: ExactKernels; row: Float32Array; probsB: number; state: Float64Array; stateB: number } | null;

  constructor(V: number) {
    this.order = new Uint32Array(V);
    const a =
      V % 2 === 0
        ? inDecodeArena((x) => ({ row: x.f32(V), probsB: x.f64Bytes(V), stateB: x.f64Bytes(2), arena: x.arena }))
        : null;
    if (a === null || a.arena === null) {
      this.probs = new Float64Array(V);
      this.fast = null;
      return;
    }
    const buf = a.arena.memory.buffer;
    this.probs = new Float64Array(buf, a.probsB, V);
    this.fast = {
      k: a.arena.ew,
      row: a.row,
      probsB: a.probsB,
      state: new Float64Array(buf, a.stateB, 2),
      stateB: a.stateB,
    };
  }
}

/**
 * probs[j] = fastExp(z) with z = (row[j] - max) / temperature, and state = [sum of the exps, sum of exp * z] added in
 * element order, on the arena's copy of the row: the kernel takes pairs, and hands back a pair whose z needs Math.exp
 * (outside fastExp's table), done here with the same operations.
 */
function expSums(f: NonNullable<RowScratch["fast"]>, probs: Float64Array, V: number, max: number, t: number): void {
  const { k, row, state } = f;
  state[0] = 0;
  state[1] = 0;
  let j = 0;
  while (j < V) {
    j = k.rowExp(row.byteOffset, j, V, max, t, f.probsB, f.stateB);
    for (const end = Math.min(j + 2, V); j < end; j++) {
      const z = (row[j] - max) / t;
      const e = fastExp(z);
      probs[j] = e;
      state[0] += e;
      state[1] += e * z;
    }
  }
}

/**
 * The draw from row o of `logits` (V wide) and that token's log-prob and entropy at temperature 1: what drawToken
 * then logprobAndEntropy return, from fewer passes over the row with the same operations per value. Both take the
 * same max; at temperature 1 without top-k/top-p, drawToken's exps fastExp((x - max) / 1) are logprobAndEntropy's
 * fastExp(x - max) (x / 1 is x) summed in the same order, so one pass serves both. With decode arenas the exp pass
 * and the draw's walk run in the float64 kernels. `out` gets [id, logprob, entropy].
 */
export function drawScored(
  logits: Float32Array,
  o: number,
  V: number,
  temperature: number,
  topK: number,
  topP: number,
  rng: Rng,
  rs: RowScratch,
  out: [number, number, number],
): void {
  let max = -Infinity;
  for (let j = o; j < o + V; j++) if (logits[j] > max) max = logits[j];
  const plainDraw = temperature === 1 && !(topK > 0 && topK < V) && topP >= 1;
  const probs = rs.probs;
  let id: number;
  let sum = 0;
  let sz = 0;
  const f = rs.fast;
  if (f !== null) {
    f.row.set(logits.subarray(o, o + V));
    if (!plainDraw) id = drawToken(f.row, V, temperature, topK, topP, rng, probs, rs.order);
    expSums(f, probs, V, max, 1);
    sum = f.state[0];
    sz = f.state[1];
    if (plainDraw) id = f.k.drawWalk(f.probsB, V, rng.float() * sum);
  } else if (plainDraw) {
    for (let j = 0; j < V; j++) {
      const z = logits[o + j] - max;
      const e = fastExp(z);
      probs[j] = e;
      sum += e;
      sz += e * z;
    }
    let x = rng.float() * sum;
    id = V - 1;
    for (let j = 0; j < V; j++) {
      x -= probs[j];
      if (x < 0) {
        id = j;
        break;
      }
    }
  } else {
    id = drawToken(logits.subarray(o, o + V), V, temperature, topK, topP, rng, probs, rs.order);
    for (let j = 0; j < V; j++) {
      const z = logits[o + j] - max;
      const e = fastExp(z);
      sum += e;
      sz += e * z;
    }
  }
  const lse = Math.log(sum);
  out[0] = id!;
  out[1] = logits[o + id!] - max - lse;
  out[2] = lse - sz / sum;
}
