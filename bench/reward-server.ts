/**
 * Throughput and latency of `mst serve-reward` under the load test's load (10,000 requests, 50 concurrent, a third
 * malformed; each valid request scores 2 rollouts), against a peer measured in the same run: a bare node:http server
 * in its own process that parses the JSON body and answers zeros (no validation, no reward). Both servers run as
 * child processes, so the load generator's CPU is not counted in them.
 *
 *   npm run build && node dist/bench/reward-server.js [--n 10000] [--concurrency 50]
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { trainJobs } from "../src/interop/export-data.js";
import { loadExperiment } from "../src/interop/load-experiment.js";
import { encodeRewardLabel } from "../src/interop/reward-label.js";
import { quantile, runLoad, type LoadResult } from "./reward-load.js";
import { helpAndExit } from "./help.js";

helpAndExit(`
Usage: node dist/bench/reward-server.js [--n 10000] [--concurrency 50]
Throughput and latency of mst serve-reward against a bare node:http peer.
`);

const argv = process.argv.slice(2);
const opt = (f: string, d: number) => (argv.includes(f) ? Number(argv[argv.indexOf(f) + 1]) : d);
const N = opt("--n", 10_000);
const C = opt("--concurrency", 50);

const dir = mkdtempSync(join(tmpdir(), "mst-bench-reward-"));
const spec = join(dir, "syc.yaml");
writeFileSync(spec, "task: sycophancy\npreset: micro\narms: [shuffled]\nseeds: [0]\nbaseSeeds: [0]\n");
const job = trainJobs(await loadExperiment(spec))[0];

const PEER = `
const http = require("node:http");
const s = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    let n = 0, status = 200;
    try { const b = JSON.parse(Buffer.concat(chunks).toString("utf8")); n = Array.isArray(b.query) ? b.query.length : 0; if (!Array.isArray(b.labels) || b.labels.length !== n) status = 400; } catch { status = 400; }
    const text = JSON.stringify(status === 200 ? { rewards: Array(n).fill(0), scores: Array(n).fill(0), extra_logs: {} } : { error: "bad" });
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
    res.end(text);
  });
});
s.listen(0, "127.0.0.1", () => console.log("serving http://127.0.0.1:" + s.address().port + "/get_reward"));
`;

function startServer(cmd: string, args: string[]): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+\/get_reward)/.exec(out);
      if (m) resolve({ child, url: m[1] });
    });
    child.on("exit", (code) => reject(new Error(`${cmd} exited with ${code} before listening`)));
  });
}

const MALFORMED = [
  "{oops",
  JSON.stringify({ query: ["a"], prompts: [], labels: [] }),
  JSON.stringify({ query: ["q"], prompts: [""], labels: ["{}"] }),
];
function make(i: number) {
  if (i % 3 === 2)
    return { body: MALFORMED[((i - 2) / 3) % 3], check: (s: number) => (s === 400 ? null : `malformed: ${s}`) };
  const idx = [i % job.rows.length, (i + 1) % job.rows.length];
  const prompts = idx.map(
    (k) => `<|im_start|>user\n${job.rows[k].messages[0].content}<|im_end|>\n<|im_start|>assistant\n`,
  );
  return {
    body: JSON.stringify({
      query: prompts.map((p, k) => p + (k ? "incorrect" : "correct")),
      prompts,
      labels: idx.map((k) => encodeRewardLabel(job.labels[k])),
    }),
    check: (s: number) => (s === 200 ? null : `valid: ${s}`),
  };
}

function report(name: string, r: LoadResult) {
  const valid = r.latencies.length;
  console.log(
    `${name.padEnd(14)} ${(r.n / r.seconds).toFixed(0).padStart(6)} req/s  p50 ${quantile(r.latencies, 0.5).toFixed(2)} ms  p99 ${quantile(r.latencies, 0.99).toFixed(2)} ms  ` +
      `(${valid} answered: ${JSON.stringify(r.statuses)}, ${r.failures.length} failures, ${r.seconds.toFixed(2)} s)`,
  );
}

const main = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const mst = await startServer(process.execPath, [main, "serve-reward", "--spec", spec, "--port", "0", "--quiet"]);
const peer = await startServer(process.execPath, ["-e", PEER]);
console.log(`load: ${N} requests, ${C} concurrent, a third malformed, 2 rollouts per valid request (loopback)`);
// warm both up (JIT, sockets) before measuring
await runLoad(mst.url, 500, C, make);
await runLoad(peer.url, 500, C, make);
const rm = await runLoad(mst.url, N, C, make);
// the peer validates nothing, so only its status counts are shown, not the mst checks
const rp = await runLoad(peer.url, N, C, (i) => ({ body: make(i).body, check: () => null }));
report("mst reward", rm);
report("bare peer", rp);
console.log(
  `ratio mst/peer: throughput ${(rm.n / rm.seconds / (rp.n / rp.seconds)).toFixed(2)}, p99 ${(quantile(rm.latencies, 0.99) / quantile(rp.latencies, 0.99)).toFixed(2)}`,
);
mst.child.kill("SIGTERM");
peer.child.kill("SIGTERM");
if (rm.failures.length > 0) {
  console.error(`failures: ${rm.failures.slice(0, 5).join("; ")}`);
  process.exitCode = 1;
}
