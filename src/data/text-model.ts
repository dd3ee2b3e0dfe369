/**
 * The one interface evaluation and judging use to talk to a model, wherever it runs: an embedded engine checkpoint
 * or a remote provider both implement `TextModel`.
 */

/** A chat message; embedded models render these with their own template, remote providers pass them through. */
export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

/** A prompt is plain text (completion style) or a list of chat messages. */
export type Prompt = string | ChatMessage[];

export interface GenerateOptions {
  /** Sampling temperature; 0 means greedy. */
  temperature?: number;
  /** Most new tokens per completion. */
  maxTokens?: number;
  topK?: number;
  topP?: number;
  /** Seed for sampling; embedded models are exact per seed, providers pass it on when they support it. */
  seed?: number;
  /** Stop sequences (text). */
  stop?: string[];
  /** Also return the k most likely tokens at each generated position (OpenAI's top_logprobs), where the model can. */
  topLogprobs?: number;
  /** Called after each finished completion with (done, total), for progress bars. */
  onProgress?: (done: number, total: number) => void;
}

export interface Completion {
  /** The generated text (excluding the prompt). */
  text: string;
  /** Generated token ids, when the model exposes them. */
  tokens?: number[];
  /** Per-token log-probabilities of the sampled tokens, when available. */
  logprobs?: number[];
  /** With `topLogprobs`: per generated token, the most likely tokens (text) and their log-probabilities, most likely first. */
  topLogprobs?: Array<Array<{ token: string; logprob: number }>>;
  /** Why generation ended. */
  finishReason: "stop" | "length" | "error";
}

/** `generate(prompts, options) -> completions`, one completion per prompt, in order. */
export interface TextModel {
  /** Human-readable id, e.g. "embedded:runs/x/arm-mst/seed-0" or "openai:gpt-4o-mini". */
  readonly id: string;
  generate(prompts: Prompt[], options?: GenerateOptions): Promise<Completion[]>;
}
