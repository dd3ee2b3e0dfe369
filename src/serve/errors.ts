/** Errors `mst serve` answers with: an HTTP status plus OpenAI's error object `{ error: { message, type, param, code } }`. */

/** An error sent to the client as OpenAI does: the status, and a body clients (the openai SDK) parse into their own errors. */
export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly code: string | null = null,
    readonly param: string | null = null,
  ) {
    super(message);
  }

  /** The JSON body: the shape OpenAI (and vLLM) send. */
  body(): { error: { message: string; type: string; param: string | null; code: string | null } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export const invalidRequest = (message: string, param: string | null = null, code: string | null = null): ApiError =>
  new ApiError(400, message, "invalid_request_error", code, param);

export const modelNotFound = (model: string, known: readonly string[]): ApiError =>
  new ApiError(
    404,
    `The model \`${model}\` does not exist; this server has ${known.join(", ")}`,
    "invalid_request_error",
    "model_not_found",
    "model",
  );

/** OpenAI answers a missing or wrong key with 401 and code invalid_api_key. */
export const unauthorized = (why: string): ApiError =>
  new ApiError(401, why, "invalid_request_error", "invalid_api_key");

/** The bounded queue is full: 429, which clients retry with backoff (the openai SDK and mst's providers both do). */
export const queueFull = (limit: number): ApiError =>
  new ApiError(
    429,
    `the server's queue is full (${limit} requests waiting); retry later`,
    "rate_limit_error",
    "rate_limit_exceeded",
  );

/** The server is shutting down (SIGTERM): requests already running finish, new ones are refused. */
export const shuttingDown = (): ApiError =>
  new ApiError(503, "the server is shutting down", "server_error", "shutting_down");

/** A failure inside the server: the message names what failed; the client sees a 500 with it. */
export const internalError = (message: string): ApiError =>
  new ApiError(500, message, "server_error", "internal_error");
