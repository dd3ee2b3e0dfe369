/** Renders chat messages to prompt text with a Jinja chat template (@huggingface/jinja); ships the embedded default. */

import { Template } from "@huggingface/jinja";
import type { ChatMessage } from "../data/text-model.js";
import { ROLE_TOKENS, SPECIAL_TOKENS, type Tokenizer } from "./tokenizer.js";

/** Raised when a template does not parse or fails while rendering; the message says which. */
export class ChatTemplateError extends Error {
  override name = "ChatTemplateError";
}

/**
 * The embedded models' template: `<bos><|system|>...<|end|><|user|>...<|end|><|assistant|>`. The markers are
 * special tokens of every synthetic tokenizer (tokenizer-build.ts), so each costs one token and never collides with
 * content; no whitespace is added, so prompt length stays under the caller's control.
 */
export const DEFAULT_CHAT_TEMPLATE =
  "{{- bos_token -}}" +
  "{%- for message in messages -%}" +
  `<|{{ message.role }}|>{{ message.content }}${ROLE_TOKENS.end}` +
  "{%- endfor -%}" +
  `{%- if add_generation_prompt -%}${ROLE_TOKENS.assistant}{%- endif -%}`;

export interface ChatRenderOptions {
  /** End with the assistant marker so the model writes the reply. Default true. */
  addGenerationPrompt?: boolean;
  /** Text of the BOS token the template may use. Default "<bos>". */
  bosToken?: string;
  /** Text of the EOS token the template may use. Default "<eos>". */
  eosToken?: string;
  /** More variables for the template (e.g. tools, a date). */
  variables?: Record<string, unknown>;
}

const compiled = new Map<string, Template>();

function compile(source: string): Template {
  let t = compiled.get(source);
  if (!t) {
    try {
      t = new Template(source);
    } catch (e) {
      throw new ChatTemplateError(`chat template does not parse: ${(e as Error).message}`);
    }
    compiled.set(source, t);
  }
  return t;
}

/** Render `messages` with a Jinja chat template (default: DEFAULT_CHAT_TEMPLATE). Templates are compiled once. */
export function renderChat(
  messages: readonly ChatMessage[],
  template: string = DEFAULT_CHAT_TEMPLATE,
  options: ChatRenderOptions = {},
): string {
  const t = compile(template);
  try {
    return t.render({
      ...options.variables,
      messages: messages.map((m) => ({ role: m.role, content: m.content })),
      add_generation_prompt: options.addGenerationPrompt ?? true,
      bos_token: options.bosToken ?? SPECIAL_TOKENS.bos,
      eos_token: options.eosToken ?? SPECIAL_TOKENS.eos,
    });
  } catch (e) {
    throw new ChatTemplateError(`chat template failed to render: ${(e as Error).message}`);
  }
}

/**
 * Render options carrying a tokenizer's own BOS/EOS text (empty when it has none, as Qwen2's has no BOS), so a real
 * model's template writes the tokens its tokenizer knows.
 */
export function tokenizerRenderOptions(tok: Tokenizer, addGenerationPrompt = true): ChatRenderOptions {
  return {
    addGenerationPrompt,
    bosToken: tok.bosId >= 0 ? (tok.idToToken(tok.bosId) ?? "") : "",
    eosToken: tok.eosId >= 0 ? (tok.idToToken(tok.eosId) ?? "") : "",
  };
}
