/**
 * `mst serve-reward`: an HTTP reward server speaking OpenRLHF's remote reward protocol. A POST carries parallel lists
 * `query` (prompt + response as the engine decoded it), `prompts` and `labels` (mst reward labels: each sample's TRUE
 * monitor); the answer is `{rewards, scores, extra_logs}` from the task's own reward function. Every request is
 * validated (JSON, types, list sizes, string sizes, body size) and a bad one gets 400 with the reason; the server
 * never lets a request take it down, and logs each request's latency.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import { describeZodError } from "../data/errors.js";
import type { ExperimentDefinition, RewardFn } from "../experiment/experiment.js";
import { createMonitorLabeler, type MonitorLabeler } from "../monitor/monitor.js";
import type { Condition } from "../experiment/experiment.js";
import { cleanResponse, splitResponse } from "./response-text.js";
import { RewardLabelError, armSampleOfLabel, decodeRewardLabel } from "./reward-label.js";

export interface RewardServerLimits {
  /** Largest request body in bytes. Default 8 MiB. */
  maxBodyBytes: number;
  /** Most items (rollouts) in one request. Default 4096. */
  maxItems: number;
  /** Longest query, prompt or label string in characters. Default 256 Ki. */
  maxStringLength: number;
}
export const DEFAULT_LIMITS: RewardServerLimits = { maxBodyBytes: 8 << 20, maxItems: 4096, maxStringLength: 256 << 10 };

export interface RewardServerOptions {
  def: ExperimentDefinition<unknown>;
  config: unknown;
  conditions: Condition[];
  /** Required bearer token (null: none). */
  apiKey?: string | null;
  limits?: Partial<RewardServerLimits>;
  /** One line per request (method, path, status, items, latency). Default: none. */
  log?: (line: string) => void;
}

/** A request the server refuses, with its HTTP status and the reason sent back. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const StrList = (max: number, items: number, name: string) =>
  z
    .array(z.string().max(max, `${name}: a string is longer than ${max} characters`))
    .max(items, `${name}: more than ${items} items`);

function requestSchema(l: RewardServerLimits) {
  return z.looseObject({
    query: StrList(l.maxStringLength, l.maxItems, "query"),
    prompts: StrList(l.maxStringLength, l.maxItems, "prompts"),
    labels: z
      .array(
        z.union([
          z.string().max(l.maxStringLength, `labels: a string is longer than ${l.maxStringLength} characters`),
          z.record(z.string(), z.unknown()),
        ]),
      )
      .max(l.maxItems, `labels: more than ${l.maxItems} items`),
  });
}

/**
 * The response text: the query after its prompt (OpenRLHF sends prompt + response decoded together, see
 * splitResponse), cut at its end-of-turn token; null when the prompt cannot be found in the query.
 */
export function responseOf(query: string, prompt: string): string | null {
  const r = splitResponse(query, prompt);
  return r === null ? null : cleanResponse(r);
}

const digest = (s: string) => createHash("sha256").update(s).digest();

export interface RewardServer {
  server: Server;
  /** Starts listening; resolves with the bound port (0 picks a free one). */
  listen(port: number, host?: string): Promise<number>;
  close(): Promise<void>;
  /** Requests answered so far, by status. */
  counts: Record<number, number>;
}

