/**
 * The OpenAI endpoints over a generation: /v1/chat/completions and /v1/completions, as JSON or as server-sent events,
 * with OpenAI's response shapes (choices, finish_reason, logprobs, usage).
 */
import { randomBytes } from "node:crypto";
import type { ServerResponse } from "node:http";
import type { SampledToken } from "./batcher.js";
import { invalidRequest } from "./errors.js";
import { startGeneration, type ChoiceState, type GenerationListener, type GenerationParams } from "./generation.js";
import type { ServedModel } from "./models.js";
import {
  ChatRequestSchema,
  CompletionRequestSchema,
  chatMessagesOf,
  parseRequest,
  refuseUnsupported,
  stopsOf,
  type ChatRequest,
  type CompletionRequest,
} from "./protocol.js";
import type { ServeScheduler } from "./scheduler.js";

/** Bounds a request must respect (the server's command-line limits). */
export interface RequestLimits {
  /** Largest max_tokens accepted. */
  maxTokens: number;
  /** Largest n. */
  maxN: number;
  /** Most prompts in one /v1/completions request. */
  maxPrompts: number;
  /** Most sequences one request may queue (the queue's size). */
  maxSequences: number;
  /** Positions per sequence (prompt + completion). */
  context: number;
}

export interface EndpointContext {
  scheduler: ServeScheduler;
  limits: RequestLimits;
  /** Looks a model up by name (404 with the known names otherwise). */
  model(name: string): ServedModel;
}

const now = () => Math.floor(Date.now() / 1000);
const newId = (prefix: string) => `${prefix}-${randomBytes(12).toString("hex")}`;

/** The text clients see for a token (or vLLM's "token_id:<id>"). */
function tokenText(served: ServedModel, id: number, asIds: boolean): string {
  return asIds ? `token_id:${id}` : served.tokenizer.decode([id]);
}

/** Sampling parameters common to both endpoints, checked against the limits; max_tokens per prompt. */
function generationParams(
  req: ChatRequest | CompletionRequest,
  prompts: number[][],
  requested: number | null | undefined,
  defaultMax: number | null,
  limits: RequestLimits,
  ctx: number,
): GenerationParams & { n: number } {
  refuseUnsupported(req);
  const n = req.n ?? 1;
  if (n > limits.maxN) throw invalidRequest(`n = ${n} is more than this server allows (${limits.maxN})`, "n");
  if (n * prompts.length > limits.maxSequences)
    throw invalidRequest(
      `the request asks for ${n * prompts.length} completions; this server queues at most ${limits.maxSequences}`,
      "n",
    );
  if (requested != null && requested > limits.maxTokens)
    throw invalidRequest(
      `max_tokens = ${requested} is more than this server allows (${limits.maxTokens})`,
      "max_tokens",
    );
  const maxNew = prompts.map((ids, i) => {
    if (ids.length === 0) throw invalidRequest(`prompt ${i} is empty after tokenization`, "prompt");
    if (ids.length > ctx)
      throw invalidRequest(
        `this model's context is ${ctx} tokens; prompt ${i} has ${ids.length}`,
        "messages",
        "context_length_exceeded",
      );
    // a generation that would run past the context ends there with finish_reason "length" (the engine's rule too)
    const room = ctx - ids.length + 1;
    return Math.min(requested ?? defaultMax ?? room, room, limits.maxTokens);
  });
  return {
    n,
    maxNew,
    temperature: req.temperature ?? 1,
    topP: req.top_p ?? 1,
    seed: req.seed ?? null,
    stops: stopsOf(req.stop),
    useStopIds: req.ignore_eos !== true,
    logprobs: false,
    topLogprobs: 0,
  };
}

/** Server-sent events on `res`: `data: <json>` per event, then `data: [DONE]`. */
class EventStream {
  constructor(private readonly res: ServerResponse) {
    res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache", Connection: "keep-alive" });
  }
  send(v: unknown): void {
    if (!this.res.writableEnded && !this.res.destroyed) this.res.write(`data: ${JSON.stringify(v)}\n\n`);
  }
  end(): void {
    if (!this.res.writableEnded && !this.res.destroyed) this.res.end("data: [DONE]\n\n");
  }
}

