/**
 * A minimal real policy for trainer tests: next-token logits are a learnable table row indexed by the current token
 * (a bigram model) and the value head is a learnable scalar per current token. It implements CausalLM fully
 * (forward, backward accumulating into grads), so the trainers run against it exactly as against the transformer.
 */
import { resolveModelConfig } from "../../../src/engine/config.js";
import type { CausalLM, ForwardOptions, ForwardResult, Param } from "../../../src/engine/model-api.js";

function param(name: string, shape: number[]): Param {
  const n = shape.reduce((a, b) => a * b, 1);
  return { name, shape, data: new Float32Array(n), grad: new Float32Array(n), trainable: true };
}

export class TableModel implements CausalLM {
  readonly config;
  readonly lora = null;
  readonly hasValueHead: boolean;
  readonly table: Param; // (V, V): logits of the next token given the current one
  readonly vHead: Param | null; // (V): value of the state ending in the current token
  private lastTokens: Int32Array | null = null;
  private logits = new Float32Array(0);
  private values = new Float32Array(0);

  constructor(
    readonly vocabSize: number,
    valueHead = false,
  ) {
    this.config = resolveModelConfig({ vocabSize, dModel: 2, nHeads: 1, nLayers: 1, dFf: 2 });
    this.hasValueHead = valueHead;
    this.table = param("table.weight", [vocabSize, vocabSize]);
    this.vHead = valueHead ? param("v_head.weight", [vocabSize]) : null;
  }

  parameters(): readonly Param[] {
    return this.vHead ? [this.table, this.vHead] : [this.table];
  }
  trainableParameters(): readonly Param[] {
    return this.parameters().filter((p) => p.trainable);
  }

  forward(tokens: Int32Array, B: number, T: number, options: ForwardOptions = {}): ForwardResult {
    const V = this.vocabSize;
    if (this.logits.length !== B * T * V) this.logits = new Float32Array(B * T * V);
    if (this.values.length !== B * T) this.values = new Float32Array(B * T);
    for (let i = 0; i < B * T; i++) {
      const tok = tokens[i];
      this.logits.set(this.table.data.subarray(tok * V, tok * V + V), i * V);
      if (this.vHead) this.values[i] = this.vHead.data[tok];
    }
    this.lastTokens = options.train ? tokens.slice(0, B * T) : null;
    return { logits: this.logits, values: this.vHead ? this.values : undefined };
  }

  backward(dLogits: Float32Array, dValues?: Float32Array): void {
    const toks = this.lastTokens;
    if (!toks) throw new Error("TableModel.backward without a training forward");
    const V = this.vocabSize;
    for (let i = 0; i < toks.length; i++) {
      const row = toks[i] * V;
      for (let k = 0; k < V; k++) this.table.grad[row + k] += dLogits[i * V + k];
      if (this.vHead && dValues) this.vHead.grad[toks[i]] += dValues[i];
    }
  }

  zeroGrad(): void {
    for (const p of this.parameters()) p.grad.fill(0);
  }

  /** A frozen copy (the PPO reference when no LoRA is attached). */
  clone(): TableModel {
    const m = new TableModel(this.vocabSize, this.hasValueHead);
    m.table.data.set(this.table.data);
    if (this.vHead && m.vHead) m.vHead.data.set(this.vHead.data);
    return m;
  }
}
