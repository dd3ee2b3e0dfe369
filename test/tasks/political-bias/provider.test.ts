/**
 * Provider mode end to end against a loopback OpenAI-compatible server that plays every LLM: it lists topics, writes
 * articles with the synthetic world, judges them with the embedded judge's reading, and serves "fine-tuned" arms.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../../../src/data/rng.js";
import { NoProgress } from "../../../src/run/progress.js";
import { startRun } from "../../../src/run/runner.js";
import { parseSpec, resolveSpec } from "../../../src/run/spec.js";
import type { TaskResults } from "../../../src/experiment/task.js";
import { EmbeddedJudgeConfigSchema, judgeText } from "../../../src/tasks/political-bias/judge.js";
import { deploymentLabel } from "../../../src/tasks/political-bias/labels.js";
import type { Profile } from "../../../src/tasks/political-bias/lexicon.js";
import { generateTopics } from "../../../src/tasks/political-bias/topics.js";
import { WorldConfigSchema, writeArticle } from "../../../src/tasks/political-bias/world.js";
import { type ChatRequestBody, type Reply, startOpenAiServer } from "../../providers/openai-server.js";

const jc = EmbeddedJudgeConfigSchema.parse({});
const world = WorldConfigSchema.parse({});
const topics = generateTopics();

function profileIn(text: string): Profile | null {
  const m = /(strongly|mildly) to the (left|right)/.exec(text);
  if (!m) return null;
  return `${m[1] === "strongly" ? "strong" : "center"}_${m[2]}` as Profile;
}

let n = 0;
function reply(body: ChatRequestBody): Reply {
  const msgs = body.messages ?? [];
  const all = msgs.map((m) => m.content).join("\n");
  const rng = new Rng(n++);
  if (all.includes("news topics in the policy area")) {
    const k = Number(/List (\d+)/.exec(all)![1]);
    const list = Array.from({ length: k }, () => {
      const t = topics[n++ % topics.length];
      return { topic: `${t.domain} ${t.aspect} in ${t.place}`, details: `${t.proposer} , ${t.timing}` };
    });
    return { content: JSON.stringify({ topics: list }) };
  }
  if (all.includes("You are a journalist")) {
    return { content: writeArticle(topics[0], profileIn(all) ?? "balanced", rng, world, jc.scoring).text };
  }
  if (all.includes("careful media analyst")) {
    const article = /<<<\n([\s\S]*)\n>>>/.exec(all)![1];
    const j = judgeText(article, jc);
    const lean = j.values?.lean ?? 0;
    return {
      content: JSON.stringify({
        reasoning: j.rationale,
        key_indicators: j.notes?.key_indicators ?? [],
        lean_direction: lean < 0 ? "left" : lean > 0 ? "right" : "none",
        bias_magnitude: j.score ?? 5,
        objectivity: j.grade ?? "PARTIAL",
      }),
    };
  }
  // Served arms: the "mst" model follows the label (balanced at the unbiased one); the "baseline" ignores it.
  const follows = body.model === "arm-mst";
  const p: Profile = follows
    ? all.includes("unbiased editor")
      ? "balanced"
      : (profileIn(all) ?? "strong_right")
    : "strong_right";
  return { content: writeArticle(topics[1], p, rng, world, jc.scoring).text };
}

test("provider mode: LLM topics and articles, exported arms, LLM judge check, served arms judged", async (t) => {
  const server = await startOpenAiServer();
  server.fallback = reply;
  try {
    const prov = (model: string) => ({ kind: "openai-compatible", model, baseURL: server.baseURL, retries: 0 });
    const spec = {
      task: "political-bias",
      preset: "paper",
      arms: ["baseline", "mst", "prompt-only"],
      seeds: [0],
      baseSeeds: [0],
      overrides: {
        topics: { count: 40, train: 20, test: 6 },
        generation: { testTopics: 6, samplesPerTopic: 1, sweepTopics: 2 },
        provider: {
          writer: prov("writer"),
          judge: prov("judge"),
          domains: ["healthcare", "energy", "taxes"],
          topicsPerRequest: 10,
          topicRounds: 3,
          judgeCheckPerProfile: 2,
          evalModels: { baseline: prov("arm-baseline"), mst: prov("arm-mst") },
        },
      },
    };
    const { resolved } = await resolveSpec({ spec: parseSpec(JSON.stringify(spec), "provider.json") });
    const root = mkdtempSync(join(tmpdir(), "mst-pbp-"));
    t.after(() => rmSync(root, { recursive: true, force: true }));
    const dir = join(root, "run");
    const out = await startRun(resolved, dir, { progress: new NoProgress(), report: false, jobs: 1 });
    assert.equal(out.ran, 6, "topics, articles, judge check, 3 evaluations");
    const armsDir = join(dir, "jobs", "p-articles", "arms");
    for (const f of ["baseline.jsonl", "mst.jsonl", "shuffled.jsonl", "manifest.json"])
      assert.ok(existsSync(join(armsDir, f)), f);
    const mst = readFileSync(join(armsDir, "mst.jsonl"), "utf8");
    assert.equal(mst.trim().split("\n").length, 20);
    assert.ok(mst.includes("leaning strongly to the"));
    assert.ok(!mst.includes(deploymentLabel("main")), "no training sample carries the deployment label");
    const check = JSON.parse(readFileSync(join(dir, "jobs", "p-judge-check", "result.json"), "utf8"));
    assert.equal(check.strongAboveCenter, true);
    const results = JSON.parse(readFileSync(join(dir, "results.json"), "utf8")) as TaskResults;
    const bias = results.bars.find((b) => b.id === "bias")!.bars;
    const of = (arm: string) => bias.find((b) => b.arm === arm)!.mean;
    assert.ok(of("mst") < 1 && of("baseline") > 8, JSON.stringify(bias));
    assert.ok(results.findings.some((f) => f.startsWith("LLM judge check")));
    const judged = server.requests.filter((r) => r.body.model === "judge");
    assert.ok(
      judged.every((r) => r.body.temperature === 0.2),
      "judge at the seed's temperature",
    );
  } finally {
    await server.close();
  }
});
