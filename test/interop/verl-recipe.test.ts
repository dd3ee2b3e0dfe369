/**
 * verl, which cannot be installed here: each key, default and requirement a generated recipe relies on was read in
 * verl's source at VERL_COMMIT and is written down below as a check over the generated run.sh. The parquet files are
 * read back with the real pyarrow and datasets, and the generated compute_score (and TRL's reward function) run on
 * the exported rows in the test venv, against the task's own TypeScript reward.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { exportSpec } from "../../src/interop/export.js";
import { trainJobs } from "../../src/interop/export-data.js";
import { importRuns, pickAdapter } from "../../src/interop/import.js";
import { loadExperiment } from "../../src/interop/load-experiment.js";
import { cleanResponse } from "../../src/interop/python-glue.js";
import { armSampleOfLabel, decodeRewardLabel } from "../../src/interop/reward-label.js";
import { VERL_COMMIT } from "../../src/interop/targets/verl.js";
import { PpoConfigSchema } from "../../src/train/ppo-config.js";
import { runPython, skipUnlessPython, testSourcePath } from "../python-env.js";
import { readJsonl, specFile, tempDir } from "./helpers.js";
import { expandDefaults, gpuCountsOf, runShCommands, runWithStandIns } from "./recipe-args.js";

type Kind = "int" | "float" | "bool" | "str" | "list";

/**
 * Every key the PPO recipe may set, with its type, as in verl/trainer/config/_generated_ppo_trainer.yaml at VERL_COMMIT
 * (Hydra refuses an override of a key that is not there; the dataclasses in verl/workers/config type-check values).
 */
const PPO_KEYS: Record<string, Kind> = {
  "data.train_files": "str",
  "data.val_files": "str",
  "data.prompt_key": "str",
  "data.train_batch_size": "int",
  "data.max_prompt_length": "int",
  "data.max_response_length": "int",
  "data.seed": "int",
  "algorithm.adv_estimator": "str",
  "algorithm.gamma": "float",
  "algorithm.lam": "float",
  "algorithm.use_kl_in_reward": "bool",
  "algorithm.kl_ctrl.kl_coef": "float",
  "actor_rollout_ref.model.path": "str",
  "actor_rollout_ref.model.lora_rank": "int",
  "actor_rollout_ref.model.lora_alpha": "int", // HFModelConfig.lora_alpha: int
  "actor_rollout_ref.model.target_modules": "list",
  "actor_rollout_ref.actor.optim.lr": "float",
  "actor_rollout_ref.actor.optim.lr_scheduler_type": "str",
  "actor_rollout_ref.actor.optim.lr_warmup_steps": "int",
  "actor_rollout_ref.actor.optim.weight_decay": "float",
  "actor_rollout_ref.actor.optim.betas": "list",
  "actor_rollout_ref.actor.ppo_mini_batch_size": "int",
  "actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu": "int",
  "actor_rollout_ref.actor.ppo_epochs": "int",
  "actor_rollout_ref.actor.clip_ratio": "float",
  "actor_rollout_ref.actor.grad_clip": "float",
  "actor_rollout_ref.actor.entropy_coeff": "float",
  "actor_rollout_ref.actor.use_kl_loss": "bool",
  "actor_rollout_ref.actor.kl_loss_coef": "float",
  "actor_rollout_ref.rollout.name": "str",
  "actor_rollout_ref.rollout.n": "int",
  "actor_rollout_ref.rollout.temperature": "float",
  "actor_rollout_ref.rollout.tensor_model_parallel_size": "int",
  "actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu": "int",
  "actor_rollout_ref.rollout.load_format": "str",
  "actor_rollout_ref.ref.log_prob_micro_batch_size_per_gpu": "int",
  "critic.model.path": "str",
  "critic.model.lora_rank": "int",
  "critic.model.lora_alpha": "int",
  "critic.model.target_modules": "list",
  "critic.optim.lr": "float",
  "critic.optim.lr_scheduler_type": "str",
  "critic.optim.lr_warmup_steps": "int",
  "critic.optim.weight_decay": "float",
  "critic.optim.betas": "list",
  "critic.ppo_micro_batch_size_per_gpu": "int",
  "critic.cliprange_value": "float",
  "critic.grad_clip": "float",
  "reward_model.enable": "bool",
  "custom_reward_function.path": "str",
  "custom_reward_function.name": "str",
  "trainer.total_training_steps": "int",
  "trainer.total_epochs": "int",
  "trainer.save_freq": "int",
  "trainer.n_gpus_per_node": "int",
  "trainer.nnodes": "int",
  "trainer.seed": "int",
  "trainer.default_local_dir": "str",
  "trainer.project_name": "str",
  "trainer.experiment_name": "str",
  "trainer.logger": "list",
};

