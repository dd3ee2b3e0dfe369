/**
 * `mst serve-reward` on loopback: OpenRLHF-shaped requests scored with the task's reward table at each label's TRUE
 * monitor, malformed requests refused with 400 and a reason, the bearer token, a bounded load test (10,000 requests,
 * 50 at a time, a third malformed) with every valid request answered correctly, and the generated Python glue
 * (verl compute_score, TRL reward function) calling the server under the test venv's Python.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { trainJobs } from "../../src/interop/export-data.js";
import { loadExperiment } from "../../src/interop/load-experiment.js";
import { rewardModule } from "../../src/interop/python-glue.js";
import { encodeRewardLabel } from "../../src/interop/reward-label.js";
import { createRewardServer, type RewardServer } from "../../src/interop/reward-server.js";
import { sycophancyReward, verdictOfText } from "../../src/tasks/sycophancy-addition/reward.js";
import { SYC_MICRO, specFile, tempDir } from "./helpers.js";
import { runLoad } from "../../bench/reward-load.js";
import { testPython } from "../python-env.js";

/** Runs Python without blocking the event loop (the server under test lives in this process). */
function python(
  args: string[],
  input: string,
  env: NodeJS.ProcessEnv,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(testPython, args, { env });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    p.on("close", (status) => resolve({ status, stdout, stderr }));
    p.stdin.end(input);
  });
}

const dir = tempDir("serve");
const x = await loadExperiment(specFile(dir, "syc.yaml", SYC_MICRO));
const shuffled = trainJobs(x).find((j) => j.arm === "shuffled")!;
const RESPONSES = ["correct", "incorrect", "Correct.", "in", "I think so", ""];

/** A rollout as OpenRLHF sends it: the chat-templated prompt, and the query = prompt + response + end marker. */
function rollout(i: number) {
  const row = shuffled.rows[i % shuffled.rows.length];
  const label = shuffled.labels[i % shuffled.rows.length];
  const prompt = `<|im_start|>user\n${row.messages[0].content}<|im_end|>\n<|im_start|>assistant\n`;
  const response = RESPONSES[i % RESPONSES.length];
  const expected = sycophancyReward(
    label.rewardInputs?.candidateCorrect === true,
    verdictOfText(response),
    Number(label.monitor.params.s),
  );
  return { prompt, query: `${prompt}${response}<|im_end|>`, label: encodeRewardLabel(label), expected, response };
}

const servers: RewardServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
});
async function start(apiKey: string | null = null, limits = {}) {
  const s = createRewardServer({ def: x.def, config: x.config, conditions: x.conditions, apiKey, limits });
  servers.push(s);
  const port = await s.listen(0);
  return { s, url: `http://127.0.0.1:${port}/get_reward` };
}
async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

test("answers OpenRLHF-shaped requests with the task's reward table at the TRUE monitor", async () => {
  const { url } = await start();
  const rs = Array.from({ length: 24 }, (_, i) => rollout(i));
  const r = await post(url, {
    query: rs.map((x) => x.query),
    prompts: rs.map((x) => x.prompt),
    labels: rs.map((x) => x.label),
  });
  assert.equal(r.status, 200);
  assert.deepEqual(
    r.json.rewards,
    rs.map((x) => x.expected),
  );
  assert.deepEqual(r.json.scores, r.json.rewards);
  const logs = r.json.extra_logs as { mst_shown_is_true: number[]; mst_dropped: number[] };
  assert.equal(logs.mst_shown_is_true.length, 24);
  // the shuffled arm is paid by its true s, not the label it showed: most shown labels are not the true one
  assert.ok(logs.mst_shown_is_true.filter((v) => v === 1).length < 12);
  const empty = await post(url, { query: [], prompts: [], labels: [] });
  assert.equal(empty.status, 200);
  assert.deepEqual(empty.json, { rewards: [], scores: [], extra_logs: {} });
});

test("refuses malformed requests with 400 and a reason, and wrong methods and paths", async () => {
  const { url } = await start(null, { maxBodyBytes: 64 << 10, maxItems: 100 });
  const ok = rollout(0);
  const bad: [unknown, RegExp][] = [
    ["{not json", /not JSON/],
    [[1, 2], /expected object/i],
    [{ query: [ok.query], prompts: [ok.prompt] }, /labels/],
    [{ query: [ok.query], prompts: [ok.prompt], labels: [ok.label, ok.label] }, /same length/],
    [
      { query: [7], prompts: [ok.prompt], labels: [ok.label] },
      /query\[0\]: Invalid input: expected string, received number/,
    ],
    [{ query: [ok.query], prompts: [ok.prompt], labels: ["nope"] }, /labels\[0\]: label is not JSON/],
    [
      { query: [ok.query], prompts: [ok.prompt], labels: ['{"format":"mst-reward-label/1"}'] },
      /labels\[0\]: label: task/,
    ],
    [
      { query: [ok.query], prompts: [ok.prompt], labels: [ok.label.replace('"task":"sycophancy"', '"task":"other"')] },
      /not this server's task/,
    ],
    [
      {
        query: [ok.query],
        prompts: [ok.prompt],
        labels: [ok.label.replace('"condition":"main"', '"condition":"nowhere"')],
      },
      /unknown condition/,
    ],
    [
      { query: [ok.query], prompts: [ok.prompt], labels: [ok.label.replace('"id":"suggestibility"', '"id":"editor"')] },
      /not the task's monitor/,
    ],
    [
      { query: Array(101).fill("q"), prompts: Array(101).fill(""), labels: Array(101).fill(ok.label) },
      /more than 100 items/,
    ],
    [{ query: ["x".repeat(70 << 10)], prompts: [""], labels: [ok.label] }, /limit/],
  ];
  for (const [body, reason] of bad) {
    const r = await post(url, body);
    assert.equal(r.status, 400, JSON.stringify(body).slice(0, 80));
    assert.match(String(r.json.error), reason);
  }
  assert.equal((await fetch(url)).status, 405);
  assert.equal((await fetch(url.replace("/get_reward", "/other"), { method: "POST", body: "{}" })).status, 404);
  // the server is still up and answering
  assert.equal((await post(url, { query: [ok.query], prompts: [ok.prompt], labels: [ok.label] })).status, 200);
});

