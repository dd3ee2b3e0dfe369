/**
 * Preallocated activation and gradient-scratch buffers of the Llama model, sized for the largest batch seen.
 * Grow-only: a step with the same (or smaller) B*T reuses every buffer, so memory does not grow step to step.
 */

import type { LoraTarget } from "./config.js";
import { inArena, plainF32 } from "./wasm/arena.js";
import { inDecodeArena } from "./wasm/decode-arena.js";

/** Allocator of a buffer set's float32 buffers (a wasm arena's, or plain Float32Arrays). */
export type F32Alloc = (n: number) => Float32Array;

/** Saved buffers of one LoRA adapter for one forward: dropped-out input, its mask and the rank-r projection. */
export interface LoraBufs {
  h: Float32Array; // (N,IC) dropped-out input (only allocated when dropout > 0)
  keep: Float32Array; // (N,IC) dropout mask scale 0 or 1/(1-p)
  a: Float32Array; // (N,r)
  /** The adapter input the last forward used (h, or the projection's own input without dropout), null when skipped. */
  hUsed: Float32Array | null;
}

/** One block's activations. In the inference set every layer shares one LayerBufs and `out` aliases `resid`. */
export interface LayerBufs {
  resid: Float32Array; // (N,C) block input
  ln1: Float32Array; // (N,C)
  rstd1: Float32Array; // (N)
  q: Float32Array; // (N,H*hd) after RoPE
  k: Float32Array; // (N,KVH*hd) after RoPE
  v: Float32Array; // (N,KVH*hd)
  att: Float32Array; // (B,H,T,T) probabilities (training set only)
  atty: Float32Array; // (N,C) attention output before o_proj
  res2: Float32Array; // (N,C) resid + attention
  ln2: Float32Array; // (N,C)
  rstd2: Float32Array; // (N)
  gate: Float32Array; // (N,F)
  up: Float32Array; // (N,F)
  hmid: Float32Array; // (N,F) silu(gate) * up
  sig: Float32Array; // (N,F) sigmoid(gate), saved for the backward
  lora: Partial<Record<LoraTarget, LoraBufs>>;
}

/** What the buffers depend on besides N. */
export interface ActsShape {
  C: number;
  H: number; // query heads
  kvDim: number; // KVH*hd
  F: number;
  V: number;
  nLayers: number;
  /** Adapter input width, output width and rank per LoRA target (empty without LoRA). */
  lora: { target: LoraTarget; IC: number; r: number }[];
  dropout: boolean;
}

function layerBufs(s: ActsShape, N: number, attCap: number, f: F32Alloc): LayerBufs {
  const lora: Partial<Record<LoraTarget, LoraBufs>> = {};
  for (const t of s.lora)
    lora[t.target] = {
      h: f(s.dropout ? N * t.IC : 0),
      keep: f(s.dropout ? N * t.IC : 0),
      a: f(N * t.r),
      hUsed: null,
    };
  return {
    resid: f(N * s.C),
    ln1: f(N * s.C),
    rstd1: f(N),
    q: f(N * s.C),
    k: f(N * s.kvDim),
    v: f(N * s.kvDim),
    att: f(attCap),
    atty: f(N * s.C),
    res2: f(N * s.C),
    ln2: f(N * s.C),
    rstd2: f(N),
    gate: f(N * s.F),
    up: f(N * s.F),
    hmid: f(N * s.F),
    sig: f(N * s.F),
    lora,
  };
}

/**
 * Training activations: one LayerBufs per block (layer l+1's resid is layer l's output) plus the head. The logits
 * live apart (LogitBuffers): their rows are only the positions asked for.
 */
export class TrainActs {
  readonly capN: number;
  readonly capAtt: number;
  /**
   * Whether every block keeps its own activations (the plain backward reads them). When false (gradient
   * checkpointing, and every forward that will not be back-propagated) the blocks share one set of buffers and keep
   * only their input `resid`: the backward recomputes a block's activations from it just before using them.
   */
  readonly savesLayers: boolean;
  /** (N,C) where a recomputed block writes its output (its real output, the next block's input, is kept). */
  readonly blockOut: Float32Array;
  readonly tokens: Int32Array; // (N)
  readonly pos: Int32Array; // (N)
  readonly layers: LayerBufs[];
  readonly residF: Float32Array; // (N,C) output of the last block
  readonly lnf: Float32Array; // (N,C)
  readonly rstdf: Float32Array; // (N)
  readonly values: Float32Array; // (N)

  constructor(s: ActsShape, N: number, attCap: number, f: F32Alloc = plainF32, savesLayers = true) {
    this.capN = N;
    this.capAtt = attCap;
    this.savesLayers = savesLayers;
    this.tokens = new Int32Array(N);
    this.pos = new Int32Array(N);
    this.layers = [];
    if (savesLayers) for (let l = 0; l < s.nLayers; l++) this.layers.push(layerBufs(s, N, attCap, f));
    else {
      // one working set; each block's view of it differs only in its own saved input
      const work = layerBufs(s, N, attCap, f);
      this.layers.push(work);
      for (let l = 1; l < s.nLayers; l++) this.layers.push({ ...work, resid: f(N * s.C) });
    }
    this.blockOut = f(savesLayers ? 0 : N * s.C);
    this.residF = f(N * s.C);
    this.lnf = f(N * s.C);
    this.rstdf = f(N);
    this.values = f(N);
  }
}

