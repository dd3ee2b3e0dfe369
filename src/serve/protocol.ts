/**
 * The OpenAI request bodies `mst serve` accepts (zod): /v1/chat/completions and /v1/completions, with the sampling
 * options it implements. Fields it does not implement are refused by name when set to a non-default value (never
 * silently ignored); unknown fields pass, as OpenAI's SDKs send extras (user, metadata, store...).
 */
import { z } from "zod";
import type { ChatMessage } from "../data/text-model.js";
import { invalidRequest } from "./errors.js";

/** Message content: a string, or OpenAI's list of parts (text parts only; images are refused). */
const ContentSchema = z.union([z.string(), z.array(z.looseObject({ type: z.literal("text"), text: z.string() }))]);

const MessageSchema = z.looseObject({
  // "developer" is OpenAI's newer name for the system role
  role: z.enum(["system", "developer", "user", "assistant"]),
  content: ContentSchema,
});

const StopSchema = z.union([z.string(), z.array(z.string()).max(4)]).nullish();

/** Options both endpoints share. */
const SamplingFields = {
  model: z.string().min(1),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  n: z.int().min(1).nullish(),
  stop: StopSchema,
  seed: z.int().nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullish() }).nullish(),
  max_tokens: z.int().min(1).nullish(),
  frequency_penalty: z.number().nullish(),
  presence_penalty: z.number().nullish(),
  logit_bias: z.record(z.string(), z.number()).nullish(),
  /** vLLM's extension: keep generating past the stop ids (fixed-length generations for benchmarks). */
  ignore_eos: z.boolean().nullish(),
  /** vLLM's extension: logprob tokens as "token_id:<id>" instead of text, so clients can compare ids. */
  return_tokens_as_token_ids: z.boolean().nullish(),
};

export const ChatRequestSchema = z.looseObject({
  ...SamplingFields,
  messages: z.array(MessageSchema).min(1),
  max_completion_tokens: z.int().min(1).nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.int().min(0).max(20).nullish(),
  tools: z.array(z.unknown()).nullish(),
  response_format: z.looseObject({ type: z.string() }).nullish(),
});
export type ChatRequest = z.infer<typeof ChatRequestSchema>;

/** A completions prompt: text, texts, token ids or lists of token ids (as OpenAI accepts). */
const PromptSchema = z.union([
  z.string(),
  z.array(z.string()).min(1),
  z.array(z.int().min(0)).min(1),
  z.array(z.array(z.int().min(0)).min(1)).min(1),
]);

export const CompletionRequestSchema = z.looseObject({
  ...SamplingFields,
  prompt: PromptSchema,
  logprobs: z.int().min(0).max(20).nullish(),
  echo: z.boolean().nullish(),
  suffix: z.string().nullish(),
  best_of: z.int().min(1).nullish(),
});
export type CompletionRequest = z.infer<typeof CompletionRequestSchema>;

/** Parses a body with `schema`; the 400 names the first offending field as OpenAI's `param`. */
export function parseRequest<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const param = issue?.path.map(String).join(".") || null;
  throw invalidRequest(`${param ? `${param}: ` : ""}${issue?.message ?? "invalid request"}`, param);
}

/** Refuses options the server does not implement when they would change the answer. */
export function refuseUnsupported(req: ChatRequest | CompletionRequest): void {
  const r = req as Record<string, unknown>;
  for (const key of ["frequency_penalty", "presence_penalty"] as const)
    if (r[key] !== undefined && r[key] !== null && r[key] !== 0)
      throw invalidRequest(`${key} is not supported by mst serve (only 0)`, key, "unsupported_parameter");
  if (req.logit_bias && Object.keys(req.logit_bias).length > 0)
    throw invalidRequest("logit_bias is not supported by mst serve", "logit_bias", "unsupported_parameter");
  if (Array.isArray(r.tools) && r.tools.length > 0)
    throw invalidRequest("tools are not supported by mst serve", "tools", "unsupported_parameter");
  const fmt = r.response_format as { type?: string } | null | undefined;
  if (fmt && fmt.type !== "text")
    throw invalidRequest(
      `response_format ${JSON.stringify(fmt.type)} is not supported by mst serve (only "text")`,
      "response_format",
      "unsupported_parameter",
    );
  if (r.echo === true) throw invalidRequest("echo is not supported by mst serve", "echo", "unsupported_parameter");
  if (typeof r.suffix === "string" && r.suffix !== "")
    throw invalidRequest("suffix is not supported by mst serve", "suffix", "unsupported_parameter");
  if (typeof r.best_of === "number" && r.best_of !== (req.n ?? 1))
    throw invalidRequest("best_of other than n is not supported by mst serve", "best_of", "unsupported_parameter");
}

/** Chat messages as mst's ChatMessage (parts joined, "developer" as "system"). */
export function chatMessagesOf(req: ChatRequest): ChatMessage[] {
  return req.messages.map((m) => ({
    role: m.role === "developer" ? "system" : m.role,
    content: typeof m.content === "string" ? m.content : m.content.map((p) => p.text).join(""),
  }));
}

/** The stop sequences of a request as a list (empty strings dropped). */
export function stopsOf(stop: string | string[] | null | undefined): string[] {
  if (stop === null || stop === undefined) return [];
  return (typeof stop === "string" ? [stop] : stop).filter((s) => s.length > 0);
}
