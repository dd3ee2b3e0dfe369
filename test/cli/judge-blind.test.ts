/**
 * A judge whose every answer is off its schema: the evaluation must not finish with every sample unscored and
 * numbers that look like results. The run's summary fails saying so, exit 1, with no results.json, and samples.jsonl
 * keeps the answers; when only some answers are unscored a finding counts them. The run is real (tiny pretraining and SFT here); its LLM judge answers over real
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
import { SFT_SPEC_HEAD, writeExperiment } from "../tasks/custom/fixture.js";

const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

/** The judge's answer to a judge prompt: JSON its schema accepts, or prose. */
type JudgePolicy = (judgePrompt: string) => string;

async function runWithJudge(t: import("node:test").TestContext, policy: JudgePolicy) {
  let judged = 0;
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json" });
      if (req.url?.endsWith("/models"))
        return res.end(JSON.stringify({ data: [{ id: "baseline" }, { id: "mst" }, { id: "judge" }] }));
      const req2 = JSON.parse(body) as { model: string; messages: Array<{ content: string }> };
      const isJudge = req2.model === "judge";
      if (isJudge) judged++;
      // the evaluated models answer a verdict; the judge answers as the policy says
      const content = isJudge ? policy(req2.messages.map((m) => m.content).join("\n")) : "correct";
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
  const { dir, spec } = writeExperiment(`${SFT_SPEC_HEAD}  judge:
    kind: llm
    provider: { kind: openai-compatible, model: judge, baseURL: "${url}", retries: 0, structuredOutput: text }
    rubric: "Score the answer {output} to {prompt} from 0 to 1."
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
  return { code, err, dir, judged: () => judged };
}

test("every judge answer off-schema: exit 1 saying nothing was scored, samples kept, no results.json", async (t) => {
  const { code, err, dir, judged } = await runWithJudge(t, () => "I think this is quite good overall.");
  assert.equal(code, 1, err);
  assert.match(
    err,
    /^mst: \S+: summarizing the job results failed: the judge scored none of the \d+ judged answers of the run/m,
  );
  assert.ok(judged() > 0, "the judge was asked");
  assert.ok(!existsSync(join(dir, "run", "results.json")), "no results were written as if measured");
  const samples = readFileSync(join(dir, "run", "jobs", "eval-baseline-b0-s0", "samples.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { score: unknown; unscored?: string });
  assert.ok(samples.length > 0 && samples.every((s) => s.score === null && typeof s.unscored === "string"));
});

test("some judge answers off-schema: the run finishes and a finding counts the unscored answers", async (t) => {
  // the judge answers JSON only for the sums that start with 0 (2 of the 6 evaluation items), prose for the rest
  const { code, err, dir } = await runWithJudge(t, (p) =>
    /\b0\+\d=\d+\?/.test(p) ? '{"rationale": "fine", "score": 1}' : "Looks fine to me.",
  );
  assert.equal(code, 0, err);
  const results = JSON.parse(readFileSync(join(dir, "run", "results.json"), "utf8")) as { findings: string[] };
  const finding = results.findings.find((f) => /judged answers are unscored/.test(f));
  assert.ok(finding, results.findings.join("\n"));
  const [, unscored, total] = /^(\d+) of (\d+) judged answers/.exec(finding)!.map(Number);
  assert.ok(unscored > 0 && unscored < total, finding);
});
