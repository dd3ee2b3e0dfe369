/** Retries with exponential backoff for provider calls: which failures are worth retrying, and how long to wait. */
import { APICallError } from "ai";

export interface RetryOptions {
  /** Retries after the first attempt. */
  retries: number;
  /** First delay in ms; doubles per retry. */
  baseMs: number;
  /** Cap on one delay (default 30 s). */
  maxMs?: number;
  /** Whether an error is worth another attempt (default `isRetryableError`). */
  isRetryable?: (error: unknown) => boolean;
  /** Called before each wait, e.g. for a log line. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  abortSignal?: AbortSignal;
}

/**
 * Server errors (5xx), rate limits (429), timeouts and network failures are retried; a 4xx other than 408/409/429
 * means the request itself is wrong and retrying would only repeat it.
 */
export function isRetryableError(error: unknown): boolean {
  if (APICallError.isInstance(error)) {
    if (error.statusCode === undefined) return true; // no HTTP answer at all: network
    return error.isRetryable || error.statusCode >= 500;
  }
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) return true;
  return error instanceof TypeError; // fetch() rejects with TypeError on connection failures
}

/** Delay the server asked for in Retry-After (seconds or an HTTP date), if any. */
function retryAfterMs(error: unknown): number | undefined {
  if (!APICallError.isInstance(error)) return undefined;
  const h = error.responseHeaders?.["retry-after"];
  if (!h) return undefined;
  const secs = Number(h);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(h);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Runs `fn` (given the attempt number, 0-based) until it succeeds, a non-retryable error occurs, or retries run out. */
export async function withRetries<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const retryable = options.isRetryable ?? isRetryableError;
  const maxMs = options.maxMs ?? 30_000;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (attempt >= options.retries || !retryable(error) || options.abortSignal?.aborted) throw error;
      // Deterministic backoff (no jitter): mst draws randomness only from Rng, and jitter buys little at this scale.
      const delay = Math.min(maxMs, retryAfterMs(error) ?? options.baseMs * 2 ** attempt);
      options.onRetry?.(error, attempt + 1, delay);
      await sleep(delay, options.abortSignal);
    }
  }
}
