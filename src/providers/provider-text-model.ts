/** `TextModel` over a remote LLM (AI SDK): concurrency limit, retries with backoff, disk cache, structured output. */
import { APICallError, type LanguageModel, NoObjectGeneratedError, Output, generateText } from "ai";
import { z } from "zod";
import { issueMessage } from "../data/errors.js";
import type { ChatMessage, Completion, GenerateOptions, Prompt, TextModel } from "../data/text-model.js";
import { ResponseCache, cacheKey } from "./cache.js";
import {
  type ProviderConfig,
  type ProviderConfigInput,
  ProviderConfigSchema,
  type StructuredMode,
  providerLabel,
} from "./config.js";
import { CircuitBreaker } from "./circuit-breaker.js";
import { CircuitOpenError, ProviderConfigError, ProviderError, StructuredOutputError } from "./errors.js";
import { JsonExtractError, extractJson } from "./json-text.js";
import { type ProviderDeps, createLanguageModel } from "./language-model.js";
import { Limiter, mapLimited } from "./limiter.js";
import { withRetries } from "./retry.js";

// The AI SDK prints each warning of each request on the console (hundreds of lines in one evaluation); we record the
// distinct ones in `stats.warnings` (provider.json in a run) instead. A logger the embedding program set is kept.
(globalThis as { AI_SDK_LOG_WARNINGS?: unknown }).AI_SDK_LOG_WARNINGS ??= false;

/** Version of the cache key layout; bump it when what a key means changes. */
const KEY_VERSION = 1;

/** Options for one structured call. */
export interface StructuredOptions {
  temperature?: number;
  maxTokens?: number;
  seed?: number;
  /** Schema name/description passed to providers that use them (OpenAI json_schema name, Anthropic tool name). */
  name?: string;
  description?: string;
  abortSignal?: AbortSignal;
}

/** A validated structured answer with the text it came from. */
export interface StructuredResult<T> {
  value: T;
  /** The model's answer text (JSON), for the samples file. */
  raw: string;
  /** True when it came from the disk cache. */
  cached: boolean;
}

/** Counters for reports and tests. */
export interface ProviderStats {
  /** HTTP attempts made (including retried ones). */
  requests: number;
  /** Answers served from the cache. */
  cacheHits: number;
  /** Retries after a failed attempt. */
  retries: number;
  inputTokens: number;
  outputTokens: number;
  /**
   * Distinct warnings the AI SDK raised, e.g. that a model ignores `temperature` (newer Claude models reject sampling
   * parameters, and the SDK drops them): a report should show these, since the setting asked for was not applied.
   */
  warnings: string[];
}

function toMessages(prompt: Prompt): ChatMessage[] {
  return typeof prompt === "string" ? [{ role: "user", content: prompt }] : prompt;
}

/** Appends an instruction to the prompt's last user turn (or adds one), for the JSON-in-prompt modes. */
function appendInstruction(prompt: Prompt, instruction: string): Prompt {
  if (typeof prompt === "string") return `${prompt}\n\n${instruction}`;
  const msgs = prompt.map((m) => ({ ...m }));
  for (let i = msgs.length - 1; i >= 0; i--)
    if (msgs[i].role === "user") {
      msgs[i].content = `${msgs[i].content}\n\n${instruction}`;
      return msgs;
    }
  return [...msgs, { role: "user", content: instruction }];
}

function mapFinish(reason: string): Completion["finishReason"] {
  if (reason === "length") return "length";
  if (reason === "error") return "error";
  return "stop";
}

/** The root network cause (ECONNREFUSED, ENOTFOUND...) buried in an error's cause chain, if any. */
function networkCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 6; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** True when the server refused the request as malformed (HTTP 400/422), e.g. an unsupported response_format. */
function isRequestRejected(error: unknown): boolean {
  const cause = error instanceof ProviderError ? error.cause : error;
  return APICallError.isInstance(cause) && (cause.statusCode === 400 || cause.statusCode === 422);
}