export function createRewardServer(o: RewardServerOptions): RewardServer {
  const limits = { ...DEFAULT_LIMITS, ...o.limits };
  const schema = requestSchema(limits);
  const train = o.def.train;
  if (train.kind !== "rl") throw new Error(`task "${o.def.name}" trains with SFT: it has no reward to serve`);
  const reward: RewardFn = train.reward(o.config);
  const labelers = new Map<string, MonitorLabeler>(
    o.conditions.map((c) => [c.name, createMonitorLabeler(o.def.monitor(o.config, c))]),
  );
  const key = o.apiKey ? digest(o.apiKey) : null;
  const counts: Record<number, number> = {};
  const log = o.log ?? (() => {});

  function readBody(req: IncomingMessage): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const declared = Number(req.headers["content-length"] ?? NaN);
      if (declared > limits.maxBodyBytes)
        return reject(new Refusal(400, `body of ${declared} bytes exceeds the ${limits.maxBodyBytes}-byte limit`));
      const chunks: Buffer[] = [];
      let size = 0;
      req.on("data", (c: Buffer) => {
        size += c.length;
        if (size > limits.maxBodyBytes) {
          reject(new Refusal(400, `body exceeds the ${limits.maxBodyBytes}-byte limit`));
          req.removeAllListeners("data");
          req.resume();
        } else chunks.push(c);
      });
      req.on("end", () => resolve(Buffer.concat(chunks)));
      req.on("error", reject);
    });
  }

  async function score(body: Buffer) {
    let json: unknown;
    try {
      json = JSON.parse(body.toString("utf8"));
    } catch {
      throw new Refusal(400, "body is not JSON");
    }
    const p = schema.safeParse(json);
    if (!p.success) {
      // our wording ("required field is missing"), not zod's ("expected array, received undefined")
      const { field, message } = describeZodError(p.error);
      throw new Refusal(400, field ? `${field}: ${message}` : message);
    }
    const { query, prompts, labels } = p.data;
    if (prompts.length !== query.length || labels.length !== query.length)
      throw new Refusal(
        400,
        `query, prompts and labels must have the same length (got ${query.length}, ${prompts.length}, ${labels.length})`,
      );
    const shownIsTrue: number[] = [];
    const items = query.map((q, i) => {
      let label;
      try {
        label = decodeRewardLabel(labels[i]);
      } catch (e) {
        if (e instanceof RewardLabelError) throw new Refusal(400, `labels[${i}]: ${e.message}`);
        throw e;
      }
      if (label.task !== o.def.name)
        throw new Refusal(400, `labels[${i}]: task "${label.task}" is not this server's task "${o.def.name}"`);
      const labeler = labelers.get(label.condition);
      if (!labeler) throw new Refusal(400, `labels[${i}]: unknown condition "${label.condition}"`);
      if (label.monitor.id !== labeler.spec.id)
        throw new Refusal(
          400,
          `labels[${i}]: monitor "${label.monitor.id}" is not the task's monitor "${labeler.spec.id}"`,
        );
      let trueText: string | null = null;
      try {
        trueText = labeler.label(label.monitor);
      } catch {
        throw new Refusal(400, `labels[${i}]: the monitor's parameters do not render as a label`);
      }
      shownIsTrue.push(label.shown === trueText ? 1 : 0);
      return { label, prompt: prompts[i], response: responseOf(q, prompts[i]) };
    });
    // a query whose prompt cannot be found is not scored (paid 0, counted in mst_unsplit) rather than scored whole
    const split = items.filter((it) => it.response !== null);
    const scored =
      split.length === 0
        ? []
        : await reward(
            split.map((it) => ({
              sample: armSampleOfLabel(it.label, it.prompt),
              response: it.response!,
              responseTokens: [] as number[],
            })),
          );
    if (scored.length !== split.length)
      throw new Refusal(500, `the task's reward returned ${scored.length} values for ${split.length} items`);
    let k = 0;
    const raw = items.map((it) => (it.response === null ? null : scored[k++]));
    const rewards = raw.map((r) => (r === null || !Number.isFinite(r) ? 0 : r));
    return {
      rewards,
      scores: rewards,
      extra_logs:
        items.length === 0
          ? {}
          : {
              mst_dropped: raw.map((r) => (r === null ? 1 : 0)),
              mst_unsplit: items.map((it) => (it.response === null ? 1 : 0)),
              mst_shown_is_true: shownIsTrue,
            },
    };
  }

  function authorized(req: IncomingMessage): boolean {
    if (key === null) return true;
    const h = req.headers.authorization ?? "";
    const m = /^Bearer (.+)$/.exec(h);
    return m !== null && timingSafeEqual(digest(m[1]), key);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<{ status: number; items: number }> {
    const send = (status: number, value: unknown, close = false) => {
      const text = JSON.stringify(value);
      res.writeHead(status, {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(text),
        ...(close ? { connection: "close" } : {}),
      });
      res.end(text);
      return status;
    };
    const path = (req.url ?? "/").split("?")[0];
    if (req.method === "GET" && path === "/health")
      return { status: send(200, { ok: true, task: o.def.name }), items: 0 };
    if (path !== "/get_reward" && path !== "/")
      return { status: send(404, { error: `unknown path ${path}; POST /get_reward` }), items: 0 };
    if (req.method !== "POST") return { status: send(405, { error: "use POST" }), items: 0 };
    if (!authorized(req)) return { status: send(401, { error: "missing or wrong bearer token" }, true), items: 0 };
    try {
      const body = await readBody(req);
      const out = await score(body);
      return { status: send(200, out), items: out.rewards.length };
    } catch (e) {
      if (e instanceof Refusal)
        return {
          status: send(e.status, { error: e.message }, e.status === 400 && e.message.includes("limit")),
          items: 0,
        };
      return { status: send(500, { error: `reward failed: ${(e as Error).message}` }), items: 0 };
    }
  }

  const server = createServer((req, res) => {
    const t0 = process.hrtime.bigint();
    req.on("error", () => {});
    res.on("error", () => {});
    handle(req, res)
      .catch(() => {
        if (!res.headersSent) res.writeHead(500).end('{"error":"internal error"}');
        return { status: 500, items: 0 };
      })
      .then(({ status, items }) => {
        counts[status] = (counts[status] ?? 0) + 1;
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        log(`${req.method} ${req.url} ${status} items=${items} ${ms.toFixed(2)}ms`);
      });
  });
  // a malformed HTTP request (bad headers, garbage bytes) gets a 400 on its socket instead of an exception
  server.on("clientError", (_err, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
    else socket.destroy();
  });
  server.keepAliveTimeout = 30_000;

  return {
    server,
    counts,
    listen: (port, host = "127.0.0.1") =>
      new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          resolve((server.address() as AddressInfo).port);
        });
      }),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