/** The SFT trainer's keys (verl/trainer/config/sft_trainer.yaml with optim/fsdp.yaml at VERL_COMMIT). */
const SFT_KEYS: Record<string, Kind> = {
  "data.train_files": "str",
  "data.val_files": "str",
  "data.multiturn.enable": "bool",
  "data.multiturn.messages_key": "str",
  "data.micro_batch_size_per_gpu": "int",
  "data.train_batch_size": "int",
  "data.max_length": "int",
  "data.truncation": "str",
  "model.partial_pretrain": "str",
  "model.lora_rank": "int",
  "model.lora_alpha": "int",
  "model.target_modules": "list",
  "optim.lr": "float",
  "optim.lr_scheduler": "str",
  "optim.lr_warmup_steps_ratio": "float",
  "optim.weight_decay": "float",
  "optim.betas": "list",
  "optim.clip_grad": "float",
  "trainer.total_epochs": "int",
  "trainer.total_training_steps": "int",
  "trainer.n_gpus_per_node": "int",
  "trainer.nnodes": "int",
  "trainer.seed": "int",
  "trainer.default_local_dir": "str",
  "trainer.project_name": "str",
  "trainer.experiment_name": "str",
  "trainer.logger": "list",
};

const typed: Record<Kind, (v: string) => boolean> = {
  int: (v) => /^-?\d+$/.test(v),
  float: (v) => v.trim() !== "" && Number.isFinite(Number(v)),
  bool: (v) => v === "true" || v === "false",
  str: (v) => v !== "",
  list: (v) => /^\[[^\]]*\]$/.test(v),
};

/** The overrides of one command as a map (values with $MST_GPUS defaults expanded), checked against a key table. */
function overrides(argv: string[], keys: Record<string, Kind>, where: string): Map<string, string> {
  const kv = new Map<string, string>();
  for (const a of argv.filter((w) => /^[a-z_]+\.[\w.]+=/.test(w))) {
    const i = a.indexOf("=");
    const [k, v] = [a.slice(0, i), expandDefaults(a.slice(i + 1))];
    assert.ok(k in keys, `${where}: ${k} is not a key of verl's config at ${VERL_COMMIT}`);
    if (!k.endsWith("path") && !k.endsWith("_files") && !k.endsWith("_dir") && !k.endsWith("partial_pretrain"))
      assert.ok(typed[keys[k]](v), `${where}: ${k}=${v} is not a ${keys[k]}`);
    assert.ok(!kv.has(k), `${where}: ${k} set twice`);
    kv.set(k, v);
  }
  return kv;
}
const int = (kv: Map<string, string>, k: string): number => {
  const v = kv.get(k);
  assert.ok(v !== undefined, `missing ${k}`);
  return Number(v);
};

const dir = tempDir("verl-recipe");
const SYC = "task: sycophancy\npreset: micro\narms: [baseline, mst, shuffled]\nseeds: [0]\nbaseSeeds: [0]\n";

