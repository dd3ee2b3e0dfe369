/**
 * `mst serve` through the official openai client on loopback: every endpoint and option, streaming, greedy parity
 * with the engine's own sampler token for token (requests joining a running batch included), error objects, 429 on
 * a full queue, 401 without the key, and the drain on close.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { sample } from "../../src/engine/sampler.js";
import { MstServer, type ServeOptions } from "../../src/serve/server.js";
import { peakedModel, runtimeOf, served, tok } from "./fixture.js";

const modelA = peakedModel(3);
const modelB = peakedModel(4);
const EOS = tok.eosId;

async function start(options: ServeOptions = {}) {
  const server = new MstServer([served("base", modelA), served("other", modelB)], { port: 0, ...options });
  const url = await server.listen();
  const client = new OpenAI({ baseURL: url, apiKey: options.apiKey ?? "none", maxRetries: 0 });
  return { server, url, client };
}

/** Token ids from logprobs returned as "token_id:<id>" (vLLM's return_tokens_as_token_ids). */
const idsOf = (tokens: string[]) => tokens.map((t) => Number(t.replace(/^token_id:/, "")));

/** The engine's greedy ids for one prompt, the stop id dropped, and why it ended. */
function engineGreedy(prompt: number[], maxNew: number) {
  const r = sample(modelA, [prompt], { maxNewTokens: maxNew, temperature: 0, stopIds: [EOS] });
  const t = r.tokens[0];
  const stopped = r.finish[0] === "stop";
  return {
    ids: stopped ? t.slice(0, -1) : t,
    finish: r.finish[0],
    logprobs: r.logprobs[0].slice(0, stopped ? -1 : undefined),
  };
}

const PROMPTS: number[][] = [
  [tok.bosId, ...tok.encode("is 3 + 4 = 7 ?")],
  [tok.bosId, ...tok.encode("hello")],
  [tok.bosId, ...tok.encode("a b c d e f g h i j k")],
  [tok.bosId, ...tok.encode("the answer is wrong , ok .")],
  [tok.bosId],
];

test("/v1/models lists every name; retrieve works; an unknown model is a 404 error object", async (t) => {
  const { server, client } = await start();
  t.after(() => server.close());
  const list = await client.models.list();
  assert.deepEqual(
    list.data.map((m) => m.id),
    ["base", "other"],
  );
  assert.equal((await client.models.retrieve("other")).id, "other");
  await assert.rejects(
    client.models.retrieve("nope"),
    (e: unknown) => e instanceof OpenAI.NotFoundError && e.code === "model_not_found",
  );
  await assert.rejects(
    client.chat.completions.create({ model: "nope", messages: [{ role: "user", content: "hello" }] }),
    (e: unknown) => e instanceof OpenAI.NotFoundError && /base, other/.test(e.message),
  );
});

test("greedy /v1/completions equals the engine's greedy sampling token for token, concurrent requests joining a running batch", async (t) => {
  const { server, client } = await start({ maxBatch: 4 });
  t.after(() => server.close());
  const extra = { return_tokens_as_token_ids: true };
  // a long-running stream is decoding when the others arrive, so they are prefilled into its batch mid-generation
  const long = await client.completions.create({
    model: "base",
    prompt: PROMPTS[2],
    max_tokens: 40,
    temperature: 0,
    stream: true,
    logprobs: 0,
    ...extra,
  });
  const it = long[Symbol.asyncIterator]();
  const first = await it.next();
  assert.ok(!first.done);
  const others = Promise.all(
    PROMPTS.map((p) =>
      client.completions.create({ model: "base", prompt: p, max_tokens: 20, temperature: 0, logprobs: 0, ...extra }),
    ),
  );
  const longIds: number[] = idsOf(first.value.choices[0].logprobs?.tokens ?? []);
  let longFinish: string | null = null;
  for (let r = await it.next(); !r.done; r = await it.next()) {
    const c = r.value.choices[0];
    if (c.logprobs?.tokens) longIds.push(...idsOf(c.logprobs.tokens));
    if (c.finish_reason) longFinish = c.finish_reason;
  }
  const want = engineGreedy(PROMPTS[2], 40);
  assert.deepEqual(longIds, want.ids);
  assert.equal(longFinish, want.finish);
  const got = await others;
  got.forEach((res, i) => {
    const ref = engineGreedy(PROMPTS[i], 20);
    const c = res.choices[0];
    assert.deepEqual(idsOf(c.logprobs!.tokens!), ref.ids, `prompt ${i}`);
    assert.equal(c.finish_reason, ref.finish);
    assert.equal(c.text, tok.decode(ref.ids));
    c.logprobs!.token_logprobs!.forEach((lp, k) =>
      assert.ok(Math.abs(lp - ref.logprobs[k]) < 1e-4, `logprob ${i}/${k}`),
    );
    assert.equal(res.usage?.prompt_tokens, PROMPTS[i].length);
  });
  // several prompts in one request: choices in prompt order, each the engine's
  const multi = await client.completions.create({
    model: "base",
    prompt: PROMPTS.slice(0, 3),
    max_tokens: 12,
    temperature: 0,
    logprobs: 0,
    ...extra,
  });
  assert.equal(multi.choices.length, 3);
  multi.choices.forEach((c, i) => {
    assert.equal(c.index, i);
    assert.deepEqual(idsOf(c.logprobs!.tokens!), engineGreedy(PROMPTS[i], 12).ids);
  });
});