/** Gradient scratch for backward, shared by all blocks. */
export class GradScratch {
  readonly capN: number;
  readonly capT: number;
  readonly dres: Float32Array; // (N,C)
  readonly dln: Float32Array; // (N,C)
  readonly dq: Float32Array; // (N,C)
  readonly dk: Float32Array; // (N,kvDim)
  readonly dv: Float32Array; // (N,kvDim)
  readonly datty: Float32Array; // (N,C)
  readonly dgate: Float32Array; // (N,F)
  readonly dup: Float32Array; // (N,F)
  readonly dhmid: Float32Array; // (N,F)
  readonly dlnf: Float32Array; // (N,C)
  readonly datt: Float32Array; // (H,T,T): one batch row's heads
  readonly loraDa: Float32Array; // (N,rmax)
  readonly loraDh: Float32Array; // (N,max IC) only with dropout

  constructor(s: ActsShape, N: number, T: number, f: F32Alloc = plainF32) {
    this.capN = N;
    this.capT = T;
    this.dres = f(N * s.C);
    this.dln = f(N * s.C);
    this.dq = f(N * s.C);
    this.dk = f(N * s.kvDim);
    this.dv = f(N * s.kvDim);
    this.datty = f(N * s.C);
    this.dgate = f(N * s.F);
    this.dup = f(N * s.F);
    this.dhmid = f(N * s.F);
    this.dlnf = f(N * s.C);
    this.datt = f(s.H * T * T);
    const rmax = Math.max(0, ...s.lora.map((t) => t.r));
    const icmax = Math.max(0, ...s.lora.map((t) => t.IC));
    this.loraDa = f(N * rmax);
    this.loraDh = f(s.dropout ? N * icmax : 0);
  }
}

/**
 * A training buffer set: activations and gradient scratch in one wasm arena (so the SIMD kernels, which take arrays
 * of one memory, reach both in the backward), or plain arrays when SIMD is off.
 */
export function trainBufferSet(
  s: ActsShape,
  N: number,
  attCap: number,
  T: number,
  savesLayers = true,
): { acts: TrainActs; scratch: GradScratch } {
  return inArena((f) => ({
    acts: new TrainActs(s, N, attCap, f, savesLayers),
    scratch: new GradScratch(s, N, T, f),
  }));
}

/** Inference activations (KV-cache path): one LayerBufs shared by every block, plus the head. */
export class InferActs {
  readonly capN: number;
  readonly capScores: number;
  readonly pos: Int32Array; // (N)
  readonly layer: LayerBufs;
  readonly scores: Float32Array; // (H,T,S) attention scratch
  readonly lnf: Float32Array; // (N,C)
  readonly rstdf: Float32Array; // (N)
  readonly values: Float32Array; // (N)

  constructor(s: ActsShape, N: number, scoresCap: number) {
    this.capN = N;
    this.capScores = scoresCap;
    this.pos = new Int32Array(N);
    // in a decode arena (plain arrays when SIMD is off): the float64 kernels there give the JavaScript loops' bits
    const b = inDecodeArena(({ f32 }) => ({
      layer: layerBufs({ ...s, dropout: false }, N, 0, f32),
      scores: f32(scoresCap),
      lnf: f32(N * s.C),
      rstdf: f32(N),
      values: f32(N),
    }));
    this.layer = b.layer;
    this.scores = b.scores;
    this.lnf = b.lnf;
    this.rstdf = b.rstdf;
    this.values = b.values;
  }
}

/**
 * Grow-only logits of the positions a forward asks for, with the final-norm rows gathered for them: (P,V) and (P,C).
 * Kept out of the activation sets so a forward that needs few positions never allocates B*T*V floats.
 */
export class LogitBuffers {
  logits: Float32Array = new Float32Array(0);
  lnfSel: Float32Array = new Float32Array(0);
  /** Flat positions the last forward computed logits for; null means every position 0..N-1. */
  rows: Int32Array | null = null;

  /** Views sized for P rows (reallocating knowingly when P is larger than before). */
  ensure(P: number, C: number, V: number): { logits: Float32Array; lnfSel: Float32Array } {
    if (this.logits.length < P * V || this.lnfSel.length < P * C) {
      // in a wasm arena, so the SIMD softmax / cross-entropy kernels run on the logits in place
      const nl = Math.max(P * V, this.logits.length);
      const ns = Math.max(P * C, this.lnfSel.length);
      const b = inArena((f) => ({ logits: f(nl), lnfSel: f(ns) }));
      this.logits = b.logits;
      this.lnfSel = b.lnfSel;
    }
    return { logits: this.logits.subarray(0, P * V), lnfSel: this.lnfSel.subarray(0, P * C) };
  }
}
