/**
 * Writes tiny random checkpoints in the Hugging Face layout for the loader tests: config.json with HF keys, weights as
 * 3 BF16 shards with model.safetensors.index.json, tokenizer files and generation_config.json. Two families: a
 * Llama-3.x config (GQA, rope_scaling llama3, untied head) and a Qwen2 config (q/k/v biases, large rope_theta, tied).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Rng } from "../../../src/data/rng.js";
import { writeShards } from "../../../src/engine/hf/write-shards.js";
import { buildWordLevelTokenizer } from "../../../src/engine/tokenizer-build.js";

export type TinyKind = "llama3" | "qwen2";

/** Dimensions shared by both families: GQA with 4 query and 2 key/value heads of size 8. */
export const TINY = { vocab: 48, hidden: 32, heads: 4, kvHeads: 2, layers: 2, ffn: 40 };

/** Llama 3 rope scaling with original_max_position_embeddings 16, so short test sequences reach the scaled part. */
export const LLAMA3_ROPE = {
  rope_type: "llama3",
  factor: 4.0,
  low_freq_factor: 1.0,
  high_freq_factor: 4.0,
  original_max_position_embeddings: 16,
};

export function tinyConfig(kind: TinyKind): Record<string, unknown> {
  const common = {
    vocab_size: TINY.vocab,
    hidden_size: TINY.hidden,
    intermediate_size: TINY.ffn,
    num_hidden_layers: TINY.layers,
    num_attention_heads: TINY.heads,
    num_key_value_heads: TINY.kvHeads,
    hidden_act: "silu",
    torch_dtype: "bfloat16",
    bos_token_id: 1,
  };
  if (kind === "llama3")
    return {
      ...common,
      architectures: ["LlamaForCausalLM"],
      model_type: "llama",
      max_position_embeddings: 256,
      rope_theta: 10000.0,
      // a small original context, so the scaling changes the frequencies that a 12-token test sees
      rope_scaling: {
        rope_type: "llama3",
        factor: 4.0,
        low_freq_factor: 1.0,
        high_freq_factor: 4.0,
        original_max_position_embeddings: 64,
      },
      rms_norm_eps: 1e-5,
      tie_word_embeddings: false,
      attention_bias: false,
      mlp_bias: false,
      eos_token_id: [2, 5],
      head_dim: 8,
      pretraining_tp: 1,
    };
  return {
    ...common,
    architectures: ["Qwen2ForCausalLM"],
    model_type: "qwen2",
    max_position_embeddings: 32768,
    rope_theta: 1000000.0,
    rope_scaling: null,
    rms_norm_eps: 1e-6,
    tie_word_embeddings: true,
    use_sliding_window: false,
    sliding_window: 32768,
    max_window_layers: 21,
    eos_token_id: 2,
  };
}

/** HF tensor names and shapes of a tiny config. */
export function tinyTensors(kind: TinyKind): [string, number[]][] {
  const { vocab: V, hidden: C, heads: H, kvHeads: KV, layers: L, ffn: F } = TINY;
  const kvDim = (C / H) * KV;
  const out: [string, number[]][] = [["model.embed_tokens.weight", [V, C]]];
  for (let l = 0; l < L; l++) {
    const p = `model.layers.${l}`;
    out.push(
      [`${p}.input_layernorm.weight`, [C]],
      [`${p}.self_attn.q_proj.weight`, [C, C]],
      [`${p}.self_attn.k_proj.weight`, [kvDim, C]],
      [`${p}.self_attn.v_proj.weight`, [kvDim, C]],
    );
    if (kind === "qwen2")
      out.push(
        [`${p}.self_attn.q_proj.bias`, [C]],
        [`${p}.self_attn.k_proj.bias`, [kvDim]],
        [`${p}.self_attn.v_proj.bias`, [kvDim]],
      );
    out.push(
      [`${p}.self_attn.o_proj.weight`, [C, C]],
      [`${p}.post_attention_layernorm.weight`, [C]],
      [`${p}.mlp.gate_proj.weight`, [F, C]],
      [`${p}.mlp.up_proj.weight`, [F, C]],
      [`${p}.mlp.down_proj.weight`, [C, F]],
    );
  }
  out.push(["model.norm.weight", [C]]);
  if (kind === "llama3") out.push(["lm_head.weight", [V, C]]);
  return out;
}

/**
 * The tiny word-level tokenizer (exactly TINY.vocab tokens, so every id a tiny model can emit decodes to text):
 * tokenizer.json and tokenizer_config.json into `dir` (which must exist).
 */
export function writeTinyTokenizer(dir: string): void {
  // exactly vocab_size tokens, so every id the model can emit decodes to text
  const words = Array.from({ length: 100 }, (_, i) => String.fromCharCode(97 + (i % 26)) + "xyz"[Math.floor(i / 26)]);
  const tok = buildWordLevelTokenizer(["the cat sat on the mat .", "a dog ran", words.join(" ")], {
    maxVocab: TINY.vocab,
  });
  if (tok.vocabSize !== TINY.vocab) throw new Error(`tiny tokenizer has ${tok.vocabSize} tokens`);
  writeFileSync(join(dir, "tokenizer.json"), JSON.stringify(tok.toJson()));
  writeFileSync(
    join(dir, "tokenizer_config.json"),
    JSON.stringify({ bos_token: "<bos>", eos_token: "<eos>", pad_token: "<pad>", unk_token: "<unk>" }),
  );
}

/** Write a tiny random checkpoint of `kind` into `dir` (created); values vary enough that every feature shows. */
export async function writeTinyHf(
  dir: string,
  kind: TinyKind,
  seed = 1,
  extra: { shards?: number } = {},
): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const rng = new Rng(seed);
  const tensors = tinyTensors(kind).map(([name, shape]): [string, { shape: number[]; data: Float32Array }] => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++)
      data[i] = name.endsWith("norm.weight")
        ? 1 + 0.2 * rng.normal()
        : (name.endsWith(".bias") ? 0.5 : 0.25) * rng.normal();
    return [name, { shape, data }];
  });
  writeFileSync(join(dir, "config.json"), JSON.stringify(tinyConfig(kind), null, 2));
  await writeShards(dir, tensors, { dtype: "BF16", shards: extra.shards ?? 3 });
  writeTinyTokenizer(dir);
  writeFileSync(
    join(dir, "generation_config.json"),
    JSON.stringify({
      bos_token_id: 1,
      eos_token_id: kind === "llama3" ? [2, 5, 7] : 2,
      do_sample: true,
      temperature: 0.7,
      top_p: 0.8,
      top_k: 20,
    }),
  );
}
