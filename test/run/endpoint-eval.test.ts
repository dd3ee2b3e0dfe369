/**
 * `mst eval` against `mst serve --run DIR` on loopback (both as CLI processes) reproduces the embedded evaluation of
 * the same run with greedy decoding: the same completions and the same metrics, the two sycophancy metrics that read
 * top log-probs included (they reach the judge through the provider's top_logprobs). SIGTERM stops the server.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { EvalResult } from "../../src/experiment/jobs.js";
import type { TaskResults } from "../../src/experiment/task.js";
import { EndpointEvalError, evaluateEndpoint } from "../../src/run/endpoint-eval.js";
import { NoProgress } from "../../src/run/progress.js";
import { modelsFromRun } from "../../src/serve/models.js";
import { MstServer } from "../../src/serve/server.js";
import { startRun } from "../../src/run/runner.js";
import { parseSpec, resolveSpec } from "../../src/run/spec.js";

// dist/test/run/endpoint-eval.test.js -> dist/src/cli/main.js
const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

/** Micro sycophancy with enough pretraining that greedy verdicts vary, evaluated at temperature 0. */
const SPEC = `task: sycophancy
preset: micro
seeds: [0]
baseSeeds: [0]
arms: [baseline, mst, prompt-only]
overrides:
  eval: { temperature: 0 }
  pretrain: { maxSteps: 400, lr: 0.003, batchSize: 32, completionOnlyLoss: true }
  model: { dModel: 32, nHeads: 2, dFf: 64 }
`;

/** The metrics that need top log-probs, which the provider layer does not carry. */
const LOGPROB_METRICS = new Set(["discrimination", "verdictMass"]);

test("mst eval through mst serve --run reproduces the run's own greedy evaluation", async (t) => {
  const root = mkdtempSync(join(tmpdir(), "mst-serve-eval-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const runDir = join(root, "run");
  const { resolved } = await resolveSpec({ spec: parseSpec(SPEC, "serve-eval.yaml") });
  await startRun(resolved, runDir, { progress: new NoProgress(), report: false, jobs: 1 });

  const server = spawn(process.execPath, [CLI, "serve", "--run", runDir, "--port", "0", "--quiet"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  server.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((resolve) => server.on("exit", (code) => resolve(code)));
  t.after(() => {
    if (server.exitCode === null) server.kill("SIGKILL");
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    server.stdout.on("data", (b: Buffer) => {
      out += b.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    server.on("exit", () => reject(new Error(`mst serve exited: ${stderr}`)));
  });
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/v1$/);

  const outDir = join(root, "served");
  const ev = spawnSync(process.execPath, [CLI, "eval", "--run", runDir, "--endpoint", url, "--out", outDir], {
    encoding: "utf8",
  });
  assert.equal(ev.status, 0, ev.stderr);

  server.kill("SIGTERM");
  assert.equal(await exited, 0, stderr);
  assert.match(stderr, /SIGTERM: finishing running requests/);

  // the same jobs, completions, per-item scores and metrics
  const read = <T>(dir: string, id: string, file = "result.json") =>
    JSON.parse(readFileSync(join(dir, "jobs", id, file), "utf8")) as T;
  const lines = (dir: string, id: string) =>
    readFileSync(join(dir, "jobs", id, "samples.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { id: string; label: string; output: string; score: number | null });
  let outputs = new Set<string>();
  for (const id of ["eval-base-b0", "eval-baseline-b0-s0", "eval-mst-b0-s0", "eval-prompt-only-b0-s0"]) {
    const a = read<EvalResult>(runDir, id);
    const b = read<EvalResult>(outDir, id);
    assert.equal(b.main, a.main, id);
    assert.deepEqual(b.perItem, a.perItem, id);
    assert.deepEqual(
      b.labels.map((l) => l.key),
      a.labels.map((l) => l.key),
    );
    a.labels.forEach((la, i) => {
      const lb = b.labels[i];
      for (const [k, m] of Object.entries(la.metrics)) {
        if (LOGPROB_METRICS.has(k)) {
          // the log-probs cross HTTP as JSON numbers: equal to the in-process ones up to float rounding
          assert.ok(m.mean !== null && lb.metrics[k].mean !== null, `${id} ${la.key} ${k}: measured on both sides`);
          assert.ok(
            Math.abs(lb.metrics[k].mean! - m.mean!) < 1e-6,
            `${id} ${la.key} ${k}: ${lb.metrics[k].mean} vs ${m.mean}`,
          );
        } else assert.deepEqual(lb.metrics[k], m, `${id} ${la.key} ${k}`);
      }
    });
    const sa = lines(runDir, id);
    const sb = lines(outDir, id);
    assert.deepEqual(
      sb.map((x) => [x.id, x.label, x.output, x.score]),
      sa.map((x) => [x.id, x.label, x.output, x.score]),
    );
    outputs = new Set([...outputs, ...sa.map((x) => x.output)]);
  }
  assert.ok(outputs.size > 1, `the run's greedy verdicts vary (got ${[...outputs].join(", ")})`);

  // a complete run directory: results.json with the same headline and sycophancy bars, the report, the endpoint record
  const ra = JSON.parse(readFileSync(join(runDir, "results.json"), "utf8")) as TaskResults;
  const rb = JSON.parse(readFileSync(join(outDir, "results.json"), "utf8")) as TaskResults;
  assert.deepEqual(rb.headline, ra.headline);
  const bar = (r: TaskResults) => r.bars.find((x) => x.metric === "sycophancy");
  assert.deepEqual(bar(rb), bar(ra));
  assert.match(rb.findings[0], /^Evaluated through http:\/\/127\.0\.0\.1/);
  for (const f of ["report.html", "summary.md", "endpoint.json", "spec.resolved.json"])
    assert.ok(existsSync(join(outDir, f)), f);
  const provider = read<{ requests: number; retries: number }>(outDir, "eval-mst-b0-s0", "provider.json");
  assert.ok(provider.requests > 0);
  assert.equal(provider.retries, 0);

  // models served under other names (as vLLM's --lora-modules names them): --model-for maps them; a missing one is named
  const { models } = await modelsFromRun(runDir);
  const renamed = new MstServer(
    models.map((m) => ({ ...m, name: `served-${m.name}` })),
    { port: 0 },
  );
  const url2 = await renamed.listen();
  t.after(() => renamed.close());
  const mapped = Object.fromEntries(["baseline", "mst", "prompt-only"].map((a) => [a, `served-${a}`]));
  await assert.rejects(
    evaluateEndpoint(resolved, join(root, "unmapped"), { endpoint: url2, progress: new NoProgress(), report: false }),
    (e: unknown) => e instanceof EndpointEvalError && /serves no model "baseline" for arm baseline/.test(e.message),
  );
  const o = await evaluateEndpoint(resolved, join(root, "mapped"), {
    endpoint: url2,
    modelFor: mapped,
    progress: new NoProgress(),
    report: false,
  });
  assert.deepEqual(o.models, mapped, "no base: the endpoint serves no model named base and none was mapped");
  assert.deepEqual(
    read<EvalResult>(join(root, "mapped"), "eval-mst-b0-s0").perItem,
    read<EvalResult>(runDir, "eval-mst-b0-s0").perItem,
  );
});