test(`verl PPO: every override is a key of verl ${VERL_COMMIT.slice(0, 8)}, typed as there, with every requirement verl checks`, async () => {
  // micro: 64 prompts, 3 steps; paper: 2,560 prompts, 1,600 steps of 128 (80 passes, beyond verl's default 30 epochs)
  for (const preset of ["micro", "paper"]) {
    const spec = specFile(
      dir,
      `${preset}.yaml`,
      SYC.replace("micro", preset).replace("baseline, mst, shuffled", "mst"),
    );
    const out = join(dir, `ppo-${preset}`);
    await exportSpec({ spec, target: "verl", out });
    const x = await loadExperiment(spec);
    const p = PpoConfigSchema.parse(x.def.train.kind === "rl" ? (x.def.train.ppo?.(x.config) ?? {}) : {});
    const cmds = runShCommands(join(out, "run.sh"));
    const jobs = trainJobs(x);
    // run.sh runs unedited: the launcher gets the overrides with $MST_BASES and $MST_GPUS (1 when unset) expanded
    const ran = runWithStandIns(out);
    assert.deepEqual(
      ran,
      [...cmds.values()].map((argv) => argv.map((w) => expandDefaults(w).replace("$MST_BASES", "/bases"))),
    );
    assert.ok(cmds.size > 0);
    for (const [job, argv] of cmds) {
      const where = `${preset}/${job}`;
      assert.deepEqual(argv.slice(0, 3), ["python3", "-m", "verl.trainer.main_ppo"], where);
      const kv = overrides(argv, PPO_KEYS, where);
      const rows = readJsonl(join(out, "jobs", job, "mst-rows.jsonl")).length;
      // rollout.name is MISSING (???) in verl's config: required
      assert.equal(kv.get("actor_rollout_ref.rollout.name"), "vllm", where);
      // ActorConfig.__post_init__ and validate_config: micro-batch sizes are required without dynamic batch sizes
      // (the critic is used for gae; the ref policy for any KL, set either way)
      for (const k of [
        "actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu",
        "actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu",
        "actor_rollout_ref.ref.log_prob_micro_batch_size_per_gpu",
        "critic.ppo_micro_batch_size_per_gpu",
      ])
        assert.ok(int(kv, k) >= 1, `${where}: ${k}`);
      assert.equal(kv.get("algorithm.adv_estimator"), "gae");
      // validate_config: train_batch_size x rollout.n divisible by the GPUs; the workers divide the mini-batch by
      // the GPUs and assert it is a multiple of the micro-batch; rollout TP must fit the GPUs (its default is 2)
      const gpus = int(kv, "trainer.n_gpus_per_node") * int(kv, "trainer.nnodes");
      assert.equal(gpus, 1, `${where}: one GPU when MST_GPUS is unset`);
      const batch = int(kv, "data.train_batch_size");
      const mini = int(kv, "actor_rollout_ref.actor.ppo_mini_batch_size");
      assert.equal((batch * int(kv, "actor_rollout_ref.rollout.n")) % gpus, 0);
      assert.ok(mini <= batch, `${where}: ppo_mini_batch_size ${mini} > train_batch_size ${batch}`);
      assert.equal(
        ((mini * int(kv, "actor_rollout_ref.rollout.n")) / gpus) %
          int(kv, "actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu"),
        0,
      );
      assert.ok(int(kv, "actor_rollout_ref.rollout.tensor_model_parallel_size") <= gpus);
      // RECIPE.md lists the other GPU counts that pass the same checks
      const counts = gpuCountsOf(readFileSync(join(out, "RECIPE.md"), "utf8"));
      assert.equal(counts[0], 1);
      for (const g of counts) {
        assert.equal(batch % g, 0, `${where}: MST_GPUS=${g}`);
        assert.equal((mini / g) % int(kv, "actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu"), 0, `MST_GPUS=${g}`);
      }
      // mst's step = one rollout batch and ppoEpochs passes of optimizer steps of miniBatch x gradAccum
      assert.equal(batch, p.batchSize);
      assert.equal(mini, p.miniBatchSize * p.gradAccum);
      assert.equal(int(kv, "actor_rollout_ref.actor.ppo_epochs"), p.ppoEpochs);
      // ray_trainer.fit: `for epoch in range(total_epochs)` over a drop_last dataloader, stopping at
      // total_training_steps: the epochs must cover the steps or the run ends short
      assert.equal(int(kv, "trainer.total_training_steps"), p.steps);
      assert.ok(
        int(kv, "trainer.total_epochs") * Math.floor(rows / batch) >= p.steps,
        `${where}: ${kv.get("trainer.total_epochs")} epochs of ${Math.floor(rows / batch)} steps < ${p.steps}`,
      );
      // ray_trainer.fit saves only when save_freq > 0 (then at the last step too); fsdp_workers.save_checkpoint
      // writes the PEFT adapter to <default_local_dir>/global_step_<N>/actor/lora_adapter
      assert.ok(int(kv, "trainer.save_freq") > 0, `${where}: save_freq`);
      assert.equal(kv.get("trainer.default_local_dir"), `jobs/${job}/output`);
      // LoRA: ppo_lora.rst requires rollout.load_format=safetensors; lora_alpha is an int
      assert.ok(int(kv, "actor_rollout_ref.model.lora_rank") > 0);
      assert.equal(kv.get("actor_rollout_ref.rollout.load_format"), "safetensors");
      assert.equal(kv.get("critic.model.lora_rank"), kv.get("actor_rollout_ref.model.lora_rank"));
      // RLHFDataset truncation defaults to "error": the prompt bound must hold every prompt (tokens <= characters)
      const prompts = jobs.find((j) => j.id === job)!.rows.map((r) => r.messages.map((m) => m.content).join(""));
      const longest = Math.max(...prompts.map((t) => t.length));
      assert.ok(int(kv, "data.max_prompt_length") >= longest, `${where}: max_prompt_length below a prompt's length`);
      // the reward module the recipe names is there
      assert.equal(kv.get("custom_reward_function.path"), "mst_reward.py");
      readFileSync(join(out, "mst_reward.py"), "utf8");
      // a verl run's tree as fsdp_workers.save_checkpoint leaves it: mst import picks the last step's adapter
      const steps = int(kv, "trainer.total_training_steps");
      for (const s of [int(kv, "trainer.save_freq") === steps ? 1 : int(kv, "trainer.save_freq"), steps]) {
        const ad = join(out, kv.get("trainer.default_local_dir")!, `global_step_${s}`, "actor", "lora_adapter");
        mkdirSync(ad, { recursive: true });
        writeFileSync(join(ad, "adapter_config.json"), "{}");
      }
      assert.equal(
        pickAdapter(join(out, "jobs", job, "output")),
        join(out, "jobs", job, "output", `global_step_${steps}`, "actor", "lora_adapter"),
      );
    }
    const md = readFileSync(join(out, "RECIPE.md"), "utf8");
    assert.ok(md.includes(VERL_COMMIT), "RECIPE.md names the verl commit it was checked against");
    if (preset === "paper") assert.match(md, /trainer\.total_epochs 80/);
    assert.match(md, /\| base storage \| f32 \|/);
  }
});