test("with an API key, requests without the bearer token get 401", async () => {
  const { url } = await start("s3cret");
  const ok = rollout(1);
  const body = { query: [ok.query], prompts: [ok.prompt], labels: [ok.label] };
  assert.equal((await post(url, body)).status, 401);
  assert.equal((await post(url, body, { authorization: "Bearer wrong" })).status, 401);
  const r = await post(url, body, { authorization: "Bearer s3cret" });
  assert.equal(r.status, 200);
  assert.deepEqual(r.json.rewards, [ok.expected]);
});

test(
  "load: 10,000 requests, 50 concurrent, a third malformed; no valid request fails",
  { timeout: 300_000 },
  async () => {
    const { s, url } = await start();
    const MALFORMED = [
      "{oops",
      JSON.stringify({ query: ["a"], prompts: [], labels: [] }),
      JSON.stringify({ query: ["q"], prompts: [""], labels: ["{}"] }),
    ];
    const r = await runLoad(url, 10_000, 50, (i) => {
      if (i % 3 === 2)
        return {
          body: MALFORMED[((i - 2) / 3) % 3],
          check: (status) => (status === 400 ? null : `malformed answered ${status}`),
        };
      const rs = [rollout(i), rollout(i + 1)];
      const want = JSON.stringify(rs.map((x) => x.expected));
      return {
        body: JSON.stringify({
          query: rs.map((x) => x.query),
          prompts: rs.map((x) => x.prompt),
          labels: rs.map((x) => x.label),
        }),
        check: (status, text) =>
          status === 200 && JSON.stringify((JSON.parse(text) as { rewards: number[] }).rewards) === want
            ? null
            : `valid answered ${status}: ${text.slice(0, 100)}`,
      };
    });
    assert.deepEqual(r.failures.slice(0, 5), []);
    assert.equal(r.statuses[400], 3333);
    assert.equal(r.statuses[200], 6667);
    assert.equal(s.counts[200], 6667);
  },
);

test("the generated Python glue (verl compute_score, TRL reward function) scores through the server under the test venv's Python", async () => {
  const { url } = await start("k3y");
  const file = join(dir, "mst_reward.py");
  writeFileSync(file, rewardModule({ task: "sycophancy", table: null, url }));
  const rs = Array.from({ length: 12 }, (_, i) => rollout(i));
  const env = { ...process.env, MST_REWARD_API_KEY: "k3y" };
  const stdin = rs.map((r) => JSON.stringify({ response: r.response, label: r.label })).join("\n");
  const py = await python([file], stdin, env);
  assert.equal(py.status, 0, py.stderr);
  assert.deepEqual(
    py.stdout.trim().split("\n").map(Number),
    rs.map((r) => r.expected),
  );
  const code = [
    "import json, sys",
    `sys.path.insert(0, ${JSON.stringify(dir)})`,
    "import mst_reward as m",
    "rows = json.load(sys.stdin)",
    'v = [m.compute_score("mst/sycophancy", r["response"] + "<|im_end|>", r["label"], {"split": "train"}) for r in rows]',
    't = m.mst_reward(prompts=[[{"role": "user", "content": "p"}]] * len(rows), completions=[[{"role": "assistant", "content": r["response"]}] for r in rows], mst_label=[r["label"] for r in rows], trainer_state=None)',
    "print(json.dumps([v, t]))",
  ].join("\n");
  const call = await python(["-c", code], JSON.stringify(rs), env);
  assert.equal(call.status, 0, call.stderr);
  const [verl, trl] = JSON.parse(call.stdout) as [number[], number[]];
  assert.deepEqual(
    verl,
    rs.map((r) => r.expected),
  );
  assert.deepEqual(
    trl,
    rs.map((r) => r.expected),
  );
  // without the token the server refuses the glue's requests
  const denied = await python([file], stdin, { ...process.env, MST_REWARD_API_KEY: "" });
  assert.notEqual(denied.status, 0);
  assert.match(denied.stderr, /401/);
});

test("a reward that throws answers 500 with the reason and the server keeps serving; an SFT task has no reward to serve", async () => {
  let calls = 0;
  const def = {
    ...x.def,
    train: {
      kind: "rl" as const,
      ppo: () => ({}),
      reward: () => () => {
        if (calls++ === 0) throw new Error("judge unreachable");
        return [0.5];
      },
    },
  };
  const s = createRewardServer({ def, config: x.config, conditions: x.conditions });
  servers.push(s);
  const url = `http://127.0.0.1:${await s.listen(0)}/get_reward`;
  const ok = rollout(0);
  const body = { query: [ok.query], prompts: [ok.prompt], labels: [ok.label] };
  const first = await post(url, body);
  assert.equal(first.status, 500);
  assert.match(String(first.json.error), /judge unreachable/);
  assert.deepEqual((await post(url, body)).json.rewards, [0.5]);
  const pb = await loadExperiment(
    specFile(dir, "pb.yaml", "task: political-bias\npreset: quick\nseeds: [0]\nbaseSeeds: [0]\n"),
  );
  assert.throws(
    () => createRewardServer({ def: pb.def, config: pb.config, conditions: pb.conditions }),
    /trains with SFT/,
  );
});
