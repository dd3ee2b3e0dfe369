/**
 * The Llama-style decoder (RMSNorm, RoPE, grouped-KV attention, SwiGLU, optional LoRA and value head) assembled
 * from the ops in ops/, with Hugging Face parameter names, a training forward/backward and a KV-cache forward.
 */

import { Rng, type RngState } from "../data/rng.js";
import {
  LoraConfigSchema,
  resolveModelConfig,
  type LoraConfig,
  type LoraConfigInput,
  type LoraTarget,
  type ModelConfig,
  type ModelConfigInput,
} from "./config.js";
import { KvCache } from "./kv-cache.js";
import { createAdapters, loraScale, makeParam, mergeAdapter, type Adapter, type ProjSpec } from "./lora.js";
import type { CausalLM, ForwardOptions, ForwardResult, Param } from "./model-api.js";
import {
  GradScratch,
  InferActs,
  LogitBuffers,
  TrainActs,
  trainBufferSet,
  type ActsShape,
  type LayerBufs,
} from "./model-acts.js";
import { attentionBackward, attentionCachedForward, attentionForward } from "./ops/attention.js";
import { embeddingBackward, embeddingForward } from "./ops/embedding.js";
import {
  dropoutBackward,
  dropoutForward,
  linearBackward,
  linearForward,
  loraBackward,
  loraForward,
} from "./ops/linear.js";
import { rmsnormBackward, rmsnormForward } from "./ops/rmsnorm.js";
import { ropeBackward, ropeForward, ropeTables } from "./ops/rope.js";
import { swigluBackward, swigluForward } from "./ops/swiglu.js";
import { valueHeadBackward, valueHeadForward } from "./ops/value-head.js";
import { inArena } from "./wasm/arena.js";
import { Bf16Matrix } from "./quant/bf16.js";
import { Nf4Matrix } from "./quant/nf4.js";
import { packedEmbeddingForward, packedLinearBackward, packedLinearForward } from "./quant/packed.js";

export type { Param } from "./model-api.js";

/**
 * One chunk of a chunked loss: given logits (n,V) of rows first..first+n-1 of the asked rows, write dLoss/dLogits
 * into dLogits (n,V) and return this chunk's part of the loss.
 */
export type ChunkLoss = (logits: Float32Array, dLogits: Float32Array, first: number, n: number) => number;
export { KvCache } from "./kv-cache.js";

/** Options of `createModel`. */
export interface CreateModelOptions {
  /** Seed of the deterministic init (each parameter draws from its own stream forked by its name). Default 0. */
  seed?: number;
  /** Add a PPO value head (v_head.weight [1,d], v_head.bias [1]). Default false. */
  valueHead?: boolean;
  /** Std of the normal init of embeddings and projections (HF initializer_range). Default 0.02. */
  initStd?: number;
  /** How the base matrices are held (see WeightStorage). Default "f32". */
  storage?: WeightStorage;
  /** Recompute each block's activations in the backward (see LlamaModel.gradientCheckpointing). Default: nf4 only. */
  gradientCheckpointing?: boolean;
}

/**
 * How the frozen base's matrices are held: "f32" (trainable, 4 bytes a value), "bf16" (every matrix as bf16, 2 bytes),
 * "nf4" (projections as NF4 with double quantisation, about 0.52 bytes; embedding and LM head as bf16, as QLoRA does).
 * Packed weights are frozen: train LoRA adapters on them. Norms and biases stay float32.
 */
export type WeightStorage = "f32" | "bf16" | "nf4";

/** One block's base parameters. */
interface Block {
  ln1: Param;
  ln2: Param;
  proj: Record<LoraTarget, Param>;
  /** q/k/v biases when the config has qkvBias (Qwen2). */
  bias: Partial<Record<LoraTarget, Param>>;
}

type ResolvedConfig = ModelConfig & { nKvHeads: number };

/** Settings of one forward that the block code needs. */
interface Mode {
  train: boolean;
  rng: Rng | null;
  disableLora: boolean;
  /**
   * A checkpoint recompute: the block's output is never read (the next block's saved input is that output), so
   * down_proj's base product is skipped; its adapter still runs, drawing the same dropout mask, for what its backward
   * reads. The frozen down_proj is about 29% of a block's weights.
   */
  recompute?: boolean;
}

const TARGET_GROUP: Record<LoraTarget, "self_attn" | "mlp"> = {
  q_proj: "self_attn",
  k_proj: "self_attn",
  v_proj: "self_attn",
  o_proj: "self_attn",
  gate_proj: "mlp",
  up_proj: "mlp",
  down_proj: "mlp",
};
const PROJ_ORDER: readonly LoraTarget[] = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];

/**
 * Llama-style causal LM on flat Float32Arrays.
 *
 * ```ts
 * const m = createModel({ vocabSize: 32 }, { seed: 1 });
 * const { logits } = m.forward(tokens, B, T, { train: true });
 * m.zeroGrad(); m.backward(dLogits);   // grads in m.trainableParameters()[i].grad
 * ```
 */