test("greedy chat equals the engine TextModel over the same prompt format; streaming gives the same text in deltas", async (t) => {
  const { server, client } = await start();
  t.after(() => server.close());
  const rt = runtimeOf(modelA);
  const chats: OpenAI.ChatCompletionMessageParam[][] = [
    [{ role: "user", content: "is 3 + 4 = 7 ?" }],
    [
      { role: "system", content: "ok ." },
      { role: "user", content: [{ type: "text", text: "hello world" }] },
    ],
  ];
  for (const messages of chats) {
    const ref = (
      await rt.textModel.generate(
        [
          messages.map((m) => ({
            role: m.role as "user",
            content: typeof m.content === "string" ? m.content : "hello world",
          })),
        ],
        {
          temperature: 0,
          maxTokens: 10,
        },
      )
    )[0];
    const res = await client.chat.completions.create({ model: "base", messages, temperature: 0, max_tokens: 10 });
    assert.equal(res.object, "chat.completion");
    assert.equal(res.choices[0].message.role, "assistant");
    assert.equal(res.choices[0].message.content, ref.text);
    assert.equal(res.choices[0].finish_reason, ref.finishReason);
    const stream = await client.chat.completions.create({
      model: "base",
      messages,
      temperature: 0,
      max_tokens: 10,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let role: string | undefined;
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      assert.equal(chunk.object, "chat.completion.chunk");
      if (chunk.usage) usage = chunk.usage;
      const c = chunk.choices[0];
      if (!c) continue;
      role ??= c.delta.role;
      text += c.delta.content ?? "";
      finish = c.finish_reason ?? finish;
    }
    assert.equal(role, "assistant");
    assert.equal(text, ref.text);
    assert.equal(finish, ref.finishReason);
    assert.equal(usage?.completion_tokens, res.usage?.completion_tokens);
  }
});

test("options: n, seed, top_p, stop, max_tokens, logprobs and top_logprobs, ignore_eos; completions streaming with n", async (t) => {
  const { server, client } = await start();
  t.after(() => server.close());
  const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "a b c" }];
  // seeded sampling is reproducible; n gives indexed choices
  const a = await client.chat.completions.create({
    model: "base",
    messages,
    temperature: 1.5,
    n: 3,
    seed: 7,
    max_tokens: 8,
  });
  const b = await client.chat.completions.create({
    model: "base",
    messages,
    temperature: 1.5,
    n: 3,
    seed: 7,
    max_tokens: 8,
  });
  assert.deepEqual(
    a.choices.map((c) => c.index),
    [0, 1, 2],
  );
  assert.deepEqual(
    a.choices.map((c) => c.message.content),
    b.choices.map((c) => c.message.content),
  );
  // top_p that keeps one token is greedy whatever the temperature
  const greedy = await client.chat.completions.create({
    model: "base",
    messages,
    temperature: 0,
    max_tokens: 8,
    logprobs: true,
    top_logprobs: 3,
  });
  const nucleus = await client.chat.completions.create({
    model: "base",
    messages,
    temperature: 1.5,
    top_p: 1e-6,
    max_tokens: 8,
    seed: 1,
  });
  assert.equal(nucleus.choices[0].message.content, greedy.choices[0].message.content);
  // top_logprobs: k alternatives, most likely first; at temperature 0 the chosen token is the first
  const content = greedy.choices[0].logprobs!.content!;
  assert.ok(content.length > 0);
  for (const e of content) {
    assert.equal(e.top_logprobs.length, 3);
    assert.equal(e.top_logprobs[0].token, e.token);
    assert.ok(Math.abs(e.top_logprobs[0].logprob - e.logprob) < 1e-9);
    assert.ok(
      e.top_logprobs[0].logprob >= e.top_logprobs[1].logprob && e.top_logprobs[1].logprob >= e.top_logprobs[2].logprob,
    );
    assert.deepEqual(e.bytes, [...Buffer.from(e.token)]);
  }
  // max_tokens: length-limited; ignore_eos keeps going to exactly max_tokens
  const capped = await client.completions.create({
    model: "base",
    prompt: "a b",
    max_tokens: 6,
    temperature: 0,
    ...{ ignore_eos: true },
  });
  assert.equal(capped.usage?.completion_tokens, 6);
  assert.equal(capped.choices[0].finish_reason, "length");
  // stop: the text is cut before the first stop sequence
  const full = (
    await client.completions.create({
      model: "base",
      prompt: "a b",
      max_tokens: 12,
      temperature: 0,
      ...{ ignore_eos: true },
    })
  ).choices[0].text;
  const words = full.trim().split(" ");
  assert.ok(words.length >= 3, `want a few words, got ${JSON.stringify(full)}`);
  const stopWord = words[2];
  const cut = await client.completions.create({
    model: "base",
    prompt: "a b",
    max_tokens: 12,
    temperature: 0,
    stop: [stopWord, "zzz-never"],
    ...{ ignore_eos: true },
  });
  assert.equal(cut.choices[0].text, full.slice(0, full.indexOf(stopWord)));
  assert.equal(cut.choices[0].finish_reason, "stop");
  const cutStream = await client.completions.create({
    model: "base",
    prompt: "a b",
    max_tokens: 12,
    temperature: 0,
    stop: stopWord,
    stream: true,
    ...{ ignore_eos: true },
  });
  let streamed = "";
  for await (const chunk of cutStream) streamed += chunk.choices[0]?.text ?? "";
  assert.equal(streamed, cut.choices[0].text);
  // completions logprobs: top alternatives as {token: logprob}
  const lp = await client.completions.create({
    model: "base",
    prompt: "hello",
    max_tokens: 4,
    temperature: 0,
    logprobs: 2,
    ...{ ignore_eos: true },
  });
  const l = lp.choices[0].logprobs!;
  assert.equal(l.tokens!.length, 4);
  assert.equal(l.token_logprobs!.length, 4);
  for (const top of l.top_logprobs!) assert.ok(Object.keys(top).length >= 1 && Object.keys(top).length <= 2);
  assert.deepEqual(l.text_offset!.slice(0, 1), [0]);
  // completions streaming with n: every choice index gets its text and a finish_reason; seeded, it equals the non-streamed
  const args = { model: "base", prompt: "is 3", max_tokens: 6, temperature: 1.2, n: 2, seed: 11 };
  const whole = await client.completions.create(args);
  const texts = ["", ""];
  const finishes: (string | null)[] = [null, null];
  for await (const chunk of await client.completions.create({ ...args, stream: true }))
    for (const c of chunk.choices) {
      texts[c.index] += c.text;
      if (c.finish_reason) finishes[c.index] = c.finish_reason;
    }
  assert.deepEqual(
    texts,
    whole.choices.map((c) => c.text),
  );
  assert.deepEqual(
    finishes,
    whole.choices.map((c) => c.finish_reason),
  );
  // the other model is its own model
  const other = await client.completions.create({
    model: "other",
    prompt: PROMPTS[2],
    max_tokens: 8,
    temperature: 0,
    ...{ ignore_eos: true },
  });
  const ref = sample(modelB, [PROMPTS[2]], { maxNewTokens: 8, temperature: 0 });
  assert.equal(other.choices[0].text, tok.decode(ref.tokens[0]));
});

