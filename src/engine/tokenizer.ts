/** A Hugging Face `tokenizer.json` (+ tokenizer_config.json) run through @huggingface/tokenizers, with sync encode/decode. */

import { readFile, writeFile, mkdir } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Tokenizer as HfTokenizer } from "@huggingface/tokenizers";
import { z } from "zod";

/** Raised for a missing or malformed tokenizer file; the message names the file and field. */
export class TokenizerError extends Error {
  override name = "TokenizerError";
}

/** Special tokens every synthetic tokenizer carries, in id order (ids 0..3). */
export const SPECIAL_TOKENS = { pad: "<pad>", bos: "<bos>", eos: "<eos>", unk: "<unk>" } as const;
/** Chat role markers (special tokens) used by the default chat template. */
export const ROLE_TOKENS = {
  system: "<|system|>",
  user: "<|user|>",
  assistant: "<|assistant|>",
  end: "<|end|>",
} as const;

// Tolerant schemas: real tokenizer files carry many more fields, which pass through untouched.
const AddedTokenSchema = z.looseObject({ id: z.number().int().nonnegative(), content: z.string() });
const TokenizerJsonSchema = z.looseObject({
  model: z.looseObject({ type: z.string().optional() }),
  added_tokens: z.array(AddedTokenSchema).default([]),
});
const TokenConfigValue = z.union([z.string(), z.looseObject({ content: z.string() }), z.null()]).optional();
const TokenizerConfigSchema = z.looseObject({
  bos_token: TokenConfigValue,
  eos_token: TokenConfigValue,
  pad_token: TokenConfigValue,
  unk_token: TokenConfigValue,
  chat_template: z.string().optional(),
});
export type TokenizerConfigJson = z.infer<typeof TokenizerConfigSchema>;

function tokenName(v: z.infer<typeof TokenConfigValue>): string | undefined {
  if (v === null || v === undefined) return undefined;
  return typeof v === "string" ? v : v.content;
}

export interface EncodeOptions {
  /** Let the tokenizer's post-processor add its special tokens (e.g. a BOS). Default false: text is encoded as is. */
  addSpecialTokens?: boolean;
}
export interface DecodeOptions {
  /** Drop special tokens (pad, bos, eos, role markers) from the text. Default false. */
  skipSpecialTokens?: boolean;
}

/**
 * A tokenizer over a Hugging Face tokenizer.json. Synthetic ones come from tokenizer-build.ts; real ones load from a
 * checkpoint directory. Special ids are -1 when the tokenizer has no such token (pad falls back to eos, as is usual
 * for Llama tokenizers).
 */
export class Tokenizer {
  readonly vocabSize: number;
  readonly padId: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly unkId: number;
  /** The Jinja chat template from tokenizer_config.json, when there is one. */
  readonly chatTemplate: string | undefined;
  private readonly hf: HfTokenizer;
  private readonly json: Record<string, unknown>;
  private readonly config: TokenizerConfigJson;
  private readonly specialIds: Set<number>;

