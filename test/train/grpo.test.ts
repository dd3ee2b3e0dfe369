/** GRPO trainer tests on a real (bigram) policy without a value head: bandit learning, groups, KL, resume, guards. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readMetrics, TrainCheckpointError, TrainConfigError, trainGrpo } from "../../src/train/index.js";
import type { GrpoConfigInput, PpoEnv } from "../../src/train/index.js";
import { TableModel } from "./helpers/table-model.js";

const V = 4; // 0: the prompt token, 1 and 2: the two arms, 3: a third (never rewarded) token
function bandit(rewardA: number, rewardB: number): PpoEnv {
  return {
    prompts: (_step, _rng, n) => Array.from({ length: n }, () => ({ tokens: [0] })),
    reward: (_p, r) => (r[0] === 1 ? rewardA : r[0] === 2 ? rewardB : 0),
  };
}

function probs(m: TableModel, row = 0): number[] {
  const r = [...m.table.data.subarray(row * V, row * V + V)];
  const mx = Math.max(...r);
  const e = r.map((x) => Math.exp(x - mx));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

const base: GrpoConfigInput = {
  lr: 0.05,
  batchSize: 32,
  numGenerations: 4,
  miniBatchSize: 8,
  gradAccum: 2,
  numIterations: 2,
  steps: 40,
};

test("GRPO on a two-armed bandit learns the better arm, with no value head", async () => {
  const m = new TableModel(V, false);
  const res = await trainGrpo(m, bandit(0.2, 1.0), { ...base, seed: 1 });
  assert.equal(m.hasValueHead, false);
  const p = probs(m);
  assert.ok(p[2] > 0.9, `p(better arm) = ${p[2].toFixed(3)}`);
  assert.ok(res.last !== null && res.last.reward_mean! > 0.85, `last reward ${res.last?.reward_mean}`);
});

test("each prompt is answered numGenerations times and the environment is asked for batchSize / G prompts", async () => {
  const asked: number[] = [];
  const seen: number[][] = [];
  let k = 0;
  const env: PpoEnv<{ tokens: number[]; key: string }> = {
    prompts: (_s, _r, n) => {
      asked.push(n);
      return Array.from({ length: n }, () => ({ tokens: [0], key: String(k++) }));
    },
    rewards: (batch) => {
      seen.push(batch.map((x) => Number(x.prompt.key)));
      return batch.map(() => 1);
    },
  };
  const res = await trainGrpo(new TableModel(V, false), env, { ...base, steps: 2 });
  assert.deepEqual(asked, [8, 8]);
  // prompt i's four completions are consecutive: keys 0,0,0,0,1,1,1,1,...
  assert.deepEqual(
    seen[0],
    Array.from({ length: 32 }, (_, i) => Math.floor(i / 4)),
  );
  // equal rewards in every group: nothing to learn, all groups counted as zero-std
  assert.equal(res.last!.frac_reward_zero_std, 1);
});

test("only the relative reward within a group matters: a per-prompt offset changes nothing", async () => {
  // prompts 0 and 3 (each its own table row) prefer the same answer; +10 on every reward of prompt 3 is removed by
  // centring within the group, so both runs train the same table
  const env = (offset: number): PpoEnv => ({
    prompts: (_s, _r, n) => Array.from({ length: n }, (_, i) => ({ tokens: [i % 2 === 0 ? 0 : 3] })),
    reward: (p, r) => (r[0] === 2 ? 1 : 0) + (p.tokens[0] === 3 ? offset : 0),
  });
  const a = new TableModel(V, false),
    b = new TableModel(V, false);
  await trainGrpo(a, env(0), { ...base, steps: 6, seed: 3 });
  await trainGrpo(b, env(10), { ...base, steps: 6, seed: 3 });
  for (let i = 0; i < a.table.data.length; i++)
    assert.ok(Math.abs(a.table.data[i] - b.table.data[i]) < 1e-5, `table[${i}]`);
});

test("beta > 0 keeps the policy nearer the frozen reference (k3 KL in the loss)", async () => {
  const kls: number[] = [];
  for (const beta of [0, 0.5]) {
    const m = new TableModel(V, false);
    const res = await trainGrpo(m, bandit(0.2, 1), { ...base, steps: 25, seed: 4, beta, logKl: true });
    kls.push(res.last!.kl!);
    if (beta > 0) assert.ok(res.last!.kl_k3! > 0, "k3 estimate logged");
  }
  assert.ok(kls[1] < kls[0] / 2, `KL with beta 0.5: ${kls[1]}; without: ${kls[0]}`);
});

test("multi-token completions: GRPO learns a two-token sequence rewarded only at its end, under every loss_type", async () => {
  for (const lossType of ["grpo", "bnpo", "dr_grpo", "dapo"] as const) {
    const m = new TableModel(V, false);
    const env: PpoEnv = {
      prompts: (_s, _r, n) => Array.from({ length: n }, () => ({ tokens: [0] })),
      reward: (_p, r) => (r[0] === 1 && r[1] === 2 ? 1 : 0),
    };
    const res = await trainGrpo(m, env, { ...base, lr: 0.1, steps: 40, maxNewTokens: 2, seed: 5, lossType });
    assert.ok(res.last!.reward_mean! > 0.7, `${lossType}: reward ${res.last!.reward_mean}`);
  }
});

const resumeCfg: GrpoConfigInput = {
  ...base,
  steps: 8,
  checkpointEvery: 3,
  temperature: { start: 1.5, end: 1, fraction: 0.5 },
  entropy: { start: 0.5, end: 0.01 },
  beta: 0.1,
  scaleRewards: "batch",
  epsilonHigh: 0.28,
};

test("a GRPO run crashed mid-way and resumed equals an uninterrupted run, bit for bit", async () => {
  const dirA = mkdtempSync(join(tmpdir(), "mst-grpo-a-")),
    dirB = mkdtempSync(join(tmpdir(), "mst-grpo-b-"));
  try {
    const a = new TableModel(V, false);
    await trainGrpo(a, bandit(0.2, 1), resumeCfg, { outDir: dirA });
    await assert.rejects(
      async () =>
        await trainGrpo(new TableModel(V, false), bandit(0.2, 1), resumeCfg, {
          outDir: dirB,
          onProgress: (step) => {
            if (step === 5) throw new Error("simulated crash");
          },
        }),
      /simulated crash/,
    );
    // the crashed run logged steps 1..5 but checkpointed only at 3: resume truncates the log back to step 3
    assert.equal(readMetrics(join(dirB, "metrics.jsonl")).length, 5);
    const b = new TableModel(V, false);
    const res = await trainGrpo(b, bandit(0.2, 1), resumeCfg, { outDir: dirB, resume: true });
    assert.equal(res.resumedFrom, 3);
    const strip = (f: string) => readMetrics(f).map(({ tokens_per_s: _t, ...m }) => m);
    assert.deepEqual(strip(join(dirB, "metrics.jsonl")), strip(join(dirA, "metrics.jsonl")));
    assert.deepEqual(b.table.data, a.table.data);
    // a changed GRPO knob is refused by name
    await assert.rejects(
      trainGrpo(
        new TableModel(V, false),
        bandit(0.2, 1),
        { ...resumeCfg, lossType: "bnpo" },
        {
          outDir: dirB,
          resume: true,
        },
      ),
      (e: unknown) => e instanceof TrainCheckpointError && /differs .* in: lossType/.test(e.message),
    );
  } finally {
    rmSync(dirA, { recursive: true, force: true });
    rmSync(dirB, { recursive: true, force: true });
  }
});

test("a null reward drops the completion; its group's advantage uses the rest", async () => {
  let calls = 0;
  const env: PpoEnv = {
    prompts: (_s, _r, n) => Array.from({ length: n }, () => ({ tokens: [0] })),
    reward: (_p, r) => (calls++ % 4 === 0 ? null : r[0] === 2 ? 1 : 0),
  };
  const res = await trainGrpo(new TableModel(V, false), env, { ...base, steps: 2 });
  assert.equal(res.last!.skipped, 8);
});

test("bad GRPO input fails before any step, naming the field", async () => {
  await assert.rejects(
    trainGrpo(new TableModel(V, false), bandit(0, 1), { ...base, batchSize: 30 }),
    (e: unknown) => e instanceof TrainConfigError && e.field === "batchSize" && /numGenerations 4/.test(e.message),
  );
  await assert.rejects(
    trainGrpo(new TableModel(V, false), { prompts: bandit(0, 1).prompts }, base),
    (e: unknown) => e instanceof TrainConfigError && e.field === "env",
  );
  await assert.rejects(
    trainGrpo(new TableModel(V, false), bandit(0, 1), { ...base, lora: { rank: 2 } }),
    (e: unknown) => e instanceof TrainConfigError && e.field === "lora",
  );
});
