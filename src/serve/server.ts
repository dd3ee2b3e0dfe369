/**
 * `mst serve`'s HTTP server (node:http): routing, the bearer-token check, bounded JSON bodies, OpenAI error objects,
 * and a drain that lets running requests finish on shutdown.
 *
 * ```ts
 * const server = new MstServer(await modelsFromRun("runs/x"), { port: 0 });
 * const url = await server.listen(); // http://127.0.0.1:<port>/v1
 * ...
 * await server.close(); // refuses new requests, finishes running ones
 * ```
 */
import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ApiError, internalError, modelNotFound, shuttingDown, unauthorized } from "./errors.js";
import { chatCompletions, completions, type EndpointContext, type RequestLimits } from "./endpoints.js";
import type { ServedModel } from "./models.js";
import { ServeScheduler } from "./scheduler.js";

export interface ServeOptions {
  /** Default 127.0.0.1: other machines reach the server only when asked for (--host). */
  host?: string;
  /** Default 8000; 0 picks a free port. */
  port?: number;
  /** Requests must carry `Authorization: Bearer <apiKey>` when set. */
  apiKey?: string;
  /** Sequences decoded together per model (1: no batching). Default 32. */
  maxBatch?: number;
  /** Sequences waiting for a batch slot, over all models, before requests get 429. Default 256. */
  maxQueue?: number;
  /** Largest request body in bytes (413 beyond). Default 1 MiB. */
  maxBodyBytes?: number;
  /** Largest max_tokens. Default 4096. */
  maxTokens?: number;
  /** Largest n. Default 16. */
  maxN?: number;
  /** Most prompts per /v1/completions request. Default 64. */
  maxPrompts?: number;
  /** Positions per sequence (prompt + completion), capped by each model's maxSeq; bounds the KV cache. Default 4096. */
  context?: number;
  /** Called with one line per request (method, path, status, ms); default none. */
  log?: (line: string) => void;
}

const DEFAULTS = {
  host: "127.0.0.1",
  port: 8000,
  maxBatch: 32,
  maxQueue: 256,
  maxBodyBytes: 1 << 20,
  maxTokens: 4096,
  maxN: 16,
  maxPrompts: 64,
  context: 4096,
};

/** Reads a body up to `limit` bytes (413 beyond) and parses it as JSON (400 when it is not). */
function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? NaN);
    if (declared > limit)
      return reject(
        new ApiError(
          413,
          `request body of ${declared} bytes is over this server's limit of ${limit}`,
          "invalid_request_error",
          "request_too_large",
        ),
      );
    const parts: Buffer[] = [];
    let size = 0;
    req.on("data", (b: Buffer) => {
      size += b.length;
      if (size > limit) {
        reject(
          new ApiError(
            413,
            `request body is over this server's limit of ${limit} bytes`,
            "invalid_request_error",
            "request_too_large",
          ),
        );
        req.removeAllListeners("data");
        req.resume();
        return;
      }
      parts.push(b);
    });
    req.on("error", reject);
    req.on("end", () => {
      if (size > limit) return;
      const text = Buffer.concat(parts).toString("utf8");
      try {
        resolve(JSON.parse(text));
      } catch (e) {
        reject(
          new ApiError(
            400,
            `the body is not valid JSON: ${(e as Error).message}`,
            "invalid_request_error",
            "invalid_json",
          ),
        );
      }
    });
  });
}

function sendError(res: ServerResponse, e: ApiError): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const json = JSON.stringify(e.body());
  res.writeHead(e.status, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(json),
    ...(e.status === 413 ? { Connection: "close" } : {}),
  });
  res.end(json);
}

function sendJson(res: ServerResponse, v: unknown): void {
  const json = JSON.stringify(v);
  res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(json) });
  res.end(json);
}

/** True when the header holds exactly `Bearer <key>` (compared in constant time). */
function keyMatches(header: string | undefined, key: string): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? "");
  if (!m) return false;
  const a = Buffer.from(m[1].trim());
  const b = Buffer.from(key);
  return a.length === b.length && timingSafeEqual(a, b);
}

export class MstServer {
  readonly scheduler: ServeScheduler;
  private readonly models = new Map<string, ServedModel>();
  private readonly opts: typeof DEFAULTS & ServeOptions;
  private readonly http: Server;
  private readonly created = Math.floor(Date.now() / 1000);
  private draining = false;
  private inFlight = 0;
  private drained: Array<() => void> = [];

