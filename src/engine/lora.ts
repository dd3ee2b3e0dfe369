/**
 * LoRA adapters for the Llama model: parameter creation with PEFT names and init (A ~ kaiming-uniform, B = 0, so a
 * fresh adapter leaves the output unchanged) and merging W += (alpha/r) B A for export.
 */

import { Rng } from "../data/rng.js";
import type { LoraConfig, LoraTarget } from "./config.js";
import { getGemm } from "./gemm/index.js";
import type { Param } from "./model-api.js";

/** One projection's adapter: A [r, in], B [out, r]. */
export interface Adapter {
  readonly target: LoraTarget;
  readonly A: Param;
  readonly B: Param;
  readonly IC: number;
  readonly OC: number;
  readonly r: number;
}

/** A projection an adapter can attach to: its full HF name prefix (without ".weight") and its width. */
export interface ProjSpec {
  layer: number;
  target: LoraTarget;
  prefix: string; // e.g. "model.layers.0.self_attn.q_proj"
  IC: number;
  OC: number;
}

/** A trainable/frozen flat parameter whose data and grad are views into shared buffers. */
export function makeParam(name: string, shape: number[], data: Float32Array, grad: Float32Array): Param {
  return { name, shape: Object.freeze([...shape]), data, grad, trainable: true };
}

/** The scale applied to the adapter's output. */
export function loraScale(cfg: LoraConfig): number {
  return cfg.alpha / cfg.rank;
}

/**
 * Allocates adapters for `specs` in one data and one grad buffer (in spec order, A then B).
 * A[i] ~ U(-1/sqrt(in), 1/sqrt(in)) from a stream forked by the parameter name (PEFT uses kaiming_uniform with
 * a = sqrt(5), which gives exactly this bound); B = 0.
 */
export function createAdapters(specs: readonly ProjSpec[], r: number, seed: number): Adapter[] {
  let total = 0;
  for (const s of specs) total += r * s.IC + s.OC * r;
  const data = new Float32Array(total);
  const grad = new Float32Array(total);
  const rng = new Rng(seed).fork("lora");
  const out: Adapter[] = [];
  let off = 0;
  for (const s of specs) {
    const nA = r * s.IC;
    const nB = s.OC * r;
    const A = makeParam(
      `${s.prefix}.lora_A.weight`,
      [r, s.IC],
      data.subarray(off, off + nA),
      grad.subarray(off, off + nA),
    );
    off += nA;
    const B = makeParam(
      `${s.prefix}.lora_B.weight`,
      [s.OC, r],
      data.subarray(off, off + nB),
      grad.subarray(off, off + nB),
    );
    off += nB;
    const ra = rng.fork(A.name);
    const bound = 1 / Math.sqrt(s.IC);
    for (let i = 0; i < nA; i++) A.data[i] = ra.uniform(-bound, bound);
    out.push({ target: s.target, A, B, IC: s.IC, OC: s.OC, r });
  }
  return out;
}

/** w += scale * B @ A (w is [OC, IC]). */
export function mergeAdapter(w: Float32Array, ad: Adapter, scale: number): void {
  getGemm().sgemm(false, false, ad.OC, ad.IC, ad.r, scale, ad.B.data, ad.r, ad.A.data, ad.IC, 1, w, ad.IC);
}