test("malformed and out-of-bounds requests get OpenAI error objects", async (t) => {
  const { server, url, client } = await start({ maxTokens: 100, maxN: 4, maxBodyBytes: 4096, context: 32 });
  t.after(() => server.close());
  const bad = (p: Promise<unknown>, status: number, check: (e: InstanceType<typeof OpenAI.APIError>) => boolean) =>
    assert.rejects(p, (e: unknown) => e instanceof OpenAI.APIError && e.status === status && check(e));
  await bad(
    client.chat.completions.create({ model: "base" } as never),
    400,
    (e) => e.type === "invalid_request_error" && e.param === "messages",
  );
  await bad(
    client.chat.completions.create({ model: "base", messages: [{ role: "user", content: "a" }], temperature: 5 }),
    400,
    (e) => e.param === "temperature",
  );
  await bad(
    client.chat.completions.create({ model: "base", messages: [{ role: "user", content: "a" }], max_tokens: 101 }),
    400,
    (e) => e.param === "max_tokens",
  );
  await bad(
    client.chat.completions.create({ model: "base", messages: [{ role: "user", content: "a" }], n: 5 }),
    400,
    (e) => e.param === "n",
  );
  await bad(
    client.chat.completions.create({ model: "base", messages: [{ role: "user", content: "a" }], presence_penalty: 1 }),
    400,
    (e) => e.code === "unsupported_parameter",
  );
  await bad(
    client.completions.create({ model: "base", prompt: "a ".repeat(40), max_tokens: 2 }),
    400,
    (e) => e.code === "context_length_exceeded",
  );
  await bad(
    client.completions.create({ model: "base", prompt: [999999], max_tokens: 2 }),
    400,
    (e) => e.param === "prompt",
  );
  // invalid JSON, a body over the limit, an unknown path: error objects too
  const raw = async (path: string, body: string) => {
    const r = await fetch(`${url}${path}`, { method: "POST", body, headers: { "Content-Type": "application/json" } });
    return {
      status: r.status,
      body: (await r.json()) as { error: { message: string; type: string; code: string | null } },
    };
  };
  const j = await raw("/chat/completions", "{not json");
  assert.equal(j.status, 400);
  assert.equal(j.body.error.code, "invalid_json");
  const big = await raw(
    "/chat/completions",
    JSON.stringify({ model: "base", messages: [{ role: "user", content: "a ".repeat(5000) }] }),
  );
  assert.equal(big.status, 413);
  assert.equal(big.body.error.code, "request_too_large");
  const nowhere = await raw("/embeddings", "{}");
  assert.equal(nowhere.status, 404);
  assert.equal(typeof nowhere.body.error.message, "string");
  // the server still answers after all that
  const ok = await client.chat.completions.create({
    model: "base",
    messages: [{ role: "user", content: "a" }],
    max_tokens: 2,
  });
  assert.equal(ok.choices.length, 1);
});

