/** Provider errors: each message names the provider kind, the model and the URL, so a dead server is easy to spot. */

/** A request to a provider failed for good (after retries), or the provider could not be set up. */
export class ProviderError extends Error {
  override name = "ProviderError";
  constructor(
    message: string,
    /** "kind:model@baseURL" of the provider. */
    readonly provider: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The provider config is unusable (bad fields, a missing API key env var). */
export class ProviderConfigError extends ProviderError {
  override name = "ProviderConfigError";
}

/** The model answered, but not with JSON that fits the schema. `raw` holds the answer text for the samples file. */
export class StructuredOutputError extends ProviderError {
  override name = "StructuredOutputError";
  constructor(
    message: string,
    provider: string,
    readonly raw: string,
    options?: { cause?: unknown },
  ) {
    super(message, provider, options);
  }
}

/**
 * The provider failed too many requests in a row and the whole call was stopped (src/providers/circuit-breaker.ts).
 * Answers received before that are in the cache, so a re-run after the server is fixed asks only for the rest.
 */
export class CircuitOpenError extends ProviderError {
  override name = "CircuitOpenError";
}