  constructor(models: readonly ServedModel[], options: ServeOptions = {}) {
    if (models.length === 0) throw new Error("mst serve: no models to serve");
    for (const m of models) {
      if (this.models.has(m.name)) throw new Error(`mst serve: model name "${m.name}" is given twice`);
      this.models.set(m.name, m);
    }
    this.opts = { ...DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
    this.scheduler = new ServeScheduler({
      maxBatch: this.opts.maxBatch,
      maxQueue: this.opts.maxQueue,
      context: this.opts.context,
    });
    this.http = createServer((req, res) => void this.handle(req, res));
  }

  /** Model names, in the order given. */
  get modelNames(): string[] {
    return [...this.models.keys()];
  }

  /** Starts listening; resolves with the base URL clients use (…/v1). */
  listen(): Promise<string> {
    return new Promise((resolve, reject) => {
      this.http.once("error", reject);
      this.http.listen(this.opts.port, this.opts.host, () => {
        const a = this.http.address() as AddressInfo;
        const host = a.family === "IPv6" ? `[${a.address}]` : a.address;
        resolve(`http://${host}:${a.port}/v1`);
      });
    });
  }

  /** Drains: new requests get 503, requests already accepted finish (streams included), then the socket closes. */
  async close(): Promise<void> {
    this.draining = true;
    const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    this.http.closeIdleConnections();
    if (this.inFlight > 0) await new Promise<void>((resolve) => this.drained.push(resolve));
    this.http.closeAllConnections();
    await closed;
  }

  private context(): EndpointContext {
    const limits: RequestLimits = {
      maxTokens: this.opts.maxTokens,
      maxN: this.opts.maxN,
      maxPrompts: this.opts.maxPrompts,
      maxSequences: this.opts.maxQueue,
      context: this.opts.context,
    };
    return {
      scheduler: this.scheduler,
      limits,
      model: (name) => {
        const m = this.models.get(name);
        if (!m) throw modelNotFound(name, this.modelNames);
        return m;
      },
    };
  }

  private modelEntry(m: ServedModel) {
    return {
      id: m.name,
      object: "model",
      created: this.created,
      owned_by: "mst",
      max_model_len: Math.min(this.opts.context, m.model.config.maxSeq),
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const t0 = Date.now();
    this.inFlight++;
    try {
      await this.route(req, res);
    } catch (e) {
      sendError(res, e instanceof ApiError ? e : internalError(e instanceof Error ? e.message : String(e)));
    } finally {
      this.opts.log?.(`${req.method} ${req.url} ${res.statusCode} ${Date.now() - t0}ms`);
      if (--this.inFlight === 0 && this.draining) {
        const w = this.drained;
        this.drained = [];
        for (const f of w) f();
      }
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0].replace(/\/+$/, "");
    if (path === "/health") {
      sendJson(res, {
        status: this.draining ? "draining" : "ok",
        queued: this.scheduler.queued,
        running: this.scheduler.running,
      });
      return;
    }
    if (this.draining) throw shuttingDown();
    if (this.opts.apiKey !== undefined && !keyMatches(req.headers.authorization, this.opts.apiKey))
      throw unauthorized(
        req.headers.authorization === undefined
          ? "You didn't provide an API key: send it as Authorization: Bearer <key>"
          : "Incorrect API key provided",
      );
    const method = req.method ?? "GET";
    const wrongMethod = (allowed: string) =>
      new ApiError(
        405,
        `${method} is not allowed on ${path} (use ${allowed})`,
        "invalid_request_error",
        "method_not_allowed",
      );
    if (path === "/v1/models") {
      if (method !== "GET") throw wrongMethod("GET");
      sendJson(res, { object: "list", data: [...this.models.values()].map((m) => this.modelEntry(m)) });
      return;
    }
    if (path.startsWith("/v1/models/")) {
      if (method !== "GET") throw wrongMethod("GET");
      const name = decodeURIComponent(path.slice("/v1/models/".length));
      sendJson(res, this.modelEntry(this.context().model(name)));
      return;
    }
    const endpoint =
      path === "/v1/chat/completions" ? chatCompletions : path === "/v1/completions" ? completions : null;
    if (endpoint === null)
      throw new ApiError(
        404,
        `no endpoint ${path} (this server has /v1/models, /v1/chat/completions, /v1/completions)`,
        "invalid_request_error",
        "not_found",
      );
    if (method !== "POST") throw wrongMethod("POST");
    const body = await readJson(req, this.opts.maxBodyBytes);
    await endpoint(this.context(), body, res);
  }
}