/** One line saying what went wrong, for a ProviderError message. */
function describeFailure(error: unknown, url: string): string {
  // A 2xx whose body the SDK could not read as an answer: not an HTTP failure, a server speaking another protocol
  if (APICallError.isInstance(error) && error.statusCode !== undefined && error.statusCode < 300) {
    const body = (error.responseBody ?? "").replace(/\s+/g, " ").slice(0, 200);
    return (
      `HTTP ${error.statusCode} from ${error.url}, but the body is not a chat completion ` +
      `(is baseURL the API root, e.g. .../v1?)${body ? `: ${body}` : ""}`
    );
  }
  if (APICallError.isInstance(error) && error.statusCode !== undefined) {
    const body = (error.responseBody ?? "").slice(0, 300);
    return `HTTP ${error.statusCode} from ${error.url}${body ? `: ${body}` : ""}`;
  }
  const code = networkCode(error);
  if (code) return `cannot reach ${url} (${code}); is the server running?`;
  if (APICallError.isInstance(error)) return `cannot reach ${error.url} (${error.message})`;
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError"))
    return `no answer from ${url} in time (${error.message})`;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * A remote LLM as a `TextModel`.
 *
 * ```ts
 * const m = new ProviderTextModel({ kind: "openai-compatible", model: "qwen2.5:7b", baseURL: "http://localhost:11434/v1",
 *   cacheDir: ".cache/llm" });
 * const [c] = await m.generate(["Write one sentence about tides."], { temperature: 0.5, maxTokens: 100 });
 * const { value } = await m.generateStructured("Rate ... as JSON", z.object({ score: z.number() }));
 * ```
 */
export class ProviderTextModel implements TextModel {
  readonly id: string;
  readonly config: ProviderConfig;
  readonly stats: ProviderStats = {
    requests: 0,
    cacheHits: 0,
    retries: 0,
    inputTokens: 0,
    outputTokens: 0,
    warnings: [],
  };
  private readonly model: LanguageModel;
  private readonly limiter: Limiter;
  private readonly cache?: ResponseCache;
  private readonly url: string;
  /** Set once the server rejected JSON mode: structured calls then use text mode. */
  private textFallback = false;
  /** Stops every request of this model after `breakerFailures` failures in a row (see circuit-breaker.ts). */
  private readonly breaker: CircuitBreaker;
  private readonly onRetry: ProviderDeps["onRetry"];

  constructor(config: ProviderConfigInput | ProviderConfig, deps: ProviderDeps = {}) {
    const parsed = ProviderConfigSchema.safeParse(config);
    if (!parsed.success) {
      const label = `${String(config.kind)}:${String(config.model)}`;
      const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${issueMessage(i)}`).join("; ");
      throw new ProviderConfigError(`provider ${label}: invalid config: ${issues}`, label);
    }
    this.config = parsed.data;
    this.id = providerLabel(this.config);
    this.url = this.config.baseURL ?? `the default ${this.config.kind} endpoint`;
    this.model = createLanguageModel(this.config, deps);
    this.onRetry = deps.onRetry;
    this.limiter = new Limiter(this.config.concurrency);
    if (this.config.cacheDir) this.cache = new ResponseCache(this.config.cacheDir);
    const cacheDir = this.config.cacheDir;
    this.breaker = new CircuitBreaker(
      this.config.breakerFailures,
      (n, last) =>
        new CircuitOpenError(
          `provider ${this.config.kind}, model ${this.config.model} at ${this.url}: stopped after ${n} failed ` +
            `requests in a row (last: ${describeFailure(last, this.url)}); ` +
            (cacheDir ? `answers received so far are kept in the cache ${cacheDir}` : "no cacheDir, nothing kept"),
          this.id,
          { cause: last },
        ),
    );
  }

  /**
   * One completion per prompt, in order. Identical prompts in one call are separate samples: the cache key includes
   * the occurrence number, so [p, p, p] gives three answers and a re-run gets the same three back from the cache.
   * Across separate calls the same prompt and options give the same key: for more samples of one prompt, put them in
   * one call or pass distinct `seed`s (the seed is part of the key).
   */
  async generate(prompts: Prompt[], options: GenerateOptions = {}): Promise<Completion[]> {
    const seen = new Map<string, number>();
    const keys = prompts.map((p) => {
      const base = cacheKey({
        v: KEY_VERSION,
        op: "text",
        model: this.id,
        prompt: p,
        options: this.keyOptions(options),
      });
      const occurrence = seen.get(base) ?? 0;
      seen.set(base, occurrence + 1);
      return occurrence === 0 ? base : cacheKey({ base, occurrence });
    });
    let done = 0;
    return this.breakerFirst(
      mapLimited(this.limiter, prompts, async (prompt, i) => {
        const hit = this.cache?.get(keys[i]);
        let completion: Completion;
        if (hit) {
          this.stats.cacheHits++;
          completion = { text: hit.text, finishReason: hit.finishReason };
          if (hit.topLogprobs) completion.topLogprobs = hit.topLogprobs;
        } else {
          const r = await this.call(prompt, options, undefined);
          completion = { text: r.text, finishReason: mapFinish(r.finishReason) };
          const top = options.topLogprobs ? topLogprobsOf(r.response.body) : undefined;
          if (top) completion.topLogprobs = top;
          this.cache?.set(keys[i], completion);
        }
        options.onProgress?.(++done, prompts.length);
        return completion;
      }),
    );
  }

  /** When the breaker opened during `work`, its one error is what the caller sees, not some item's own failure. */
  private async breakerFirst<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (e) {
      throw this.breaker.error ?? e;
    }
  }

  /**
   * Asks for JSON matching `schema` and validates it. How JSON is requested follows `config.structuredOutput`; if the
   * server rejects JSON mode (HTTP 400/422) the model switches to text mode once, recorded in `stats.warnings`.
   * Malformed or invalid answers throw `StructuredOutputError` (with the raw text); only valid answers are cached,
   * so a caller's retry asks the model again.
   */
  async generateStructured<T>(
    prompt: Prompt,
    schema: z.ZodType<T>,
    options: StructuredOptions = {},
  ): Promise<StructuredResult<T>> {
    const mode = this.config.structuredOutput;
    const jsonSchema = z.toJSONSchema(schema);
    const key = cacheKey({
      v: KEY_VERSION,
      op: "structured",
      mode,
      model: this.id,
      prompt,
      schema: jsonSchema,
      options: this.keyOptions(options),
    });
    const hit = this.cache?.get(key);
    if (hit) {
      const parsed = schema.safeParse(this.parseJson(hit.text));
      if (parsed.success) {
        this.stats.cacheHits++;
        return { value: parsed.data, raw: hit.text, cached: true };
      }
    }
    let raw: string;
    try {
      raw = await this.requestStructured(this.textFallback ? "text" : mode, prompt, schema, jsonSchema, options);
    } catch (error) {
      // A server without JSON mode rejects response_format with 400/422. Ask once more in text mode; if that works,
      // keep using text mode for this model and say so in the warnings. Any other 4xx fails again and is thrown.
      if (this.breaker.error !== null || this.textFallback || mode === "text" || !isRequestRejected(error)) throw error;
      raw = await this.requestStructured("text", prompt, schema, jsonSchema, options);
      this.textFallback = true;
      this.stats.warnings.push(
        `structured output: the server rejected ${mode} mode (${(error as Error).message.slice(0, 200)}); ` +
          "falling back to text mode (JSON parsed from plain answers)",
      );
    }
    const parsed = schema.safeParse(this.parseJson(raw));
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${issueMessage(i)}`).join("; ");
      throw new StructuredOutputError(
        `${this.id}: answer does not match the schema (${issues}); answer: ${JSON.stringify(raw.slice(0, 300))}`,
        this.id,
        raw,
      );
    }
    this.cache?.set(key, { text: raw, finishReason: "stop" });
    return { value: parsed.data, raw, cached: false };
  }

  /** One structured request in `mode`; returns the answer text (possibly invalid, validated by the caller). */
  private async requestStructured<T>(
    mode: StructuredMode,
    prompt: Prompt,
    schema: z.ZodType<T>,
    jsonSchema: unknown,
    options: StructuredOptions,
  ): Promise<string> {
    const instruction =
      "Answer with a single JSON object and nothing else (no prose, no code fences). It must match this JSON Schema:\n" +
      JSON.stringify(jsonSchema);
    const fullPrompt = mode === "json-schema" ? prompt : appendInstruction(prompt, instruction);
    const output =
      mode === "json-schema"
        ? Output.object({ schema, name: options.name, description: options.description })
        : mode === "json-object"
          ? Output.json({ name: options.name, description: options.description })
          : undefined;
    try {
      const r = await this.limiter.run(() => this.call(fullPrompt, options, output));
      return r.text;
    } catch (error) {
      // The SDK's own rejection says little ("did not match schema"); the caller validates the text to name fields.
      if (!NoObjectGeneratedError.isInstance(error)) throw error;
      return error.text ?? "";
    }
  }

  /** Parses JSON out of an answer, turning extraction failures into StructuredOutputError. */
  private parseJson(raw: string): unknown {
    try {
      return extractJson(raw);
    } catch (error) {
      if (error instanceof JsonExtractError)
        throw new StructuredOutputError(`${this.id}: ${error.message}`, this.id, raw, { cause: error });
      throw error;
    }
  }

  /** The options that change an answer, with config defaults filled in (so a changed default changes the key). */
  private keyOptions(o: GenerateOptions | StructuredOptions): Record<string, unknown> {
    const g = o as GenerateOptions;
    return {
      temperature: o.temperature ?? this.config.temperature,
      maxTokens: o.maxTokens ?? this.config.maxTokens,
      seed: o.seed,
      topK: g.topK,
      topP: g.topP,
      stop: g.stop,
      topLogprobs: g.topLogprobs,
    };
  }

  /** One request with retries; failures become a ProviderError naming provider, model and URL. */
  private async call(
    prompt: Prompt,
    options: GenerateOptions & { abortSignal?: AbortSignal },
    output: ReturnType<typeof Output.json> | ReturnType<typeof Output.object> | undefined,
  ) {
    let attempts = 0;
    const breaker = this.breaker;
    const abortSignal = options.abortSignal ? AbortSignal.any([options.abortSignal, breaker.signal]) : breaker.signal;
    try {
      const result = await withRetries(
        async () => {
          breaker.check();
          attempts++;
          this.stats.requests++;
          try {
            const r = await generateText({
              model: this.model,
              messages: toMessages(prompt),
              allowSystemInMessages: true,
              temperature: options.temperature ?? this.config.temperature,
              maxOutputTokens: options.maxTokens ?? this.config.maxTokens,
              topK: options.topK,
              topP: options.topP,
              seed: options.seed,
              stopSequences: options.stop,
              // OpenAI-compatible servers (vLLM, mst serve) return top log-probs when asked in the request body
              ...(options.topLogprobs && this.config.kind === "openai-compatible"
                ? { providerOptions: { openaiCompatible: { logprobs: true, top_logprobs: options.topLogprobs } } }
                : {}),
              maxRetries: 0, // retries are ours, so they share the backoff policy and the stats
              timeout: this.config.timeoutMs,
              abortSignal,
              ...(output ? { output } : {}),
            });
            breaker.success();
            return r;
          } catch (error) {
            // the model answered, only not with valid structured output: the server itself is fine
            if (NoObjectGeneratedError.isInstance(error)) breaker.success();
            else breaker.failure(error);
            throw error;
          }
        },
        {
          retries: this.config.retries,
          baseMs: this.config.retryBaseMs,
          abortSignal,
          onRetry: (error, attempt, delayMs) => {
            this.stats.retries++;
            this.onRetry?.(describeFailure(error, this.url), attempt, delayMs);
          },
        },
      );
      this.stats.inputTokens += result.usage.inputTokens ?? 0;
      this.stats.outputTokens += result.usage.outputTokens ?? 0;
      for (const w of result.warnings ?? []) {
        const line = `${w.type}: ${"feature" in w ? w.feature : ""}${"details" in w && w.details ? ` (${w.details})` : ""}${"message" in w ? w.message : ""}`;
        if (!this.stats.warnings.includes(line)) this.stats.warnings.push(line);
      }
      return result;
    } catch (error) {
      if (breaker.error !== null) throw breaker.error;
      if (NoObjectGeneratedError.isInstance(error) || error instanceof ProviderError) throw error;
      throw new ProviderError(
        `provider ${this.config.kind}, model ${this.config.model} at ${this.url}: request failed after ${attempts} attempt(s): ${describeFailure(error, this.url)}`,
        this.id,
        { cause: error },
      );
    }
  }
}

/** The raw chat completion's `choices[0].logprobs.content[].top_logprobs`, when the server sent them (tolerant). */
const TopLogprobsBody = z.object({
  choices: z
    .array(
      z.object({
        logprobs: z
          .object({
            content: z
              .array(z.object({ top_logprobs: z.array(z.object({ token: z.string(), logprob: z.number() })) }))
              .nullable(),
          })
          .nullable()
          .optional(),
      }),
    )
    .min(1),
});

function topLogprobsOf(body: unknown): Array<Array<{ token: string; logprob: number }>> | undefined {
  const parsed = TopLogprobsBody.safeParse(body);
  const content = parsed.success ? parsed.data.choices[0].logprobs?.content : null;
  return content ? content.map((c) => c.top_logprobs.map(({ token, logprob }) => ({ token, logprob }))) : undefined;
}