export class LlamaModel implements CausalLM {
  readonly config: ResolvedConfig;
  /** How the base matrices are held (see WeightStorage). */
  readonly storage: WeightStorage;
  /**
   * Gradient checkpointing: a training forward keeps only each block's input, and the backward recomputes the
   * block's activations from it just before back-propagating through it (the same dropout masks: the generator's
   * state is saved per block). Gradients are bit-identical; activation memory falls from about 190 KB a token per
   * layer (Qwen2.5-0.5B) to 3.5 KB, for one more block forward per layer. Default on for "nf4", as QLoRA
   * (peft's prepare_model_for_kbit_training) does; set before a training forward.
   */
  gradientCheckpointing: boolean;
  /** The dropout generator's state at the start of each block of the last training forward (checkpointing). */
  private blockRng: (RngState | null)[] = [];
  private loraCfg: LoraConfig | null = null;
  private readonly base: Param[] = [];
  private readonly embed: Param;
  private readonly blocks: Block[] = [];
  private readonly norm: Param;
  private readonly lmHead: Param; // the embedding itself when tied
  private adapters: Partial<Record<LoraTarget, Adapter>>[] = [];
  private adapterList: Adapter[] = [];
  private vw: Param | null = null;
  private vb: Param | null = null;
  private readonly byName = new Map<string, Param>();
  private readonly cos: Float32Array;
  private readonly sin: Float32Array;
  private acts: TrainActs | null = null;
  /** Separate buffers for non-training forwards, so e.g. a PPO reference pass never clobbers a pending backward. */
  private evalActs: TrainActs | null = null;
  private scratch: GradScratch | null = null;
  private infer: InferActs | null = null;
  private kv: KvCache | null = null;
  private readonly trainLogits = new LogitBuffers();
  private readonly evalLogits = new LogitBuffers();
  private readonly inferLogits = new LogitBuffers();
  /** dLogits of one chunk of trainChunked, and the chunk's gradient wrt the final-norm rows. */
  private readonly chunkGrad = new LogitBuffers();
  /** Shape and mode of the last training forward (null when backward is not possible). */
  private last: { B: number; T: number; disableLora: boolean; dropout: boolean } | null = null;

  /**
   * Use `createModel` (or `loadModelDir`); this allocates the parameters with zero weights and unit norms (no random
   * init). With a packed `storage` the matrices start as zeros in that format and are filled with `setWeight`.
   */
  constructor(config: ModelConfigInput, storage: WeightStorage = "f32") {
    const c = resolveModelConfig(config);
    this.config = c;
    this.storage = storage;
    this.gradientCheckpointing = storage === "nf4";
    const C = c.dModel;
    const hd = C / c.nHeads;
    const kvDim = c.nKvHeads * hd;
    const F = c.dFf;
    // size table: every base parameter is a view into one data and one grad buffer
    const table: [string, number[]][] = [["model.embed_tokens.weight", [c.vocabSize, C]]];
    for (let l = 0; l < c.nLayers; l++) {
      const p = `model.layers.${l}`;
      table.push(
        [`${p}.input_layernorm.weight`, [C]],
        [`${p}.self_attn.q_proj.weight`, [C, C]],
        [`${p}.self_attn.k_proj.weight`, [kvDim, C]],
        [`${p}.self_attn.v_proj.weight`, [kvDim, C]],
      );
      if (c.qkvBias)
        table.push(
          [`${p}.self_attn.q_proj.bias`, [C]],
          [`${p}.self_attn.k_proj.bias`, [kvDim]],
          [`${p}.self_attn.v_proj.bias`, [kvDim]],
        );
      table.push(
        [`${p}.self_attn.o_proj.weight`, [C, C]],
        [`${p}.post_attention_layernorm.weight`, [C]],
        [`${p}.mlp.gate_proj.weight`, [F, C]],
        [`${p}.mlp.up_proj.weight`, [F, C]],
        [`${p}.mlp.down_proj.weight`, [C, F]],
      );
    }
    table.push(["model.norm.weight", [C]]);
    if (!c.tieEmbeddings) table.push(["lm_head.weight", [c.vocabSize, C]]);
    // packed matrices take no float32 space: their data and grad are empty
    const isPacked = (shape: number[]) => storage !== "f32" && shape.length === 2;
    const floats = (shape: number[]) => (isPacked(shape) ? 0 : shape.reduce((a, b) => a * b, 1));
    let total = 0;
    for (const [, shape] of table) total += floats(shape);
    const data = new Float32Array(total);
    const grad = new Float32Array(total);
    let off = 0;
    for (const [name, shape] of table) {
      const n = floats(shape);
      const p = makeParam(name, shape, data.subarray(off, off + n), grad.subarray(off, off + n));
      if (name.endsWith("norm.weight")) p.data.fill(1); // norms start at identity
      if (isPacked(shape)) {
        p.packed = new Bf16Matrix(shape[0], shape[1]); // zeros until setWeight
        p.trainable = false;
      }
      off += n;
      this.base.push(p);
      this.byName.set(name, p);
    }
    const get = (n: string) => this.byName.get(n) as Param;
    this.embed = get("model.embed_tokens.weight");
    for (let l = 0; l < c.nLayers; l++) {
      const p = `model.layers.${l}`;
      const proj = {} as Record<LoraTarget, Param>;
      for (const t of PROJ_ORDER) proj[t] = get(`${p}.${TARGET_GROUP[t]}.${t}.weight`);
      const bias: Partial<Record<LoraTarget, Param>> = {};
      if (c.qkvBias) for (const t of ["q_proj", "k_proj", "v_proj"] as const) bias[t] = get(`${p}.self_attn.${t}.bias`);
      this.blocks.push({
        ln1: get(`${p}.input_layernorm.weight`),
        ln2: get(`${p}.post_attention_layernorm.weight`),
        proj,
        bias,
      });
    }
    this.norm = get("model.norm.weight");
    this.lmHead = c.tieEmbeddings ? this.embed : get("lm_head.weight");
    const rt = ropeTables(c.maxSeq, hd, c.ropeTheta, c.ropeScaling);
    this.cos = rt.cos;
    this.sin = rt.sin;
  }

  get lora(): LoraConfig | null {
    return this.loraCfg;
  }

  get hasValueHead(): boolean {
    return this.vw !== null;
  }

  parameters(): readonly Param[] {
    const out = [...this.base];
    for (const a of this.adapterList) out.push(a.A, a.B);
    if (this.vw !== null && this.vb !== null) out.push(this.vw, this.vb);
    return out;
  }