  private constructor(json: Record<string, unknown>, config: TokenizerConfigJson, source: string) {
    const parsed = TokenizerJsonSchema.safeParse(json);
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      throw new TokenizerError(`${source}: field "${i?.path.join(".")}": ${i?.message}`);
    }
    const added = parsed.data.added_tokens;
    const has = (t: string) => added.some((a) => a.content === t);
    // Fill the names of our own special tokens when no tokenizer_config says otherwise.
    const cfg: TokenizerConfigJson = { ...config };
    for (const [key, tok] of Object.entries(SPECIAL_TOKENS)) {
      const k = `${key}_token` as "bos_token" | "eos_token" | "pad_token" | "unk_token";
      if (cfg[k] === undefined && has(tok)) cfg[k] = tok;
    }
    // The JS library reads unk_token from the config (not the model), and must not "clean up" spaces: our tokens
    // carry their spaces exactly, so decoding is the plain concatenation.
    const hfConfig = {
      clean_up_tokenization_spaces: false,
      ...cfg,
      bos_token: tokenName(cfg.bos_token),
      eos_token: tokenName(cfg.eos_token),
      pad_token: tokenName(cfg.pad_token),
      unk_token: tokenName(cfg.unk_token),
    };
    try {
      this.hf = new HfTokenizer({ ...json, added_tokens: added }, hfConfig);
    } catch (e) {
      throw new TokenizerError(`${source}: @huggingface/tokenizers rejected it: ${(e as Error).message}`);
    }
    this.json = json;
    this.config = cfg;
    let maxId = -1;
    for (const id of this.hf.get_vocab(true).values()) if (id > maxId) maxId = id;
    this.vocabSize = maxId + 1;
    const idOf = (v: z.infer<typeof TokenConfigValue>) => {
      const n = tokenName(v);
      return n === undefined ? -1 : (this.hf.token_to_id(n) ?? -1);
    };
    this.bosId = idOf(cfg.bos_token);
    this.eosId = idOf(cfg.eos_token);
    this.unkId = idOf(cfg.unk_token);
    const pad = idOf(cfg.pad_token);
    this.padId = pad >= 0 ? pad : this.eosId;
    this.chatTemplate = cfg.chat_template;
    this.specialIds = new Set(added.filter((a) => a.special === true).map((a) => a.id));
  }

  /** Build from a parsed tokenizer.json object and, optionally, a parsed tokenizer_config.json. */
  static fromJson(json: object, config: object = {}, source = "tokenizer.json"): Tokenizer {
    const c = TokenizerConfigSchema.safeParse(config);
    if (!c.success) {
      const i = c.error.issues[0];
      throw new TokenizerError(`tokenizer_config.json: field "${i?.path.join(".")}": ${i?.message}`);
    }
    return new Tokenizer(json as Record<string, unknown>, c.data, source);
  }

  /** Load tokenizer.json (required) and tokenizer_config.json (optional) from a directory. */
  static async load(dir: string): Promise<Tokenizer> {
    const file = join(dir, "tokenizer.json");
    if (!existsSync(file)) throw new TokenizerError(`${file}: not found`);
    const json = parseJsonFile(await readFile(file, "utf8"), file);
    const cfgFile = join(dir, "tokenizer_config.json");
    const config = existsSync(cfgFile) ? parseJsonFile(await readFile(cfgFile, "utf8"), cfgFile) : {};
    return Tokenizer.fromJson(json, config, file);
  }

  /** Write tokenizer.json and tokenizer_config.json into `dir` (created if needed). */
  async save(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "tokenizer.json"), JSON.stringify(this.json, null, 2) + "\n");
    await writeFile(join(dir, "tokenizer_config.json"), JSON.stringify(this.tokenizerConfig(), null, 2) + "\n");
  }

  /** Token ids of `text` (synchronous). */
  encode(text: string, options: EncodeOptions = {}): number[] {
    const special = options.addSpecialTokens ?? false;
    // the empty text still gets the post-processor's special tokens (Llama-3: [<|begin_of_text|>]), as in transformers
    if (text.length === 0 && !special) return [];
    return this.hf.encode(text, { add_special_tokens: special }).ids;
  }

  /** Text of `ids`; the exact inverse of `encode` for text made of in-vocabulary tokens. */
  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    if (ids.length === 0) return "";
    return this.hf.decode([...ids], { skip_special_tokens: options.skipSpecialTokens ?? false });
  }

  tokenToId(t: string): number | undefined {
    return this.hf.token_to_id(t);
  }

  idToToken(id: number): string | undefined {
    return this.hf.id_to_token(id);
  }

  /** Whether `id` is a special (added) token such as <pad> or a role marker. */
  isSpecial(id: number): boolean {
    return this.specialIds.has(id);
  }

  /** The tokenizer.json object (for saving next to a checkpoint). */
  toJson(): object {
    return this.json;
  }

  /** The tokenizer_config.json object: special token names, chat template, no space clean-up. */
  tokenizerConfig(): object {
    return {
      tokenizer_class: "PreTrainedTokenizerFast",
      clean_up_tokenization_spaces: false,
      ...this.config,
    };
  }

  /** A copy with a different chat template (stored in tokenizer_config.json). */
  withChatTemplate(template: string): Tokenizer {
    return Tokenizer.fromJson(this.json, { ...this.config, chat_template: template });
  }
}

function parseJsonFile(text: string, file: string): object {
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error("top level must be an object");
    return v;
  } catch (e) {
    throw new TokenizerError(`${file}: invalid JSON (${(e as Error).message})`);
  }
}
