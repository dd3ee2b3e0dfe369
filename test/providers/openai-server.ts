/** A scripted OpenAI chat-completions server (plus Anthropic /v1/messages) on loopback, port 0, for provider tests. */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";

/** One scripted answer: assistant text, an HTTP error, or a raw body (for broken JSON). `delayMs` waits first. */
export type Reply =
  | { content: string; delayMs?: number; finishReason?: string }
  | { status: number; body?: string; delayMs?: number; headers?: Record<string, string> }
  | { rawBody: string; delayMs?: number };

/** A request as the server saw it. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: ChatRequestBody;
}

/** The fields of a chat-completions request the tests look at (the rest is kept as is). */
export interface ChatRequestBody {
  model?: string;
  messages?: Array<{ role: string; content: string }>;
  temperature?: number;
  max_tokens?: number;
  seed?: number;
  stream?: boolean;
  response_format?: { type: string; json_schema?: { name?: string; schema?: unknown; strict?: boolean } };
  [key: string]: unknown;
}

export interface OpenAiTestServer {
  /** Base URL to put in a provider config, e.g. http://127.0.0.1:41234/v1. */
  baseURL: string;
  /** Every request received, in arrival order. */
  requests: SeenRequest[];
  /** Most requests in flight at the same time so far. */
  maxInFlight: number;
  /** Adds replies to the queue; each request takes the next one. */
  enqueue(...replies: Reply[]): void;
  /** Empties the queue, resets the request log, the in-flight maximum and the fallback (call between tests). */
  reset(): void;
  /** Answers used when the queue is empty (default: a 500 saying the queue ran dry). */
  fallback: (body: ChatRequestBody) => Reply;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function completionBody(model: string, content: string, finishReason: string, n: number): string {
  const promptTokens = 10;
  const completionTokens = content.split(/\s+/).filter(Boolean).length;
  return JSON.stringify({
    id: `chatcmpl-test-${n}`,
    object: "chat.completion",
    created: 1_700_000_000,
    model,
    choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: finishReason }],
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    },
  });
}

function messagesBody(model: string, content: string, n: number): string {
  return JSON.stringify({
    id: `msg_test_${n}`,
    type: "message",
    role: "assistant",
    model,
    content: [{ type: "text", text: content }],
    stop_reason: "end_turn",
    stop_sequence: null,
    usage: { input_tokens: 10, output_tokens: content.split(/\s+/).filter(Boolean).length },
  });
}

/** Starts the server on 127.0.0.1 with an OS-chosen port. */
export async function startOpenAiServer(): Promise<OpenAiTestServer> {
  const queue: Reply[] = [];
  let inFlight = 0;
  const emptyQueue = (): Reply => ({
    status: 500,
    body: JSON.stringify({ error: { message: "test server: reply queue is empty" } }),
  });
  const state: OpenAiTestServer = {
    baseURL: "",
    requests: [],
    maxInFlight: 0,
    enqueue: (...r) => queue.push(...r),
    reset: () => {
      queue.length = 0;
      state.requests.length = 0;
      state.maxInFlight = 0;
      state.fallback = emptyQueue;
    },
    fallback: emptyQueue,
    close: () => Promise.resolve(),
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, inFlight);
    try {
      const text = await readBody(req);
      let body: ChatRequestBody = {};
      try {
        body = JSON.parse(text) as ChatRequestBody;
      } catch {
        // Recorded as empty; the reply below still comes from the script.
      }
      state.requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      // Anthropic's Messages API, answered from the same script, so the anthropic kind can be checked end to end.
      const anthropic = req.method === "POST" && req.url?.endsWith("/messages") === true;
      if (!anthropic && (req.method !== "POST" || !req.url?.endsWith("/chat/completions"))) {
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}` } }));
        return;
      }
      if (body.stream) {
        res.writeHead(400, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: "test server does not stream" } }));
        return;
      }
      const reply = queue.shift() ?? state.fallback(body);
      if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
      if ("status" in reply) {
        res.writeHead(reply.status, { "content-type": "application/json", ...reply.headers });
        res.end(reply.body ?? JSON.stringify({ error: { message: `scripted HTTP ${reply.status}` } }));
      } else if ("rawBody" in reply) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(reply.rawBody);
      } else if (anthropic) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(messagesBody(body.model ?? "test", reply.content, state.requests.length));
      } else {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          completionBody(body.model ?? "test", reply.content, reply.finishReason ?? "stop", state.requests.length),
        );
      }
    } finally {
      inFlight--;
    }
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      res.writeHead(500);
      res.end(String(e));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  state.baseURL = `http://127.0.0.1:${port}/v1`;
  state.close = () =>
    new Promise<void>((resolve, reject) => {
      server.closeAllConnections();
      server.close((e) => (e ? reject(e) : resolve()));
    });
  return state;
}

/** A loopback port with nothing listening (bound, then released), for dead-server tests. */
export async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
