/** Chat templates: the default renders role markers that tokenize to single special tokens; custom Jinja works. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { renderChat, DEFAULT_CHAT_TEMPLATE, ChatTemplateError } from "../../src/engine/chat-template.js";
import { buildWordLevelTokenizer } from "../../src/engine/tokenizer-build.js";
import type { ChatMessage } from "../../src/data/text-model.js";

const msgs: ChatMessage[] = [
  { role: "system", content: "You judge sums." },
  { role: "user", content: "Is 2 + 2 = 4?" },
];

test("default template: bos, role markers, end markers, generation prompt", () => {
  assert.equal(renderChat(msgs), "<bos><|system|>You judge sums.<|end|><|user|>Is 2 + 2 = 4?<|end|><|assistant|>");
  assert.equal(
    renderChat([...msgs, { role: "assistant", content: "Yes" }], DEFAULT_CHAT_TEMPLATE, { addGenerationPrompt: false }),
    "<bos><|system|>You judge sums.<|end|><|user|>Is 2 + 2 = 4?<|end|><|assistant|>Yes<|end|>",
  );
});

test("rendered markers are single special tokens of a built tokenizer", () => {
  const tok = buildWordLevelTokenizer(msgs.map((m) => m.content));
  const ids = tok.encode(renderChat(msgs));
  assert.equal(ids[0], tok.bosId);
  assert.equal(ids[1], tok.tokenToId("<|system|>"));
  assert.equal(ids.at(-1), tok.tokenToId("<|assistant|>"));
  assert.ok(!ids.includes(tok.unkId));
  assert.equal(tok.decode(ids), renderChat(msgs));
});

test("a custom Jinja template with variables, and clear errors", () => {
  const tpl = "{% for m in messages %}[{{ m.role | upper }}] {{ m.content }}\n{% endfor %}{{ suffix }}";
  assert.equal(
    renderChat(msgs, tpl, { variables: { suffix: "=>" } }),
    "[SYSTEM] You judge sums.\n[USER] Is 2 + 2 = 4?\n=>",
  );
  assert.throws(() => renderChat(msgs, "{% for m in messages %}"), ChatTemplateError);
});
