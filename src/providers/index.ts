/** Public API of src/providers: remote LLMs as `TextModel`s (AI SDK), with structured output for judges. */
export {
  ProviderConfigSchema,
  ProviderKindSchema,
  StructuredModeSchema,
  apiKeyEnvOf,
  providerLabel,
  type ProviderConfig,
  type ProviderConfigInput,
  type ProviderKind,
  type StructuredMode,
} from "./config.js";
export { CircuitOpenError, ProviderConfigError, ProviderError, StructuredOutputError } from "./errors.js";
export { CircuitBreaker } from "./circuit-breaker.js";
export { ResponseCache, cacheKey, type CacheEntry } from "./cache.js";
export { JsonExtractError, extractJson } from "./json-text.js";
export { Limiter, mapLimited } from "./limiter.js";
export { isRetryableError, withRetries, type RetryOptions } from "./retry.js";
export { createLanguageModel, type ProviderDeps } from "./language-model.js";
export {
  ProviderTextModel,
  type ProviderStats,
  type StructuredOptions,
  type StructuredResult,
} from "./provider-text-model.js";
