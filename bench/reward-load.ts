/**
 * A bounded HTTP load generator for the reward server (used by bench/reward-server.ts and the load test): N POSTs,
 * at most `concurrency` in flight over keep-alive sockets, each request's latency recorded.
 */
import { Agent, request } from "node:http";

export interface LoadRequest {
  body: string;
  /** Checks the answer; returns a failure message or null. */
  check(status: number, body: string): string | null;
}

export interface LoadResult {
  n: number;
  seconds: number;
  /** Latencies in ms, in completion order. */
  latencies: number[];
  failures: string[];
  statuses: Record<number, number>;
}

function post(
  agent: Agent,
  url: URL,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: "POST",
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** Sends `n` requests (`make(i)` builds the i-th), `concurrency` at a time; never throws for a failed request. */
export async function runLoad(
  url: string,
  n: number,
  concurrency: number,
  make: (i: number) => LoadRequest,
  headers: Record<string, string> = {},
): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const u = new URL(url);
  const latencies: number[] = [];
  const failures: string[] = [];
  const statuses: Record<number, number> = {};
  let next = 0;
  const t0 = process.hrtime.bigint();
  async function worker() {
    while (next < n) {
      const i = next++;
      const r = make(i);
      const s = process.hrtime.bigint();
      try {
        const res = await post(agent, u, r.body, headers);
        latencies.push(Number(process.hrtime.bigint() - s) / 1e6);
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        const f = r.check(res.status, res.text);
        if (f !== null) failures.push(`#${i}: ${f}`);
      } catch (e) {
        failures.push(`#${i}: ${(e as Error).message}`);
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  return { n, seconds: Number(process.hrtime.bigint() - t0) / 1e9, latencies, failures, statuses };
}

/** The q-quantile (0..1) of `xs` (nearest rank). */
export function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}
