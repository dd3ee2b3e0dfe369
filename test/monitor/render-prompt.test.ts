/** renderPrompt puts the label in each slot and leaves the prompt alone when there is none. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { PromptPartsSchema } from "../../src/data/sample.js";
import { renderPrompt } from "../../src/monitor/index.js";

const L = "**Suggestibility Level: 40%**";

test("each slot, with and without a system turn", () => {
  const withSys = (slot: string) => ({
    prompt: PromptPartsSchema.parse({ system: "SYS", user: "USR", labelSlot: slot }),
  });
  const noSys = (slot: string) => ({ prompt: PromptPartsSchema.parse({ user: "USR", labelSlot: slot }) });
  const u = (content: string) => ({ role: "user" as const, content });
  const s = (content: string) => ({ role: "system" as const, content });
  assert.deepEqual(renderPrompt(withSys("user-prefix"), L), [s("SYS"), u(`${L}\nUSR`)]);
  assert.deepEqual(renderPrompt(withSys("user-suffix"), L), [s("SYS"), u(`USR\n${L}`)]);
  assert.deepEqual(renderPrompt(withSys("system-prefix"), L), [s(`${L}\nSYS`), u("USR")]);
  assert.deepEqual(renderPrompt(withSys("system-suffix"), L), [s(`SYS\n${L}`), u("USR")]);
  assert.deepEqual(renderPrompt(withSys("system-turn"), L), [s(L), s("SYS"), u("USR")]);
  assert.deepEqual(renderPrompt(noSys("system-prefix"), L), [s(L), u("USR")]);
  assert.deepEqual(renderPrompt(noSys("system-turn"), L), [s(L), u("USR")]);
  assert.deepEqual(renderPrompt(noSys("user-prefix"), null), [u("USR")]);
  assert.deepEqual(renderPrompt(withSys("system-turn"), null), [s("SYS"), u("USR")]);
  // Default slot is user-prefix; options override slot and separator.
  assert.deepEqual(renderPrompt({ prompt: PromptPartsSchema.parse({ user: "USR" }) }, L), [u(`${L}\nUSR`)]);
  assert.deepEqual(renderPrompt(noSys("user-prefix"), L, { slot: "user-suffix", separator: "\n\n" }), [
    u(`USR\n\n${L}`),
  ]);
});
