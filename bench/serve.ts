/**
 * `mst serve` under load: throughput (generated tokens/s) and p50/p99 request latency for a bounded number of
 * concurrent clients on loopback, with continuous batching (--max-batch 32) and without (--max-batch 1). The server is
 * the real CLI in a child process; the clients (closed loop: each sends its next request when the last one returns)
 * run here. The machine is shared, so the two modes alternate over rounds; the table shows the median over rounds and
 * the batching/no-batching ratio of each round's throughput.
 *
 *   npx tsc -p . && node dist/bench/serve.js [--clients 16] [--requests 64] [--prompt 16] [--tokens 32] [--rounds 3]
 *     [--size small|medium] [--vocab 400] [--threads 1] [--max-batch 32]
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { saveCheckpoint } from "../src/engine/checkpoint.js";
import { createModel } from "../src/engine/model.js";
import { buildWordLevelTokenizer } from "../src/engine/tokenizer-build.js";
import { helpAndExit } from "./help.js";

helpAndExit(`
Usage: node dist/bench/serve.js [--clients 16] [--requests 64] [--prompt 16] [--tokens 32] [--rounds 3]
  [--size small|medium] [--vocab 400] [--threads 1] [--max-batch 32]
mst serve under load, with and without continuous batching.
`);

const argv = process.argv.slice(2);
const opt = (f: string, d: string) => (argv.includes(f) ? argv[argv.indexOf(f) + 1] : d);
const clients = Number(opt("--clients", "16"));
const requests = Number(opt("--requests", "64"));
const promptLen = Number(opt("--prompt", "16"));
const tokens = Number(opt("--tokens", "32"));
const rounds = Number(opt("--rounds", "3"));
const size = opt("--size", "small");
const threads = opt("--threads", "1");
const maxBatch = opt("--max-batch", "32");
const CLI = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));

const SIZES: Record<string, { dModel: number; nLayers: number; nHeads: number; dFf: number }> = {
  // the embedded tasks' model size
  small: { dModel: 64, nLayers: 2, nHeads: 4, dFf: 172 },
  medium: { dModel: 256, nLayers: 4, nHeads: 8, dFf: 688 },
};

async function startServer(dir: string, batch: string): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn(
    process.execPath,
    [CLI, "serve", "--model", dir, "--port", "0", "--quiet", "--max-batch", batch, "--max-queue", "4096"],
    {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, MST_THREADS: threads },
    },
  );
  let err = "";
  proc.stderr!.on("data", (b: Buffer) => (err += b.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    proc.stdout!.on("data", (b: Buffer) => {
      out += b.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    proc.on("exit", (code) => reject(new Error(`mst serve exited with ${code}: ${err}`)));
  });
  return { proc, url };
}

async function stopServer(proc: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => proc.on("exit", resolve));
  proc.kill("SIGTERM");
  await exited;
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
};
const median = (xs: number[]) => quantile(xs, 0.5);

interface Round {
  tokensPerSec: number;
  p50: number;
  p99: number;
  seconds: number;
}

/** `requests` requests from `clients` closed-loop clients; every request generates exactly `tokens` tokens (ignore_eos). */
async function load(url: string, vocab: number): Promise<Round> {
  const latencies: number[] = [];
  let generated = 0;
  let next = 0;
  const t0 = performance.now();
  const client = async (c: number) => {
    for (let i = next++; i < requests; i = next++) {
      const prompt = Array.from({ length: promptLen }, (_, k) => 1 + ((i * 7919 + k * 104729 + c) % (vocab - 1)));
      const body = JSON.stringify({
        model: "base",
        prompt,
        max_tokens: tokens,
        temperature: 1,
        seed: i,
        ignore_eos: true,
      });
      const s = performance.now();
      const res = await fetch(`${url}/completions`, {
        method: "POST",
        body,
        headers: { "Content-Type": "application/json" },
      });
      const json = (await res.json()) as { usage?: { completion_tokens: number }; error?: { message: string } };
      if (!res.ok) throw new Error(`HTTP ${res.status}: ${json.error?.message}`);
      latencies.push(performance.now() - s);
      generated += json.usage!.completion_tokens;
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, c) => client(c)));
  const seconds = (performance.now() - t0) / 1000;
  return { tokensPerSec: generated / seconds, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), seconds };
}

async function main(): Promise<void> {
  const shape = SIZES[size];
  if (!shape) throw new Error(`--size: ${size} is not one of ${Object.keys(SIZES).join(", ")}`);
  // letter-only words (the word-level tokenizer splits digits off), about the embedded tasks' vocabulary size
  const word = (i: number) =>
    String.fromCharCode(97 + (i % 26), 97 + (Math.floor(i / 26) % 26), 97 + Math.floor(i / 676));
  const words = Array.from({ length: Number(opt("--vocab", "400")) }, (_, i) => word(i)).join(" ");
  const tok = buildWordLevelTokenizer([words]);
  const dir = mkdtempSync(join(tmpdir(), "mst-bench-serve-"));
  try {
    const model = createModel(
      { vocabSize: tok.vocabSize, ...shape, maxSeq: Math.max(64, promptLen + tokens + 2) },
      { seed: 1 },
    );
    await saveCheckpoint(dir, model, { tokenizer: tok });
    console.log(
      `mst serve bench: ${size} model (d${shape.dModel} L${shape.nLayers}, vocab ${tok.vocabSize}), ${clients} concurrent clients, ` +
        `${requests} requests x ${tokens} new tokens (prompt ${promptLen}), MST_THREADS=${threads}, ${rounds} rounds`,
    );
    const modes = [
      { name: `batching (--max-batch ${maxBatch})`, batch: maxBatch },
      { name: "no batching (--max-batch 1)", batch: "1" },
    ];
    const results: Round[][] = modes.map(() => []);
    for (let r = 0; r < rounds; r++)
      for (let m = 0; m < modes.length; m++) {
        const { proc, url } = await startServer(dir, modes[m].batch);
        try {
          await load(url, tok.vocabSize); // warm-up (JIT, KV cache allocation), not counted
          const res = await load(url, tok.vocabSize);
          results[m].push(res);
          console.log(
            `  round ${r + 1} ${modes[m].name}: ${res.tokensPerSec.toFixed(0)} tok/s, p50 ${res.p50.toFixed(0)} ms, p99 ${res.p99.toFixed(0)} ms`,
          );
        } finally {
          await stopServer(proc);
        }
      }
    console.log("");
    console.log("| mode | tokens/s | p50 latency (ms) | p99 latency (ms) |");
    console.log("|---|---:|---:|---:|");
    modes.forEach((m, i) => {
      const rs = results[i];
      console.log(
        `| ${m.name} | ${median(rs.map((x) => x.tokensPerSec)).toFixed(0)} | ${median(rs.map((x) => x.p50)).toFixed(0)} | ${median(rs.map((x) => x.p99)).toFixed(0)} |`,
      );
    });
    const ratios = results[0].map((x, i) => x.tokensPerSec / results[1][i].tokensPerSec);
    console.log(
      `\nthroughput ratio batching / no batching: median ${median(ratios).toFixed(2)}x (rounds: ${ratios.map((x) => x.toFixed(2)).join(", ")})`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