test(
  "verl PPO: the parquet reads back in pyarrow and datasets, and compute_score pays as the task's reward",
  {
    skip: skipUnlessPython("pyarrow", "datasets"),
  },
  async () => {
    const spec = specFile(dir, "syc.yaml", SYC);
    const out = join(dir, "ppo-rows");
    await exportSpec({ spec, target: "verl", out });
    const x = await loadExperiment(spec);
    if (x.def.train.kind !== "rl") throw new Error("sycophancy is RL");
    const reward = x.def.train.reward(x.config);
    const responses = ["correct", "Incorrect.", " correct<|im_end|>", "hmm"];
    const jobs = ["train-baseline-b0-s0", "train-mst-b0-s0", "train-shuffled-b0-s0"];
    const all = JSON.parse(runPython(testSourcePath("interop/python/read_exports.py"), ["verl", out, jobs.join(",")]));
    for (const job of jobs) {
      const r = all[job] as {
        arrow_schema: Record<string, string>;
        rows: number;
        features: Record<string, string>;
        first_prompt: { role: string; content: string }[];
        extra_info_index: number[];
        ground_truth: string[];
        scores: number[][];
      };
      assert.equal(r.rows, 64);
      assert.deepEqual(Object.keys(r.arrow_schema), ["data_source", "prompt", "ability", "reward_model", "extra_info"]);
      assert.match(r.arrow_schema.prompt, /^list<.*struct<role: string.*, content: string/);
      assert.match(r.arrow_schema.reward_model, /struct<style: string.*, ground_truth: string/);
      assert.match(r.arrow_schema.extra_info, /index: int64/);
      assert.ok(r.first_prompt.every((m) => typeof m.role === "string" && typeof m.content === "string"));
      assert.deepEqual(
        r.extra_info_index,
        Array.from({ length: 64 }, (_, i) => i),
      );
      const want = await Promise.all(
        r.ground_truth.map(async (gt) => {
          const label = decodeRewardLabel(gt);
          return reward(
            responses.map((t) => ({
              sample: armSampleOfLabel(label, ""),
              response: cleanResponse(t),
              responseTokens: [],
            })),
          );
        }),
      );
      assert.deepEqual(r.scores, want, `${job}: compute_score differs from the task's reward`);
      assert.ok(new Set(r.scores.flat()).size >= 3, "the rows exercise several reward values");
    }
  },
);

