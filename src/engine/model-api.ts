/**
 * The engine's model contract: what trainers, samplers and checkpoints see of a causal language model.
 * Implemented by the Llama-style model in model.ts; kept apart so trainers and checkpoint code depend on a small surface.
 */
import type { Rng } from "../data/rng.js";
import type { LoraConfig, ModelConfig } from "./config.js";
import type { PackedMatrix } from "./quant/packed.js";

/** A named parameter tensor, stored flat (row-major) with a gradient buffer of the same length. */
export interface Param {
  /** Hugging Face Llama name, e.g. "model.layers.0.self_attn.q_proj.weight" or "...q_proj.lora_A.weight". */
  readonly name: string;
  /** Shape as in PyTorch, e.g. [out, in] for a linear weight. */
  readonly shape: readonly number[];
  /** The values; empty (length 0) when the weight is held packed (see `packed`). */
  readonly data: Float32Array;
  /**
   * A frozen weight held as bf16 or NF4 instead of float32 (the model's `storage`): `data` is then empty and the
   * products dequantise it panel by panel. Never trainable.
   */
  packed?: PackedMatrix;
  /** Gradient, accumulated by `backward` (only meaningful when `trainable`). */
  readonly grad: Float32Array;
  /** False for the frozen base when LoRA is attached. */
  trainable: boolean;
}

export interface ForwardOptions {
  /** Training mode: LoRA dropout is active and activations are kept for `backward`. Default false. */
  train?: boolean;
  /** Randomness for dropout (required when train is true and LoRA dropout > 0). */
  rng?: Rng;
  /** Run the frozen base only, ignoring LoRA adapters (the PPO reference model). Default false. */
  disableLora?: boolean;
  /**
   * Compute logits only at these flat positions (b*T + t), in this order: `logits` is then [P, V] and `backward`
   * takes dLogits [P, V]. Saves the [B*T, V] buffer (gigabytes with a 150k vocabulary). Default: every position.
   */
  logitRows?: Int32Array;
}

export interface ForwardResult {
  /** Next-token logits, [B, T, vocabSize] flat. A view of a model-owned buffer: valid until the next forward. */
  readonly logits: Float32Array;
  /** Scalar value-head outputs [B, T] when the model has a value head, else undefined. Same lifetime as logits. */
  readonly values?: Float32Array;
}

/**
 * A decoder-only language model over token ids.
 * Batches are right-padded: `tokens` is [B, T] flat; causal attention means padding after a sequence's end never
 * affects its earlier positions, so callers simply ignore (mask) positions past each sequence's length.
 */
export interface CausalLM {
  readonly config: ModelConfig & { nKvHeads: number };
  /** The attached LoRA config, or null when all base weights train (pretraining / full fine-tuning). */
  readonly lora: LoraConfig | null;
  /** Whether the model has a scalar value head (PPO). */
  readonly hasValueHead: boolean;
  /** Every parameter, base and adapters, in a stable order (names are unique). */
  parameters(): readonly Param[];
  /** Parameters with `trainable` true. */
  trainableParameters(): readonly Param[];
  /** Forward over a right-padded batch. */
  forward(tokens: Int32Array, B: number, T: number, options?: ForwardOptions): ForwardResult;
  /**
   * Backward of the last training forward: given dLoss/dLogits [B, T, V] (and dLoss/dValues [B, T] when there is a
   * value head), *accumulates* into `grad` of trainable parameters. Call `zeroGrad()` between optimizer steps.
   */
  backward(dLogits: Float32Array, dValues?: Float32Array): void;
  zeroGrad(): void;
}