  trainableParameters(): readonly Param[] {
    return this.parameters().filter((p) => p.trainable);
  }

  /** The parameter with this HF name; throws naming it when absent. */
  getParam(name: string): Param {
    const p = this.byName.get(name);
    if (p === undefined) throw new Error(`LlamaModel.getParam: no parameter named "${name}"`);
    return p;
  }

  /**
   * Normal(0, std) init of embeddings/projections from `seed`, norms to 1, biases to 0 (each parameter has its own
   * stream). Packed matrices get the same values, then rounded to their format.
   */
  initWeights(seed: number, std: number): void {
    const rng = new Rng(seed).fork("init");
    // one float32 scratch for every packed matrix, so no dead copies wait for the garbage collector
    let scratch = new Float32Array(0);
    for (const p of this.base) {
      if (p.shape.length === 1) {
        p.data.fill(p.name.endsWith(".bias") ? 0 : 1);
        continue;
      }
      const r = rng.fork(p.name);
      if (p.packed instanceof Bf16Matrix && !(this.storage === "nf4" && !isEmbedOrHead(p.name))) {
        // bf16 rows a block at a time: no float32 copy of a whole embedding (545 MB at Qwen2's vocabulary)
        const rowsPer = Math.max(1, Math.floor(65536 / p.shape[1]));
        const tmp = new Float32Array(rowsPer * p.shape[1]);
        for (let r0 = 0; r0 < p.shape[0]; r0 += rowsPer) {
          const v = tmp.subarray(0, Math.min(rowsPer, p.shape[0] - r0) * p.shape[1]);
          for (let i = 0; i < v.length; i++) v[i] = r.normal() * std;
          p.packed.setRows(r0, v);
        }
        continue;
      }
      const n = p.shape[0] * p.shape[1];
      if (p.packed !== undefined && scratch.length < n) scratch = new Float32Array(n);
      const v = p.packed === undefined ? p.data : scratch.subarray(0, n);
      for (let i = 0; i < v.length; i++) v[i] = r.normal() * std;
      if (p.packed !== undefined) this.setWeight(p.name, v);
    }
  }

  /**
   * Sets a base parameter's values (row-major, its full size), converting them to the model's storage: bf16 rounds,
   * NF4 quantises the projections (embedding and LM head stay bf16). Throws naming the parameter on a size mismatch.
   */
  setWeight(name: string, values: Float32Array): void {
    const p = this.getParam(name);
    const n = p.shape.reduce((a, b) => a * b, 1);
    if (values.length !== n)
      throw new RangeError(`setWeight: "${name}" has ${n} values ([${p.shape}]), got ${values.length}`);
    if (p.packed === undefined) {
      p.data.set(values);
      return;
    }
    const [rows, cols] = p.shape;
    if (this.storage === "nf4" && !isEmbedOrHead(name)) p.packed = new Nf4Matrix(rows, cols, values);
    else (p.packed as Bf16Matrix).setRows(0, values);
  }

  /** Projection specs (HF names and widths) of every block for the given targets. */
  private projSpecs(targets: readonly LoraTarget[]): ProjSpec[] {
    const specs: ProjSpec[] = [];
    for (let l = 0; l < this.config.nLayers; l++)
      for (const t of PROJ_ORDER) {
        if (!targets.includes(t)) continue;
        const w = this.blocks[l].proj[t];
        specs.push({ layer: l, target: t, prefix: w.name.slice(0, -".weight".length), IC: w.shape[1], OC: w.shape[0] });
      }
    return specs;
  }

  /**
   * Attaches LoRA adapters (A random, B zero: the output is unchanged) and freezes every base parameter.
   * The value head, if any, stays trainable. Throws if adapters are already attached (merge first).
   */
  attachLora(lora: LoraConfigInput, seed: number): void {
    if (this.loraCfg !== null) throw new Error("attachLora: adapters are already attached; call mergeLora() first");
    const cfg = LoraConfigSchema.parse(lora);
    const specs = this.projSpecs(cfg.targets);
    const ads = createAdapters(specs, cfg.rank, seed);
    this.adapters = this.blocks.map(() => ({}));
    specs.forEach((s, i) => (this.adapters[s.layer][s.target] = ads[i]));
    this.adapterList = ads;
    for (const a of ads) {
      this.byName.set(a.A.name, a.A);
      this.byName.set(a.B.name, a.B);
    }
    for (const p of this.base) p.trainable = false;
    this.loraCfg = cfg;
    this.resetBuffers();
  }

  /**
   * Folds every adapter into its base weight (W += alpha/r * B A), removes the adapters and makes the base
   * trainable again (lora becomes null, as for a model that never had adapters).
   */
  mergeLora(): void {
    const cfg = this.loraCfg;
    if (cfg === null) return;
    if (this.storage !== "f32")
      throw new Error(
        `mergeLora: the base is held as ${this.storage} and cannot be changed in place; export a merged model directory (exportMerged) instead`,
      );
    const scale = loraScale(cfg);
    for (let l = 0; l < this.blocks.length; l++)
      for (const t of PROJ_ORDER) {
        const a = this.adapters[l][t];
        if (a !== undefined) mergeAdapter(this.blocks[l].proj[t].data, a, scale);
      }
    for (const a of this.adapterList) {
      this.byName.delete(a.A.name);
      this.byName.delete(a.B.name);
    }
    this.adapters = [];
    this.adapterList = [];
    for (const p of this.base) p.trainable = true;
    this.loraCfg = null;
    this.resetBuffers();
  }