function usageOf(choices: ChoiceState[], prompts: number[][]) {
  const prompt = prompts.reduce((a, p) => a + p.length, 0);
  const completion = choices.reduce((a, c) => a + c.sampled, 0);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

/** Sends JSON, or cancels the generation when the client leaves first. */
async function finishJson(
  res: ServerResponse,
  gen: ReturnType<typeof startGeneration>,
  body: (c: ChoiceState[]) => unknown,
) {
  const onClose = () => gen.cancel();
  res.once("close", onClose);
  const choices = await gen.done;
  res.off("close", onClose);
  if (res.destroyed) return;
  const json = JSON.stringify(body(choices));
  res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(json) });
  res.end(json);
}

/** Streams a generation; a client that leaves cancels it. */
async function finishStream(
  res: ServerResponse,
  gen: ReturnType<typeof startGeneration>,
  events: EventStream,
  last: (c: ChoiceState[]) => void,
) {
  res.once("close", () => gen.cancel());
  try {
    last(await gen.done);
  } catch (e) {
    // headers are gone: the error goes in the stream, as OpenAI does
    const err = e as { body?: () => unknown; message?: string };
    events.send(
      typeof err.body === "function"
        ? err.body()
        : { error: { message: String(err.message ?? e), type: "server_error", param: null, code: null } },
    );
  }
  events.end();
}

/** POST /v1/chat/completions */
export async function chatCompletions(ctx: EndpointContext, body: unknown, res: ServerResponse): Promise<void> {
  const req = parseRequest(ChatRequestSchema, body);
  const served = ctx.model(req.model);
  if (req.top_logprobs != null && req.top_logprobs > 0 && req.logprobs !== true)
    throw invalidRequest("top_logprobs needs logprobs: true", "top_logprobs");
  const ids = served.format.encodePrompt(chatMessagesOf(req));
  const context = Math.min(ctx.limits.context, served.model.config.maxSeq);
  const p = generationParams(req, [ids], req.max_completion_tokens ?? req.max_tokens, null, ctx.limits, context);
  p.logprobs = req.logprobs === true;
  p.topLogprobs = p.logprobs ? (req.top_logprobs ?? 0) : 0;
  const asIds = req.return_tokens_as_token_ids === true;
  const entry = (t: SampledToken) => {
    const token = tokenText(served, t.id, asIds);
    return {
      token,
      logprob: t.logprob,
      bytes: [...Buffer.from(token, "utf8")],
      top_logprobs: (t.top ?? []).map(([id, lp]) => {
        const tt = tokenText(served, id, asIds);
        return { token: tt, logprob: lp, bytes: [...Buffer.from(tt, "utf8")] };
      }),
    };
  };
  const logprobsOf = (tokens: SampledToken[]) => (p.logprobs ? { content: tokens.map(entry), refusal: null } : null);
  const id = newId("chatcmpl");
  const created = now();
  const base = { id, created, model: req.model, system_fingerprint: null };
  if (req.stream !== true) {
    const gen = startGeneration(ctx.scheduler, served, [ids], p.n, p);
    await finishJson(res, gen, (choices) => ({
      ...base,
      object: "chat.completion",
      choices: choices.map((c) => ({
        index: c.index,
        message: { role: "assistant", content: c.stream.text, refusal: null },
        logprobs: logprobsOf(c.tokens),
        finish_reason: c.finish,
      })),
      usage: usageOf(choices, [ids]),
    }));
    return;
  }
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => ({
    ...base,
    object: "chat.completion.chunk",
    choices,
    ...extra,
  });
  const listener: GenerationListener = {
    onDelta: (c, text, tokens) =>
      events.send(
        chunk([{ index: c.index, delta: { content: text }, logprobs: logprobsOf(tokens), finish_reason: null }]),
      ),
    onFinish: (c) => events.send(chunk([{ index: c.index, delta: {}, logprobs: null, finish_reason: c.finish }])),
  };
  // start first: a full queue (429) or a bad request must still be an HTTP error, before the stream's 200
  const gen = startGeneration(ctx.scheduler, served, [ids], p.n, p, listener);
  const events = new EventStream(res);
  for (let i = 0; i < p.n; i++)
    events.send(chunk([{ index: i, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }]));
  await finishStream(res, gen, events, (choices) => {
    if (req.stream_options?.include_usage === true) events.send(chunk([], { usage: usageOf(choices, [ids]) }));
  });
}

