/**
 * The round trip of check 4 (TRL as the user runs it), shared by the trl-run-*.test.ts files (one task kind each, so
 * they run side by side): `mst export --target trl`, the exported chat rows rendered by transformers into the ids
 * mst's own format gives for that base, `sh run.sh` (2 optimizer steps on the CPU with the real TRL), `mst import`,
 * and `mst run --resume`. trl-config.test.ts builds every exported key into TRL's own config classes.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadExperiment } from "../../src/interop/load-experiment.js";
import type { ChatMessage } from "../../src/data/text-model.js";
import { loadBaseCheckpoint } from "../../src/experiment/checkpoint-base.js";
import { chatFormat } from "../../src/experiment/runtime.js";
import { readJsonl } from "./helpers.js";
import { runPython, skipUnlessPython, testPython, testSourcePath } from "../python-env.js";

const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
export const skip = skipUnlessPython("trl", "peft", "transformers", "datasets", "torch");
const OFFLINE = {
  HF_HUB_OFFLINE: "1",
  TRANSFORMERS_OFFLINE: "1",
  HF_DATASETS_OFFLINE: "1",
  TOKENIZERS_PARALLELISM: "false",
};

function mst(args: string[]): string {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });
  assert.equal(r.status, 0, `mst ${args.join(" ")}:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** Runs a command to its end without blocking the event loop (a reward server may be answering in this process). */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env, cwd, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (b: Buffer) => (out += b.toString()));
    p.stderr.on("data", (b: Buffer) => (out += b.toString()));
    p.on("exit", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(" ")} (${code}):\n${out}`)),
    );
  });
}

/** `mst serve-reward --port 0` as a child process; resolves with its URL and a stop function. */
function serveReward(spec: string): Promise<{ url: string; stop: () => void }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CLI, "serve-reward", "--spec", spec, "--port", "0", "--quiet"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    p.stdout.on("data", (b: Buffer) => {
      out += b.toString();
      const m = /on (http:\/\/\S+\/get_reward)/.exec(out);
      if (m) resolve({ url: m[1], stop: () => p.kill("SIGTERM") });
    });
    p.stderr.on("data", (b: Buffer) => (out += b.toString()));
    p.on("exit", () => reject(new Error(`mst serve-reward exited:\n${out}`)));
  });
}

export interface Case {
  spec: string;
  dir: string;
  /** The base the recipe trains from: an embedded base `mst run` saves, or the checkpoint directory. */
  checkpoint: string | null;
  kind: "sft" | "rl";
  /** RL reward over HTTP (no Python table). */
  server?: boolean;
}

/** Exported chat rows through transformers' apply_chat_template give the ids of mst's own format for that base. */
async function sameIds(c: Case, modelDir: string, trainFile: string) {
  const x = await loadExperiment(c.spec);
  // as mst's jobs load the base: the checkpoint loader (tokenizer, chat template, stop ids) and the runtime's format
  const { tok, stopIds } = await loadBaseCheckpoint(modelDir);
  const format = c.checkpoint === null ? x.def.base.format!(x.config, tok) : chatFormat(tok, stopIds);
  const rows = readJsonl(trainFile).slice(0, 4);
  const py = runPython(testSourcePath("interop/python/chat_ids.py"), [modelDir], {
    input: rows.map((r) => JSON.stringify(r)).join("\n") + "\n",
  })
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { prompt: number[]; full: number[] | null });
  rows.forEach((r, i) => {
    const prompt = format.encodePrompt(r.prompt as ChatMessage[]);
    assert.deepEqual(py[i].prompt, prompt, `row ${i}: prompt ids`);
    // the completion's ids are the template's business for a user's checkpoint; mst's own templates must match it
    if (c.kind === "sft" && c.checkpoint === null) {
      const completion = (r.completion as ChatMessage[])[0].content;
      assert.deepEqual(
        py[i].full,
        [...prompt, ...format.encodeCompletion(completion)],
        `row ${i}: prompt + completion ids`,
      );
    }
  });
}

/** export -> --check -> same ids -> sh run.sh (2 steps) -> import -> run --resume, as the README says. */
export async function roundTrip(c: Case) {
  const bases = join(c.dir, "bases");
  if (c.checkpoint === null) mst(["run", "--spec", c.spec, "--out", bases, "--jobs", "2"]);
  const exp = join(c.dir, "export");
  mst(["export", "--spec", c.spec, "--target", "trl", "--out", exp]);
  const manifest = JSON.parse(readFileSync(join(exp, "manifest.json"), "utf8")) as {
    kind: string;
    jobs: { id: string; base: number }[];
  };
  assert.equal(manifest.kind, c.kind);
  const job = manifest.jobs[0].id;
  const env = {
    ...process.env,
    ...OFFLINE,
    PATH: `${dirname(testPython)}${delimiter}${process.env.PATH ?? ""}`,
    MST_BASES: bases,
    MST_TRL_MAX_STEPS: "2",
    MST_TRL_MAX_ROWS: "16",
  };
  // the base the recipe names (an embedded base under $MST_BASES, or the checkpoint)
  const model = (JSON.parse(readFileSync(join(exp, "jobs", job, "trl.json"), "utf8")) as { model: string }).model;
  await sameIds(c, model.replace("$MST_BASES", bases), join(exp, "jobs", job, "train.jsonl"));

  const server = c.server ? await serveReward(c.spec) : null;
  try {
    await run("sh", [join(exp, "run.sh")], server ? { ...env, MST_REWARD_URL: server.url } : env);
  } finally {
    server?.stop();
  }
  for (const j of manifest.jobs)
    assert.ok(existsSync(join(exp, "jobs", j.id, "output", "adapter", "adapter_config.json")), j.id);

  const back = join(c.dir, "back");
  const imported = mst([
    "import",
    "--target",
    "trl",
    exp,
    "--out",
    back,
    ...(c.checkpoint === null ? ["--bases", bases] : []),
  ]);
  assert.match(
    imported,
    new RegExp(`imported ${manifest.jobs.length} adapters .*\\(${manifest.jobs.length} loaded against their base\\)`),
  );
  mst(["run", "--resume", back, "--jobs", "2"]);
  const results = JSON.parse(readFileSync(join(back, "results.json"), "utf8")) as { task: string };
  assert.ok(results.task.length > 0);
  for (const j of manifest.jobs) {
    const ev = j.id.replace(/^train-/, "eval-");
    assert.ok(existsSync(join(back, "jobs", ev, "result.json")), `${ev} evaluated`);
  }
}

export const CUSTOM_HEAD = `task: custom
arms: [mst]
seeds: [0]
baseSeeds: [0]
overrides:
  train: { samples: train.jsonl }
  eval: { samples: eval.jsonl, maxTokens: 2, temperature: 1 }
`;
export const CUSTOM_TAIL = `  judge: { kind: exact-match, field: answer }
  metrics:
    - { name: truthful, kind: mean }
  gate: { minScore: 0 }
`;
