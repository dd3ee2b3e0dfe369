/** Builds the AI SDK language model for a provider config (key read from the named env var, never from the config). */
import { createAnthropic } from "@ai-sdk/anthropic";
import { createOpenAI } from "@ai-sdk/openai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import type { LanguageModel } from "ai";
import { type ProviderConfig, apiKeyEnvOf, providerLabel } from "./config.js";
import { ProviderConfigError } from "./errors.js";

/** Injection points for tests and embedding: a custom fetch, and the environment the key is read from. */
export interface ProviderDeps {
  fetch?: typeof globalThis.fetch;
  env?: Record<string, string | undefined>;
  /** Told of each failed request that will be retried (a notice for the user; the count is in `stats.retries`). */
  onRetry?: (error: string, attempt: number, delayMs: number) => void;
}

/** Reads the API key; a missing variable is an error only where the provider needs a key. */
function apiKey(config: ProviderConfig, env: Record<string, string | undefined>): string | undefined {
  const name = apiKeyEnvOf(config);
  if (!name) return undefined;
  const key = env[name];
  if (key) return key;
  // openai-compatible servers (vLLM, Ollama) usually need no key, so only a named-but-missing variable matters there.
  throw new ProviderConfigError(
    `${providerLabel(config)}: environment variable ${name} (apiKeyEnv) is not set; export it or set apiKeyEnv to the variable holding the key`,
    providerLabel(config),
  );
}

export function createLanguageModel(config: ProviderConfig, deps: ProviderDeps = {}): LanguageModel {
  const env = deps.env ?? process.env;
  const key = apiKey(config, env);
  switch (config.kind) {
    case "openai-compatible":
      return createOpenAICompatible({
        name: "openai-compatible",
        baseURL: config.baseURL!, // the schema requires it for this kind
        apiKey: key,
        fetch: deps.fetch,
        supportsStructuredOutputs: config.structuredOutput === "json-schema",
      }).chatModel(config.model);
    case "openai":
      return createOpenAI({ apiKey: key, baseURL: config.baseURL, fetch: deps.fetch })(config.model);
    case "anthropic":
      return createAnthropic({ apiKey: key, baseURL: config.baseURL, fetch: deps.fetch })(config.model);
  }
}
