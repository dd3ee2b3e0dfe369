/**
 * A circuit breaker for one provider model: after `threshold` failed requests in a row (across every item of every
 * call, since they share one server) it opens, aborts whatever is in flight or waiting to retry, and every further
 * request fails at once with the same error. Without it, a hung server makes each of N items wait for every retry.
 */
import { setMaxListeners } from "node:events";
import { APICallError } from "ai";

export class CircuitBreaker {
  private consecutive = 0;
  private opened: Error | null = null;
  private readonly controller = new AbortController();

  /**
   * @param threshold failed requests in a row that open the breaker; 0 never opens it.
   * @param makeError builds the error every caller gets once it is open, from the count and the last failure.
   */
  constructor(
    readonly threshold: number,
    private readonly makeError: (failures: number, last: unknown) => Error,
  ) {
    // every request in flight and every retry wait listens on this one signal (16 at the default concurrency): that is
    // by design, not a leak, so Node's MaxListenersExceededWarning must not print before every error
    setMaxListeners(0, this.controller.signal);
  }

  /** Aborted when the breaker opens: pass it to requests and retry waits so they stop at once. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The error callers get once the breaker is open, or null while it is closed. */
  get error(): Error | null {
    return this.opened;
  }

  /** Throws the breaker's error if it is open (call before each request). */
  check(): void {
    if (this.opened !== null) throw this.opened;
  }

  /** A request succeeded: the run of failures is broken. */
  success(): void {
    this.consecutive = 0;
  }

  /**
   * A request failed. Rate limits (HTTP 429) do not count: the server is alive and asking us to slow down, which the
   * retry backoff already does. A request aborted because the breaker opened does not count twice.
   */
  failure(error: unknown): void {
    if (this.threshold === 0 || this.opened !== null) return;
    if (APICallError.isInstance(error) && error.statusCode === 429) return;
    this.consecutive++;
    if (this.consecutive >= this.threshold) {
      this.opened = this.makeError(this.consecutive, error);
      this.controller.abort(this.opened);
    }
  }
}