test(
  "TRL: the generated reward function, called as GRPOTrainer calls it, pays as the task's reward",
  {
    skip: skipUnlessPython("datasets"),
  },
  async () => {
    const spec = specFile(dir, "syc-trl.yaml", SYC);
    const out = join(dir, "trl-rows");
    await exportSpec({ spec, target: "trl", out });
    const x = await loadExperiment(spec);
    if (x.def.train.kind !== "rl") throw new Error("sycophancy is RL");
    const reward = x.def.train.reward(x.config);
    const responses = ["correct", "Incorrect.", " correct<|im_end|>", "hmm"];
    const job = "train-shuffled-b0-s0";
    const r = JSON.parse(runPython(testSourcePath("interop/python/read_exports.py"), ["trl", out, job]))[job] as {
      labels: string[];
      scores: number[][];
    };
    assert.equal(r.labels.length, 64);
    const want = await Promise.all(
      r.labels.map((l) =>
        reward(
          responses.map((t) => ({
            sample: armSampleOfLabel(decodeRewardLabel(l), ""),
            response: cleanResponse(t),
            responseTokens: [],
          })),
        ),
      ),
    );
    assert.deepEqual(r.scores, want);
  },
);

test("verl SFT: keys and requirements of fsdp_sft_trainer, and `mst import` refuses its output (no PEFT adapter)", async () => {
  const spec = specFile(
    dir,
    "pb.yaml",
    "task: political-bias\npreset: quick\narms: [mst]\nseeds: [0]\nbaseSeeds: [0]\n",
  );
  const out = join(dir, "sft");
  await exportSpec({ spec, target: "verl", out });
  const x = await loadExperiment(spec);
  if (x.def.train.kind !== "sft") throw new Error("political-bias is SFT");
  const s = x.def.train.sft(x.config);
  for (const [job, argv] of runShCommands(join(out, "run.sh"))) {
    assert.deepEqual(argv.slice(0, 2), ["torchrun", "--standalone"]);
    assert.ok(argv.includes("verl.trainer.fsdp_sft_trainer"));
    assert.ok(argv.includes("--nproc_per_node=${MST_GPUS:-1}"));
    const kv = overrides(argv, SFT_KEYS, job);
    const rows = readJsonl(join(out, "jobs", job, "mst-rows.jsonl")).length;
    const gpus = int(kv, "trainer.n_gpus_per_node");
    const global = int(kv, "data.train_batch_size");
    // fsdp_sft_trainer: the global batch is divided by the GPUs and must be a multiple of the micro-batch
    for (const g of [gpus, ...gpuCountsOf(readFileSync(join(out, "RECIPE.md"), "utf8"))]) {
      assert.equal(global % g, 0, `MST_GPUS=${g}`);
      assert.equal((global / g) % int(kv, "data.micro_batch_size_per_gpu"), 0, `MST_GPUS=${g}`);
    }
    assert.equal(kv.get("data.multiturn.enable"), "true");
    // truncation defaults to "error" (a long row would stop the run)
    assert.equal(kv.get("data.truncation"), "right");
    // warm-up: int(total_steps x ratio) with total_steps = floor(rows / global) x total_epochs (drop_last)
    const total = Math.floor(rows / global) * int(kv, "trainer.total_epochs");
    assert.ok(total >= 1);
    assert.equal(
      Math.trunc(total * Number(kv.get("optim.lr_warmup_steps_ratio"))),
      Math.min(s.warmupSteps ?? 0, total),
    );
    assert.equal(kv.get("model.lora_alpha"), String(s.lora?.alpha));
  }
  const md = readFileSync(join(out, "RECIPE.md"), "utf8");
  assert.match(md, /saves FSDP shards, not a PEFT adapter/);
  // what fsdp_sft_trainer leaves: FSDP shards and a huggingface/ config, no adapter_config.json
  const job = [...runShCommands(join(out, "run.sh")).keys()][0];
  const shard = join(out, "jobs", job, "output", "global_step_4");
  mkdirSync(join(shard, "huggingface"), { recursive: true });
  writeFileSync(join(shard, "model_world_size_1_rank_0.pt"), "");
  await assert.rejects(
    importRuns({ target: "verl", dir: out, out: join(dir, "imported") }),
    /verl SFT: no PEFT adapter .*fsdp_sft_trainer saves FSDP shards .*global_step_4.*model_merger merge/s,
  );
  // verl's model merger writes the adapter with lora_alpha 0: import names the value to set
  const merged = join(out, "jobs", job, "output", "merged", "lora_adapter");
  mkdirSync(merged, { recursive: true });
  writeFileSync(
    join(merged, "adapter_config.json"),
    JSON.stringify({ r: 16, lora_alpha: 0, target_modules: ["q_proj"], peft_type: "LORA" }),
  );
  await assert.rejects(
    importRuns({ target: "verl", dir: out, out: join(dir, "imported2") }),
    new RegExp(`lora_alpha is 0 \\(verl's model merger does not record it\\): set it to ${s.lora?.alpha}`),
  );
});

test("verl: a base held in NF4 (the seed's QLoRA) is said to be inexpressible, in the knob table and its summary", async () => {
  const spec = specFile(
    dir,
    "pb-nf4.yaml",
    "task: political-bias\npreset: paper\narms: [mst]\nseeds: [0]\nbaseSeeds: [0]\n" +
      "overrides:\n  base:\n    checkpoint: /models/Llama-3.2-3B-Instruct\n    storage: nf4\n",
  );
  const out = join(dir, "sft-nf4");
  await exportSpec({ spec, target: "verl", out });
  const md = readFileSync(join(out, "RECIPE.md"), "utf8");
  assert.match(md, /\| base storage \| nf4 \| .* \| unsupported \| verl has no 4-bit base/);
  assert.match(md, /- \*\*base storage\*\* \(nf4\): verl has no 4-bit base/);
  // the checkpoint path goes to verl as written
  assert.match(readFileSync(join(out, "run.sh"), "utf8"), /model\.partial_pretrain=\/models\/Llama-3\.2-3B-Instruct/);
});