  /** Adds a value head: weight ~ U(-1/sqrt(d), 1/sqrt(d)) (torch nn.Linear's default, as TRL), bias 0. */
  addValueHead(seed: number): void {
    if (this.vw !== null) throw new Error("addValueHead: the model already has a value head");
    const C = this.config.dModel;
    const data = new Float32Array(C + 1);
    const grad = new Float32Array(C + 1);
    this.vw = makeParam("v_head.weight", [1, C], data.subarray(0, C), grad.subarray(0, C));
    this.vb = makeParam("v_head.bias", [1], data.subarray(C), grad.subarray(C));
    const r = new Rng(seed).fork("v_head");
    const bound = 1 / Math.sqrt(C);
    for (let i = 0; i < C; i++) this.vw.data[i] = r.uniform(-bound, bound);
    this.byName.set(this.vw.name, this.vw);
    this.byName.set(this.vb.name, this.vb);
  }

  /** Deep copy: weights, adapters, value head and trainable flags (gradients start at zero). */
  clone(): LlamaModel {
    const m = new LlamaModel(this.config, this.storage);
    m.gradientCheckpointing = this.gradientCheckpointing;
    if (this.loraCfg !== null) m.attachLora(this.loraCfg, 0);
    if (this.vw !== null) m.addValueHead(0);
    const mine = this.parameters();
    const theirs = m.parameters();
    for (let i = 0; i < mine.length; i++) {
      theirs[i].data.set(mine[i].data);
      theirs[i].trainable = mine[i].trainable;
      // packed matrices are frozen, so the copy shares them
      if (mine[i].packed !== undefined) theirs[i].packed = mine[i].packed;
    }
    return m;
  }

  /** Clears the gradients of trainable parameters (frozen ones are never written, so their pages stay untouched). */
  zeroGrad(): void {
    for (const p of this.parameters()) if (p.trainable) p.grad.fill(0);
  }

  /** Forgets activation buffers (after the parameter set changes); the next forward reallocates them. */
  private resetBuffers(): void {
    this.acts = null;
    this.evalActs = null;
    this.scratch = null;
    this.infer = null;
    this.last = null;
  }

  private actsShape(dropout: boolean): ActsShape {
    const c = this.config;
    const hd = c.dModel / c.nHeads;
    const r = this.loraCfg?.rank ?? 0;
    const lora =
      this.loraCfg === null
        ? []
        : this.loraCfg.targets.map((t) => ({ target: t, IC: t === "down_proj" ? c.dFf : c.dModel, r }));
    return {
      C: c.dModel,
      H: c.nHeads,
      kvDim: c.nKvHeads * hd,
      F: c.dFf,
      V: c.vocabSize,
      nLayers: c.nLayers,
      lora,
      dropout,
    };
  }

  /** One projection with its adapter: out = inp W^T (+ s B A drop(inp)), added into out with `accumulate`. */
  private project(
    l: number,
    t: LoraTarget,
    out: Float32Array,
    inp: Float32Array,
    lb: LayerBufs,
    N: number,
    mode: Mode,
    accumulate = false,
  ): void {
    const w = this.blocks[l].proj[t];
    const IC = w.shape[1];
    const OC = w.shape[0];
    const bias = this.blocks[l].bias[t]?.data ?? null;
    if (mode.recompute === true && t === "down_proj") {
      // out is scratch here (see Mode.recompute)
    } else if (w.packed !== undefined) packedLinearForward(out, inp, w.packed, bias, N, IC, OC, accumulate);
    else linearForward(out, inp, w.data, bias, N, IC, OC, accumulate);
    const ad = this.adapters[l]?.[t];
    const bufs = lb.lora[t];
    if (bufs === undefined) return;
    if (ad === undefined || mode.disableLora || this.loraCfg === null) {
      bufs.hUsed = null;
      return;
    }
    const p = this.loraCfg.dropout;
    let h = inp;
    if (mode.train && p > 0) {
      if (mode.rng === null)
        throw new Error("LlamaModel.forward: options.rng is required when training with LoRA dropout > 0");
      dropoutForward(bufs.h, bufs.keep, inp, N * IC, p, mode.rng);
      h = bufs.h;
    }
    bufs.hUsed = h;
    loraForward(out, bufs.a, h, ad.A.data, ad.B.data, N, IC, OC, ad.r, loraScale(this.loraCfg));
  }

  /** Backward of `project`: adds into dinp and into the grads of trainable weights. */
  private projectBackward(
    l: number,
    t: LoraTarget,
    dinp: Float32Array,
    dout: Float32Array,
    inp: Float32Array,
    lb: LayerBufs,
    N: number,
    overwriteDinp = false,
  ): void {
    const w = this.blocks[l].proj[t];
    const IC = w.shape[1];
    const OC = w.shape[0];
    const b = this.blocks[l].bias[t];
    const dbias = b !== undefined && b.trainable ? b.grad : null;
    if (w.packed !== undefined) {
      packedLinearBackward(dinp, dout, w.packed, N, IC, OC, overwriteDinp);
      if (dbias !== null) linearBackward(null, null, dbias, dout, inp, w.data, N, IC, OC);
    } else linearBackward(dinp, w.trainable ? w.grad : null, dbias, dout, inp, w.data, N, IC, OC, overwriteDinp);
    const ad = this.adapters[l]?.[t];
    const bufs = lb.lora[t];
    if (ad === undefined || bufs === undefined || bufs.hUsed === null || this.loraCfg === null) return;
    const sc = this.scratch as GradScratch;
    const scale = loraScale(this.loraCfg);
    const dA = ad.A.trainable ? ad.A.grad : null;
    const dB = ad.B.trainable ? ad.B.grad : null;
    if (bufs.hUsed === inp) {
      loraBackward(dinp, dA, dB, sc.loraDa, dout, inp, bufs.a, ad.A.data, ad.B.data, N, IC, OC, ad.r, scale);
    } else {
      const dh = sc.loraDh.subarray(0, N * IC);
      dh.fill(0);
      loraBackward(dh, dA, dB, sc.loraDa, dout, bufs.hUsed, bufs.a, ad.A.data, ad.B.data, N, IC, OC, ad.r, scale);
      dropoutBackward(dinp, dh, bufs.keep, N * IC);
    }
  }