test("a full queue answers 429; queued requests finish once the server steps again", async (t) => {
  const { server, url, client } = await start({ maxBatch: 1, maxQueue: 2 });
  t.after(() => server.close());
  server.scheduler.pause();
  const queued = [0, 1].map(() =>
    client.completions.create({ model: "base", prompt: "a", max_tokens: 3, temperature: 0 }),
  );
  for (let i = 0; i < 200; i++) {
    const h = (await (await fetch(url.replace(/\/v1$/, "/health"))).json()) as { queued: number };
    if (h.queued === 2) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(server.scheduler.queued, 2);
  await assert.rejects(
    client.completions.create({ model: "base", prompt: "a", max_tokens: 3 }),
    (e: unknown) => e instanceof OpenAI.RateLimitError && e.status === 429 && e.code === "rate_limit_exceeded",
  );
  server.scheduler.resume();
  for (const r of await Promise.all(queued)) assert.equal(r.choices.length, 1);
});

test("with a key set, a missing or wrong key gets 401 and the right one works", async (t) => {
  const { server, url } = await start({ apiKey: "s3cret" });
  t.after(() => server.close());
  const wrong = new OpenAI({ baseURL: url, apiKey: "nope", maxRetries: 0 });
  await assert.rejects(
    wrong.models.list(),
    (e: unknown) => e instanceof OpenAI.AuthenticationError && e.code === "invalid_api_key",
  );
  const none = await fetch(`${url}/models`);
  assert.equal(none.status, 401);
  assert.equal(((await none.json()) as { error: { type: string } }).error.type, "invalid_request_error");
  const right = new OpenAI({ baseURL: url, apiKey: "s3cret", maxRetries: 0 });
  assert.equal((await right.models.list()).data.length, 2);
});

test("close() drains: a running stream finishes, new requests are refused", async (t) => {
  const { server, client } = await start();
  let closed = false;
  t.after(() => (closed ? undefined : server.close()));
  const stream = await client.completions.create({
    model: "base",
    prompt: "a",
    max_tokens: 30,
    temperature: 0,
    stream: true,
    ...{ ignore_eos: true },
  });
  const it = stream[Symbol.asyncIterator]();
  const first = await it.next();
  assert.ok(!first.done);
  const closing = server.close();
  await assert.rejects(client.completions.create({ model: "base", prompt: "a", max_tokens: 2 }));
  let finish: string | null = null;
  let tokens = first.value.choices[0].text.length > 0 ? 1 : 0;
  for (let r = await it.next(); !r.done; r = await it.next()) {
    if (r.value.choices[0]?.text) tokens++;
    finish = r.value.choices[0]?.finish_reason ?? finish;
  }
  assert.equal(finish, "length");
  assert.ok(tokens > 1);
  await closing;
  closed = true;
});

test("a client that goes away mid-stream frees its batch slot; the server keeps serving", async (t) => {
  const { server, client } = await start({ maxBatch: 2 });
  t.after(() => server.close());
  const abort = new AbortController();
  const stream = await client.completions.create(
    { model: "base", prompt: "a", max_tokens: 50, temperature: 0, stream: true, ...{ ignore_eos: true } },
    { signal: abort.signal },
  );
  const it = stream[Symbol.asyncIterator]();
  assert.ok(!(await it.next()).done);
  abort.abort();
  for (let i = 0; i < 200 && server.scheduler.running + server.scheduler.queued > 0; i++)
    await new Promise((r) => setTimeout(r, 5));
  assert.equal(server.scheduler.running, 0);
  const after = await client.completions.create({ model: "base", prompt: "a", max_tokens: 3, temperature: 0 });
  assert.equal(after.choices.length, 1);
});
