/** The provider config (zod): which remote LLM to call, how hard to push it, and where to cache its answers. */
import { z } from "zod";

/** Env var names, not keys: a config file is safe to commit and share. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const ProviderKindSchema = z
  .enum(["openai-compatible", "openai", "anthropic"])
  .describe("API family: openai-compatible (vLLM, Ollama, llama.cpp, LM Studio...), openai, or anthropic");
export type ProviderKind = z.infer<typeof ProviderKindSchema>;

export const StructuredModeSchema = z
  .enum(["json-schema", "json-object", "text"])
  .describe(
    "How judges get JSON: json-schema = the server enforces the schema (OpenAI, vLLM, recent Ollama, Anthropic); " +
      "json-object = JSON mode without a schema, the schema goes in the prompt; text = plain text, JSON is parsed out " +
      "of the answer (for servers with no JSON mode). Every mode validates the answer with the zod schema.",
  );
export type StructuredMode = z.infer<typeof StructuredModeSchema>;

export const ProviderConfigSchema = z
  .strictObject({
    kind: ProviderKindSchema,
    model: z.string().min(1).describe("Model id as the server knows it, e.g. gpt-4o-mini or Qwen/Qwen2.5-7B-Instruct"),
    baseURL: z
      .url()
      .optional()
      .describe("API base URL, e.g. http://localhost:8000/v1 (vLLM); required for openai-compatible"),
    apiKeyEnv: z
      .string()
      .regex(ENV_NAME, "must be an environment variable name such as OPENAI_API_KEY, never the key itself")
      .optional()
      .describe(
        "Name of the env var holding the API key (default OPENAI_API_KEY / ANTHROPIC_API_KEY; none for openai-compatible)",
      ),
    temperature: z.number().min(0).max(2).default(0).describe("Sampling temperature when a call does not set one"),
    maxTokens: z.int().positive().default(1024).describe("Most new tokens per answer when a call does not set it"),
    concurrency: z.int().positive().default(4).describe("Most requests in flight at once, per model instance"),
    retries: z.int().min(0).default(3).describe("Retries after a failed request (5xx, 429, timeouts, network errors)"),
    retryBaseMs: z
      .int()
      .min(0)
      .default(1000)
      .describe("First backoff delay; doubles each retry (capped at 30 s), honouring a server's Retry-After"),
    timeoutMs: z.int().positive().default(120_000).describe("Per-request time limit in milliseconds"),
    breakerFailures: z
      .int()
      .min(0)
      .default(8)
      .describe(
        "Circuit breaker: after this many failed requests in a row (retries included, HTTP 429 not counted) the " +
          "whole call stops with one error naming provider, model and URL, instead of every item waiting out " +
          "its retries; answers already received stay cached. Default 8 (twice the default concurrency); 0 = off",
      ),
    cacheDir: z.string().min(1).optional().describe("Directory for the on-disk response cache; no caching when unset"),
    structuredOutput: StructuredModeSchema.default("json-schema"),
  })
  .superRefine((c, ctx) => {
    if (c.kind === "openai-compatible" && !c.baseURL)
      ctx.addIssue({
        code: "custom",
        path: ["baseURL"],
        message: "openai-compatible providers need a baseURL, e.g. http://localhost:8000/v1",
      });
  })
  .describe("A remote LLM used for generation or judging");

/** The config as written by a user (defaults optional). */
export type ProviderConfigInput = z.input<typeof ProviderConfigSchema>;
/** The config after defaults. */
export type ProviderConfig = z.output<typeof ProviderConfigSchema>;

/** The env var that holds the key for a config, or undefined when the server needs none. */
export function apiKeyEnvOf(config: Pick<ProviderConfig, "kind" | "apiKeyEnv">): string | undefined {
  if (config.apiKeyEnv) return config.apiKeyEnv;
  if (config.kind === "openai") return "OPENAI_API_KEY";
  if (config.kind === "anthropic") return "ANTHROPIC_API_KEY";
  return undefined;
}

/** Short id used in errors and `TextModel.id`, e.g. "openai-compatible:qwen2.5@http://localhost:8000/v1". */
export function providerLabel(config: Pick<ProviderConfig, "kind" | "model" | "baseURL">): string {
  return `${config.kind}:${config.model}${config.baseURL ? `@${config.baseURL}` : ""}`;
}