  /**
   * One transformer block: out = res2 + mlp(norm(res2)), res2 = resid + attn(norm(resid)).
   * `attend` fills lb.atty from the roped lb.q/k/v. `out` may alias lb.resid (inference set).
   * No loops here on purpose: V8 compiled a hot loop in this body on-stack mid-call, and that code deoptimized at
   * the loop's exit on every later call, leaving the rest of the block to the interpreter.
   */
  private blockForward(
    l: number,
    lb: LayerBufs,
    out: Float32Array,
    pos: Int32Array,
    N: number,
    mode: Mode,
    attend: () => void,
  ): void {
    const c = this.config;
    const C = c.dModel;
    const hd = C / c.nHeads;
    const F = c.dFf;
    const bl = this.blocks[l];
    rmsnormForward(lb.ln1, lb.rstd1, lb.resid, bl.ln1.data, N, C, c.rmsNormEps);
    this.project(l, "q_proj", lb.q, lb.ln1, lb, N, mode);
    this.project(l, "k_proj", lb.k, lb.ln1, lb, N, mode);
    this.project(l, "v_proj", lb.v, lb.ln1, lb, N, mode);
    ropeForward(lb.q, lb.q, pos, this.cos, this.sin, N, c.nHeads, hd);
    ropeForward(lb.k, lb.k, pos, this.cos, this.sin, N, c.nKvHeads, hd);
    attend();
    // residuals: the sum starts as the skip branch and the projection adds into it (no separate add pass)
    lb.res2.set(lb.resid.subarray(0, N * C));
    this.project(l, "o_proj", lb.res2, lb.atty, lb, N, mode, true);
    rmsnormForward(lb.ln2, lb.rstd2, lb.res2, bl.ln2.data, N, C, c.rmsNormEps);
    this.project(l, "gate_proj", lb.gate, lb.ln2, lb, N, mode);
    this.project(l, "up_proj", lb.up, lb.ln2, lb, N, mode);
    swigluForward(lb.hmid, lb.sig, lb.gate, lb.up, N * F);
    out.set(lb.res2.subarray(0, N * C)); // in the inference set out is resid, no longer needed here
    this.project(l, "down_proj", out, lb.hmid, lb, N, mode, true);
  }

  /**
   * Final norm, value head, and the LM head at the asked rows (all N when `rows` is undefined): returns the logits
   * view [P, V] from `lb`, which also remembers the rows for the backward.
   */
  private headForward(
    lnf: Float32Array,
    rstdf: Float32Array,
    values: Float32Array,
    x: Float32Array,
    N: number,
    lb: LogitBuffers,
    rows: Int32Array | undefined,
  ): Float32Array {
    const c = this.config;
    const C = c.dModel;
    rmsnormForward(lnf, rstdf, x, this.norm.data, N, C, c.rmsNormEps);
    if (this.vw !== null && this.vb !== null) valueHeadForward(values, lnf, this.vw.data, this.vb.data, N, C);
    if (rows === undefined) {
      const { logits } = lb.ensure(N, 0, c.vocabSize);
      this.lmHeadForward(logits, lnf, N);
      lb.rows = null;
      return logits;
    }
    const P = rows.length;
    const { logits, lnfSel } = lb.ensure(P, C, c.vocabSize);
    gatherRows(lnfSel, lnf, rows, N, C);
    if (P > 0) this.lmHeadForward(logits, lnfSel, P);
    lb.rows = rows.slice();
    return logits;
  }

  /** logits = h @ head^T for P rows of h (the head packed or float32). */
  private lmHeadForward(logits: Float32Array, h: Float32Array, P: number): void {
    const c = this.config;
    const w = this.lmHead;
    if (w.packed !== undefined) packedLinearForward(logits, h, w.packed, null, P, c.dModel, c.vocabSize);
    else linearForward(logits, h, w.data, null, P, c.dModel, c.vocabSize);
  }

  /** dh = dLogits @ head (overwritten) and head.grad += dLogits^T @ h when the head trains; P rows. */
  private lmHeadBackward(dh: Float32Array, dLogits: Float32Array, h: Float32Array, P: number): void {
    const c = this.config;
    const w = this.lmHead;
    if (w.packed !== undefined) packedLinearBackward(dh, dLogits, w.packed, P, c.dModel, c.vocabSize, true);
    else linearBackward(dh, w.trainable ? w.grad : null, null, dLogits, h, w.data, P, c.dModel, c.vocabSize, true);
  }

  /** Token embeddings of N ids into out (N,C). */
  private embedForward(out: Float32Array, ids: Int32Array, N: number): void {
    const c = this.config;
    if (this.embed.packed !== undefined) packedEmbeddingForward(out, ids, this.embed.packed, N);
    else embeddingForward(out, ids, this.embed.data, N, c.dModel, c.vocabSize);
  }

