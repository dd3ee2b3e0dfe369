/**
 * Chat templates of the two families, written here in their documented formats, read from a model directory (Qwen2's
 * from tokenizer_config.json, Llama-3's from chat_template.jinja) and rendered to the exact expected prompt text.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderChat, tokenizerRenderOptions } from "../../../src/engine/chat-template.js";
import { loadDirTokenizer } from "../../../src/engine/hf/model-dir.js";
import { buildWordLevelTokenizer } from "../../../src/engine/tokenizer-build.js";

/** Llama 3.x: header tokens around the role, content trimmed, <|eot_id|> after each turn. */
const LLAMA3 =
  "{{- bos_token }}{%- for message in messages %}" +
  "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}" +
  "{%- endfor %}{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}";

/** Qwen2.5 (ChatML): a default system turn when the messages have none; no BOS. */
const QWEN2 =
  "{%- if messages[0]['role'] == 'system' %}{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}" +
  "{%- else %}{{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}" +
  "{%- endif %}{%- for message in messages %}{%- if not (message.role == 'system' and loop.first) %}" +
  "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}{%- endif %}{%- endfor %}" +
  "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

const chat = [
  { role: "system" as const, content: "Evaluator: automated." },
  { role: "user" as const, content: "Write one sentence. " },
];

test("Llama-3 template from chat_template.jinja and Qwen2 template from tokenizer_config.json render exactly", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mst-chat-"));
  try {
    const tok = buildWordLevelTokenizer(["hello"], { requiredTexts: [] });
    writeFileSync(join(dir, "tokenizer.json"), JSON.stringify(tok.toJson()));
    writeFileSync(join(dir, "tokenizer_config.json"), JSON.stringify({ bos_token: "<bos>", eos_token: "<eos>" }));
    writeFileSync(join(dir, "chat_template.jinja"), LLAMA3);
    const l = await loadDirTokenizer(dir);
    assert.equal(l.chatTemplate, LLAMA3);
    assert.equal(
      renderChat(chat, l.chatTemplate, tokenizerRenderOptions(l.tokenizer)),
      "<bos><|start_header_id|>system<|end_header_id|>\n\nEvaluator: automated.<|eot_id|>" +
        "<|start_header_id|>user<|end_header_id|>\n\nWrite one sentence.<|eot_id|>" +
        "<|start_header_id|>assistant<|end_header_id|>\n\n",
    );
    rmSync(join(dir, "chat_template.jinja"));
    writeFileSync(
      join(dir, "tokenizer_config.json"),
      JSON.stringify({ eos_token: "<eos>", bos_token: null, chat_template: QWEN2 }),
    );
    const q = await loadDirTokenizer(dir);
    assert.equal(q.tokenizer.chatTemplate, QWEN2);
    const opts = tokenizerRenderOptions(q.tokenizer);
    assert.equal(opts.bosToken, "");
    assert.equal(
      renderChat(chat, q.chatTemplate, opts),
      "<|im_start|>system\nEvaluator: automated.<|im_end|>\n<|im_start|>user\nWrite one sentence. <|im_end|>\n<|im_start|>assistant\n",
    );
    assert.equal(
      renderChat([chat[1]], q.chatTemplate, { ...opts, addGenerationPrompt: false }),
      "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n<|im_start|>user\nWrite one sentence. <|im_end|>\n",
    );
    // a named-template list (older tokenizer_config.json files) picks "default"
    writeFileSync(
      join(dir, "tokenizer_config.json"),
      JSON.stringify({
        chat_template: [
          { name: "tool_use", template: "x" },
          { name: "default", template: QWEN2 },
        ],
      }),
    );
    assert.equal((await loadDirTokenizer(dir)).chatTemplate, QWEN2);
    assert.ok(readFileSync(join(dir, "tokenizer.json"), "utf8").length > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