/** A completions prompt as token ids: text gets the tokenizer's BOS (as the engine encodes a plain prompt), ids pass as they are. */
function completionPrompts(served: ServedModel, prompt: CompletionRequest["prompt"]): number[][] {
  const tok = served.tokenizer;
  const text = (s: string) => [...(tok.bosId >= 0 ? [tok.bosId] : []), ...tok.encode(s)];
  if (typeof prompt === "string") return [text(prompt)];
  if (prompt.length > 0 && typeof prompt[0] === "number") return [prompt as number[]];
  return (prompt as Array<string | number[]>).map((x) => (typeof x === "string" ? text(x) : x));
}

/** POST /v1/completions */
export async function completions(ctx: EndpointContext, body: unknown, res: ServerResponse): Promise<void> {
  const req = parseRequest(CompletionRequestSchema, body);
  const served = ctx.model(req.model);
  const prompts = completionPrompts(served, req.prompt);
  if (prompts.length > ctx.limits.maxPrompts)
    throw invalidRequest(
      `${prompts.length} prompts in one request; this server takes at most ${ctx.limits.maxPrompts}`,
      "prompt",
    );
  const V = served.model.config.vocabSize;
  prompts.forEach((ids, i) => {
    const bad = ids.find((t) => t >= V);
    if (bad !== undefined)
      throw invalidRequest(`prompt ${i}: token id ${bad} is outside the vocabulary (${V} tokens)`, "prompt");
  });
  const context = Math.min(ctx.limits.context, served.model.config.maxSeq);
  // OpenAI's default for the legacy endpoint is 16 tokens
  const p = generationParams(req, prompts, req.max_tokens, 16, ctx.limits, context);
  p.logprobs = req.logprobs != null;
  p.topLogprobs = req.logprobs ?? 0;
  const asIds = req.return_tokens_as_token_ids === true;
  const logprobsOf = (tokens: SampledToken[], offset0: number) => {
    if (!p.logprobs) return null;
    const strs = tokens.map((t) => tokenText(served, t.id, asIds));
    const offsets: number[] = [];
    let at = offset0;
    for (const s of strs) {
      offsets.push(at);
      at += s.length;
    }
    return {
      tokens: strs,
      token_logprobs: tokens.map((t) => t.logprob),
      top_logprobs: tokens.map((t) =>
        Object.fromEntries((t.top ?? []).map(([id, lp]) => [tokenText(served, id, asIds), lp])),
      ),
      text_offset: offsets,
    };
  };
  const id = newId("cmpl");
  const created = now();
  const base = { id, created, model: req.model, system_fingerprint: null };
  if (req.stream !== true) {
    const gen = startGeneration(ctx.scheduler, served, prompts, p.n, p);
    await finishJson(res, gen, (choices) => ({
      ...base,
      object: "text_completion",
      choices: choices.map((c) => ({
        index: c.index,
        text: c.stream.text,
        logprobs: logprobsOf(c.tokens, 0),
        finish_reason: c.finish,
      })),
      usage: usageOf(choices, prompts),
    }));
    return;
  }
  const sentChars = new Map<number, number>();
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => ({
    ...base,
    object: "text_completion",
    choices,
    ...extra,
  });
  const listener: GenerationListener = {
    onDelta: (c, text, tokens) => {
      const at = sentChars.get(c.index) ?? 0;
      sentChars.set(c.index, at + text.length);
      events.send(chunk([{ index: c.index, text, logprobs: logprobsOf(tokens, at), finish_reason: null }]));
    },
    onFinish: (c) => events.send(chunk([{ index: c.index, text: "", logprobs: null, finish_reason: c.finish }])),
  };
  const gen = startGeneration(ctx.scheduler, served, prompts, p.n, p, listener);
  const events = new EventStream(res);
  await finishStream(res, gen, events, (choices) => {
    if (req.stream_options?.include_usage === true) events.send(chunk([], { usage: usageOf(choices, prompts) }));
  });
}