  /**
   * Forward over a right-padded (B,T) batch. Training forwards and other forwards keep separate activation buffers:
   * an evaluation forward (e.g. the PPO reference with disableLora) between a training forward and its backward is
   * safe. The returned views stay valid until the next forward of the same kind.
   */
  forward(tokens: Int32Array, B: number, T: number, options: ForwardOptions = {}): ForwardResult {
    const c = this.config;
    const N = B * T;
    if (tokens.length < N) throw new RangeError(`LlamaModel.forward: tokens has ${tokens.length} ids, need B*T = ${N}`);
    if (T > c.maxSeq) throw new RangeError(`LlamaModel.forward: T = ${T} exceeds maxSeq = ${c.maxSeq}`);
    const mode: Mode = {
      train: options.train ?? false,
      rng: options.rng ?? null,
      disableLora: options.disableLora ?? false,
    };
    const dropout = this.loraCfg !== null && this.loraCfg.dropout > 0;
    const H = c.nHeads;
    // grow-only buffers: reallocate knowingly when this batch is larger than any before
    let a = mode.train ? this.acts : this.evalActs;
    const sc = this.scratch;
    const scratchSmall = mode.train && (sc === null || sc.capN < N || sc.capT < T);
    // a forward that will not be back-propagated keeps nothing per block; a training one unless checkpointing
    const savesLayers = mode.train && !this.gradientCheckpointing;
    if (a === null || a.capN < N || a.capAtt < B * H * T * T || scratchSmall || a.savesLayers !== savesLayers) {
      const capN = Math.max(N, a?.capN ?? 0);
      const capAtt = Math.max(B * H * T * T, a?.capAtt ?? 0);
      if (mode.train) {
        // activations and gradient scratch share one wasm arena: the backward's SIMD kernels read both
        const set = trainBufferSet(this.actsShape(dropout), capN, capAtt, Math.max(T, sc?.capT ?? 0), savesLayers);
        a = this.acts = set.acts;
        this.scratch = set.scratch;
      } else {
        a = this.evalActs = inArena((f) => new TrainActs(this.actsShape(dropout), capN, capAtt, f, false));
      }
    }
    a.tokens.set(tokens.subarray(0, N));
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) a.pos[b * T + t] = t;
    this.embedForward(a.layers[0].resid, a.tokens, N);
    const keepRng = mode.train && !savesLayers;
    if (keepRng) this.blockRng = [];
    for (let l = 0; l < c.nLayers; l++) {
      const lb = a.layers[l];
      if (keepRng) this.blockRng.push(mode.rng?.state() ?? null);
      this.batchBlock(l, lb, l + 1 < c.nLayers ? a.layers[l + 1].resid : a.residF, a.pos, B, T, mode);
    }
    const rows = options.logitRows;
    if (rows !== undefined) checkRows(rows, N);
    const lb = mode.train ? this.trainLogits : this.evalLogits;
    const logits = this.headForward(a.lnf, a.rstdf, a.values, a.residF, N, lb, rows);
    if (mode.train) this.last = { B, T, disableLora: mode.disableLora, dropout };
    return { logits, values: this.vw !== null ? a.values.subarray(0, N) : undefined };
  }

  backward(dLogits: Float32Array, dValues?: Float32Array): void {
    const last = this.last;
    const a = this.acts;
    if (last === null || a === null) throw new Error("LlamaModel.backward: call forward(..., { train: true }) first");
    const c = this.config;
    const { B, T } = last;
    const N = B * T;
    const C = c.dModel;
    const lrows = this.trainLogits.rows;
    const P = lrows === null ? N : lrows.length;
    if (dLogits.length < P * c.vocabSize)
      throw new RangeError(`LlamaModel.backward: dLogits has ${dLogits.length} values, need ${P * c.vocabSize}`);
    // the training forward sized the scratch for this batch, in the activations' arena (see forward)
    const s = this.scratch;
    if (s === null || s.capN < N || s.capT < T)
      throw new Error("LlamaModel.backward: gradient scratch smaller than the last training batch (internal error)");
    const dlnf = s.dlnf.subarray(0, N * C);
    // the first contribution to a gradient buffer overwrites it (gemm beta = 0) instead of a zero-fill beforehand
    if (lrows === null) this.lmHeadBackward(dlnf, dLogits, a.lnf, N);
    else {
      const sel = this.trainLogits.lnfSel.subarray(0, P * C);
      const dsel = new Float32Array(P * C);
      this.lmHeadBackward(dsel, dLogits, sel, P);
      dlnf.fill(0);
      scatterAddRows(dlnf, dsel, lrows, C);
    }
    this.backwardFromHidden(dlnf, dValues);
  }

  /**
   * A training forward and backward with the LM head run only at `rows` (flat positions b*T+t) and in chunks of
   * `chunkRows`: each chunk's logits (n,V) go to `loss`, which writes dLoss/dLogits into its second argument and
   * returns the chunk's share of the loss, and the chunk is back-propagated through the head before the next one, so
   * peak memory is chunkRows x V rather than B x T x V. `dValues`, when given, receives the value head's outputs
   * (B*T) and returns their gradient. Accumulates into trainable grads (call zeroGrad between steps); returns the
   * summed loss.
   *
   * ```ts
   * const rows = completionRows(...);   // positions whose next token is trained on
   * const loss = m.trainChunked(tokens, B, T, rows, crossEntropyChunks(targetsAt(rows), null), { rng });
   * ```
   */
  trainChunked(
    tokens: Int32Array, // (B,T)
    B: number,
    T: number,
    rows: Int32Array, // (P) flat positions
    loss: ChunkLoss,
    options: Omit<ForwardOptions, "train" | "logitRows"> & {
      chunkRows?: number;
      dValues?: (values: Float32Array) => Float32Array;
    } = {},
  ): number {
    const c = this.config;
    const C = c.dModel;
    const V = c.vocabSize;
    const N = B * T;
    checkRows(rows, N);
    const { values } = this.forward(tokens, B, T, { ...options, train: true, logitRows: new Int32Array(0) });
    const a = this.acts as TrainActs;
    const s = this.scratch as GradScratch;
    const dlnf = s.dlnf.subarray(0, N * C);
    dlnf.fill(0);
    const ch = Math.max(1, options.chunkRows ?? 64);
    const gradBuf = this.chunkGrad;
    let total = 0;
    for (let i0 = 0; i0 < rows.length; i0 += ch) {
      const n = Math.min(ch, rows.length - i0);
      const rc = rows.subarray(i0, i0 + n);
      const { logits, lnfSel } = this.trainLogits.ensure(n, C, V);
      const lg = logits.subarray(0, n * V);
      const sel = lnfSel.subarray(0, n * C);
      gatherRows(sel, a.lnf, rc, N, C);
      this.lmHeadForward(lg, sel, n);
      const { logits: dlg, lnfSel: dsel } = gradBuf.ensure(n, C, V);
      const dl = dlg.subarray(0, n * V);
      total += loss(lg, dl, i0, n);
      this.lmHeadBackward(dsel.subarray(0, n * C), dl, sel, n);
      scatterAddRows(dlnf, dsel, rc, C);
    }
    const dv = options.dValues !== undefined && values !== undefined ? options.dValues(values) : undefined;
    this.backwardFromHidden(dlnf, dv);
    return total;
  }

  /**
   * The backward below the LM head: given dLoss/d(final-norm output) (N,C) (and dValues), through the value head,
   * the final norm and every block. Accumulates into trainable grads.
   */
  private backwardFromHidden(dlnf: Float32Array, dValues?: Float32Array): void {
    const last = this.last as { B: number; T: number };
    const a = this.acts as TrainActs;
    const s = this.scratch as GradScratch;
    const c = this.config;
    const { B, T } = last;
    const N = B * T;
    const C = c.dModel;
    const H = c.nHeads;
    const KVH = c.nKvHeads;
    const hd = C / H;
    const F = c.dFf;
    const gradOf = (p: Param) => (p.trainable ? p.grad : null);
    if (dValues !== undefined && this.vw !== null && this.vb !== null)
      valueHeadBackward(dlnf, gradOf(this.vw), gradOf(this.vb), dValues, a.lnf, this.vw.data, N, C);
    const dres = s.dres.subarray(0, N * C);
    dres.fill(0);
    rmsnormBackward(dres, gradOf(this.norm), dlnf, a.residF, this.norm.data, a.rstdf, N, C);
    const dln = s.dln.subarray(0, N * C);
    const dq = s.dq.subarray(0, N * C);
    const dk = s.dk.subarray(0, N * KVH * hd);
    const dv = s.dv.subarray(0, N * KVH * hd);
    const datty = s.datty.subarray(0, N * C);
    const dgate = s.dgate.subarray(0, N * F);
    const dup = s.dup.subarray(0, N * F);
    const dhmid = s.dhmid.subarray(0, N * F);
    for (let l = c.nLayers - 1; l >= 0; l--) {
      const lb = a.layers[l];
      const bl = this.blocks[l];
      if (!a.savesLayers) this.recomputeBlock(l, a, B, T);
      // out = res2 + down(hmid): dres is both d(res2) and d(down output)
      this.projectBackward(l, "down_proj", dhmid, dres, lb.hmid, lb, N, true);
      dgate.fill(0);
      dup.fill(0);
      swigluBackward(dgate, dup, dhmid, lb.gate, lb.up, lb.sig, N * F);
      this.projectBackward(l, "gate_proj", dln, dgate, lb.ln2, lb, N, true);
      this.projectBackward(l, "up_proj", dln, dup, lb.ln2, lb, N);
      rmsnormBackward(dres, gradOf(bl.ln2), dln, lb.res2, bl.ln2.data, lb.rstd2, N, C);
      // res2 = resid + o(atty)
      this.projectBackward(l, "o_proj", datty, dres, lb.atty, lb, N, true);
      dq.fill(0);
      dk.fill(0);
      dv.fill(0);
      attentionBackward(dq, dk, dv, s.datt, datty, lb.q, lb.k, lb.v, lb.att, B, T, H, KVH, hd);
      ropeBackward(dq, dq, a.pos, this.cos, this.sin, N, H, hd);
      ropeBackward(dk, dk, a.pos, this.cos, this.sin, N, KVH, hd);
      this.projectBackward(l, "q_proj", dln, dq, lb.ln1, lb, N, true);
      this.projectBackward(l, "k_proj", dln, dk, lb.ln1, lb, N);
      this.projectBackward(l, "v_proj", dln, dv, lb.ln1, lb, N);
      rmsnormBackward(dres, gradOf(bl.ln1), dln, lb.resid, bl.ln1.data, lb.rstd1, N, C);
    }
    if (this.embed.trainable) embeddingBackward(this.embed.grad, dres, a.tokens, N, C);
  }

  /**
   * Gradient checkpointing: block l's forward again, from its saved input, with the dropout masks of the training
   * forward (its generator state), so the shared buffers hold exactly what the plain forward saved for block l.
   */
  private recomputeBlock(l: number, a: TrainActs, B: number, T: number): void {
    const last = this.last as { disableLora: boolean };
    const st = this.blockRng[l] ?? null;
    const rng = st === null ? null : Rng.fromState(st);
    const mode: Mode = { train: true, rng, disableLora: last.disableLora, recompute: true };
    this.batchBlock(l, a.layers[l], a.blockOut, a.pos, B, T, mode);
  }

  /** Block l over a right-padded (B,T) batch with full causal attention (training and evaluation forwards). */
  private batchBlock(l: number, lb: LayerBufs, out: Float32Array, pos: Int32Array, B: number, T: number, mode: Mode) {
    const c = this.config;
    const hd = c.dModel / c.nHeads;
    this.blockForward(l, lb, out, pos, B * T, mode, () =>
      attentionForward(lb.atty, lb.att, lb.q, lb.k, lb.v, B, T, c.nHeads, c.nKvHeads, hd),
    );
  }

  /** A new KV cache for B sequences of up to S positions (S <= maxSeq). */
  createKvCache(B: number, S: number): KvCache {
    const c = this.config;
    if (S > c.maxSeq) throw new RangeError(`createKvCache: S = ${S} exceeds maxSeq = ${c.maxSeq}`);
    return new KvCache(c.nLayers, B, S, (c.dModel / c.nHeads) * c.nKvHeads, c.dModel);
  }

  /**
   * The model's own grow-only KV cache with room for at least B rows of S positions (the sampler uses it, so repeated
   * rollouts allocate nothing). Its contents are scratch: each prefill overwrites what it later reads.
   */
  scratchKvCache(B: number, S: number): KvCache {
    const k = this.kv;
    if (k !== null && k.B >= B && k.S >= S) return k;
    this.kv = this.createKvCache(Math.max(B, k?.B ?? 0), Math.max(S, k?.S ?? 0));
    return this.kv;
  }

  /**
   * Inference forward through a KV cache: row b's T tokens sit at positions start[b]..start[b]+T-1; their keys and
   * values are written into the cache and they attend to positions 0..start[b]+t of row b. Rows may be right-padded
   * (pad positions are overwritten by later writes and never attended to before then). `rows` maps batch row b to
   * cache row rows[b] (default: b), so a decoder can drop finished sequences from the batch. Returns views of
   * model-owned buffers, valid until the next forwardCached; does not disturb the training activations.
   */
  forwardCached(
    cache: KvCache,
    tokens: Int32Array, // (B,T)
    B: number,
    T: number,
    start: Int32Array, // (B)
    options: { disableLora?: boolean; rows?: Int32Array; logitRows?: Int32Array } = {},
  ): ForwardResult {
    const c = this.config;
    const N = B * T;
    const rows = options.rows ?? null;
    if (rows === null && B > cache.B)
      throw new RangeError(`forwardCached: B = ${B} exceeds the cache's ${cache.B} rows`);
    let maxL = 0;
    for (let b = 0; b < B; b++) maxL = Math.max(maxL, start[b] + T);
    if (maxL > cache.S)
      throw new RangeError(`forwardCached: needs ${maxL} positions, cache holds ${cache.S} (maxSeq ${c.maxSeq})`);
    // scores: (heads, T, S), every head's block of a batch row at once (attentionCachedForward batches them)
    const scoresCap = c.nHeads * T * cache.S;
    if (this.infer === null || this.infer.capN < N || this.infer.capScores < scoresCap)
      this.infer = new InferActs(
        this.actsShape(false),
        Math.max(N, this.infer?.capN ?? 0),
        Math.max(scoresCap, this.infer?.capScores ?? 0),
      );
    const ia = this.infer;
    const lb = ia.layer;
    const hd = c.dModel / c.nHeads;
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) ia.pos[b * T + t] = start[b] + t;
    this.embedForward(lb.resid, tokens, N);
    const mode: Mode = { train: false, rng: null, disableLora: options.disableLora ?? false };
    for (let l = 0; l < c.nLayers; l++)
      this.blockForward(l, lb, lb.resid, ia.pos, N, mode, () => {
        cache.write(l, lb.k, lb.v, start, rows, B, T);
        attentionCachedForward(
          lb.atty,
          ia.scores,
          lb.q,
          cache.k[l],
          cache.v[l],
          start,
          rows,
          B,
          T,
          cache.S,
          c.nHeads,
          c.nKvHeads,
          hd,
        );
      });
    const lrows = options.logitRows;
    if (lrows !== undefined) checkRows(lrows, N);
    const logits = this.headForward(ia.lnf, ia.rstdf, ia.values, lb.resid, N, this.inferLogits, lrows);
    return { logits, values: this.vw !== null ? ia.values.subarray(0, N) : undefined };
  }
}

