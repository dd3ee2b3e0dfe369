/**
 * `mst serve` as Python users reach it: the official openai Python client (test venv) on loopback, chat,
 * completions, both streamed, logprobs and top_logprobs, and error objects. Every response is re-validated with the
 * SDK's pydantic models; greedy answers must equal the same requests sent as plain HTTP.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { MstServer } from "../../src/serve/server.js";
import { skipUnlessPython, testPython, testSourcePath } from "../python-env.js";
import { peakedModel, served } from "./fixture.js";

/** Runs the test Python without blocking the event loop (the server answers from this process). */
function python(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(testPython, args, { env: { ...process.env, OPENAI_LOG: "" } });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    p.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

async function post(url: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200);
  return (await res.json()) as Record<string, unknown>;
}

test(
  "the openai Python client: chat, completions, streaming, logprobs and errors against mst serve",
  {
    skip: skipUnlessPython("openai"),
  },
  async (t) => {
    const server = new MstServer([served("base", peakedModel(3)), served("other", peakedModel(4))], { port: 0 });
    const url = await server.listen();
    t.after(() => server.close());
    const r = await python([testSourcePath("serve/python/openai_client.py"), url, "base"]);
    assert.equal(r.status, 0, r.stderr);
    const got = JSON.parse(r.stdout);
    assert.deepEqual(got.models.sort(), ["base", "other"]);

    const messages = [
      { role: "system", content: "ok ." },
      { role: "user", content: "is 3 + 4 = 7 ?" },
    ];
    type Chat = {
      choices: {
        message: { content: string };
        finish_reason: string;
        logprobs: { content: { token: string; logprob: number }[] };
      }[];
    };
    const chat = (await post(url, "/chat/completions", {
      model: "base",
      messages,
      temperature: 0,
      max_tokens: 8,
      logprobs: true,
      top_logprobs: 3,
    })) as unknown as Chat;
    const c = chat.choices[0];
    assert.equal(got.chat.content, c.message.content);
    assert.equal(got.chat.finish_reason, c.finish_reason);
    assert.deepEqual(
      got.chat.logprob_tokens,
      c.logprobs.content.map((x) => x.token),
    );
    assert.deepEqual(
      got.chat.logprobs,
      c.logprobs.content.map((x) => x.logprob),
    );
    assert.ok(got.chat.logprob_tokens.length > 0);
    for (const [k, top] of (got.chat.top_logprobs as [string, number][][]).entries()) {
      assert.equal(top.length, 3);
      // greedy: the chosen token is the most likely one
      assert.equal(top[0][0], got.chat.logprob_tokens[k]);
    }
    assert.equal(got.chat.usage.completion_tokens, got.chat.logprob_tokens.length);
    assert.equal(got.chat_stream.content, got.chat.content);
    assert.equal(got.chat_stream.finish_reason, got.chat.finish_reason);
    assert.equal(got.chat_stream.completion_tokens, got.chat.usage.completion_tokens);

    type Comp = {
      choices: { text: string; finish_reason: string; logprobs: { tokens: string[]; token_logprobs: number[] } }[];
    };
    const comp = (await post(url, "/completions", {
      model: "base",
      prompt: "is 3 + 4 = 7 ?",
      temperature: 0,
      max_tokens: 8,
      logprobs: 2,
    })) as unknown as Comp;
    assert.equal(got.completion.text, comp.choices[0].text);
    assert.deepEqual(got.completion.tokens, comp.choices[0].logprobs.tokens);
    assert.deepEqual(got.completion.token_logprobs, comp.choices[0].logprobs.token_logprobs);
    assert.equal((got.completion.top_logprobs as Record<string, number>[]).length, got.completion.tokens.length);
    for (const top of got.completion.top_logprobs as Record<string, number>[]) assert.equal(Object.keys(top).length, 2);
    assert.equal(got.completion.tokens.join(""), got.completion.text);
    assert.equal(got.completion_stream.text, got.completion.text);
    assert.equal(got.completion_stream.finish_reason, got.completion.finish_reason);

    // n choices, indexed; the same seed gives the same samples; no stop text in the output
    assert.deepEqual(
      got.seeded[0].map((c: [number, string]) => c[0]),
      [0, 1],
    );
    assert.deepEqual(got.seeded[0], got.seeded[1]);
    for (const [, text] of got.seeded[0] as [number, string][]) assert.ok(!text.includes("."), text);

    assert.equal(got.errors.unknown_model[0], 404);
    assert.equal(got.errors.bad_temperature[0], 400);
    assert.equal(got.errors.bad_temperature[1], "temperature");
  },
);
