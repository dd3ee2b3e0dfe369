/**
 * A judge whose every answer is off its schema: the evaluation must not finish with every sample unscored and
 * numbers that look like results. The job fails naming the label, the count and the first reason, exit 1, and
 * samples.jsonl keeps the answers. The run is real (tiny pretraining and SFT here); its LLM judge answers over real
 * HTTP on loopback.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { existsSync, readFileSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { MONITOR_YAML, writeExperiment } from "../tasks/custom/fixture.js";

const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
const failedJob = (err: string): string => /job (eval-\S+) failed/.exec(err)?.[1] ?? "?";

test("every judge answer off-schema: exit 1 naming the label and why, samples kept, no results.json", async (t) => {
  let judged = 0;
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json" });
      if (req.url?.endsWith("/models"))
        return res.end(JSON.stringify({ data: [{ id: "baseline" }, { id: "mst" }, { id: "judge" }] }));
      const isJudge = (JSON.parse(body) as { model: string }).model === "judge";
      if (isJudge) judged++;
      // the evaluated models answer a verdict; the judge answers prose, never the JSON its schema asks for
      const content = isJudge ? "I think this is quite good overall." : "correct";
      res.end(
        JSON.stringify({
          id: "x",
          object: "chat.completion",
          created: 0,
          model: "m",
          choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
          usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.after(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  const { dir, spec } = writeExperiment(`task: custom
arms: [baseline, mst]
seeds: [0]
baseSeeds: [0]
overrides:
  train: { samples: train.jsonl }
  eval: { samples: eval.jsonl }
${MONITOR_YAML}  trainer: { kind: sft }
  judge:
    kind: llm
    provider: { kind: openai-compatible, model: judge, baseURL: "${url}", retries: 0, structuredOutput: text }
    rubric: "Score {output} from 0 to 1."
`);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // a real local run: tiny pretraining and SFT here, the evaluation's judge over HTTP
  const child = spawn(process.execPath, [CLI, "run", "--spec", spec, "--out", join(dir, "run"), "--jobs", "2"], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, MST_DEBUG: "" },
  });
  let err = "";
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((r) => child.on("close", r));
  assert.equal(code, 1, err);
  assert.match(
    err,
    /^mst: job eval-\S+ failed: the judge scored none of the \d+ answers at label \S+ \(first: .+\); see .*samples\.jsonl/m,
  );
  assert.ok(judged > 0, "the judge was asked");
  assert.ok(!existsSync(join(dir, "run", "results.json")), "no results were written as if measured");
  const samples = readFileSync(join(dir, "run", "jobs", failedJob(err), "samples.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { score: unknown; unscored?: string });
  assert.ok(samples.length > 0 && samples.every((s) => s.score === null && typeof s.unscored === "string"));
});