function isEmbedOrHead(name: string): boolean {
  return name === "model.embed_tokens.weight" || name === "lm_head.weight";
}

/** Throws unless every row index is in [0, N). */
function checkRows(rows: Int32Array, N: number): void {
  for (let i = 0; i < rows.length; i++)
    if (rows[i] < 0 || rows[i] >= N) throw new RangeError(`logitRows[${i}] = ${rows[i]} is outside [0, ${N})`);
}

/** out[i, :] = x[rows[i], :]. */
function gatherRows(out: Float32Array, x: Float32Array, rows: Int32Array, N: number, C: number): void {
  for (let i = 0; i < rows.length; i++) {
    if (rows[i] >= N) throw new RangeError(`gatherRows: row ${rows[i]} >= ${N}`);
    out.set(x.subarray(rows[i] * C, rows[i] * C + C), i * C);
  }
}

/** dx[rows[i], :] += d[i, :]. */
function scatterAddRows(dx: Float32Array, d: Float32Array, rows: Int32Array, C: number): void {
  for (let i = 0; i < rows.length; i++) {
    const o = rows[i] * C;
    const q = i * C;
    for (let j = 0; j < C; j++) dx[o + j] += d[q + j];
  }
}

/**
 * A model with deterministic random init: embeddings and projections ~ N(0, initStd) from `seed` (each parameter
 * from its own stream forked by its name), norms = 1, optional value head.
 */
export function createModel(config: ModelConfigInput, options: CreateModelOptions = {}): LlamaModel {
  const m = new LlamaModel(config, options.storage ?? "f32");
  if (options.gradientCheckpointing !== undefined) m.gradientCheckpointing = options.gradientCheckpointing;
  const seed = options.seed ?? 0;
  m.initWeights(seed, options.initStd ?? 0.02);
  if (options.valueHead === true) m.addValueHead(seed);
  return m;
}
