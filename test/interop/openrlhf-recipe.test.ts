/**
 * OpenRLHF, which cannot be installed here: every flag a generated recipe passes was read in OpenRLHF's argparse at
 * OPENRLHF_COMMIT and is written down below with its type and arity; the requirements of train_ppo_ray's train() and
 * asserts, the samples generator (vLLM engines only) and the DeepSpeed strategy are checks over the generated run.sh,
 * which runs unedited against stand-in launchers that record the argument vectors the shell hands them.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { exportSpec } from "../../src/interop/export.js";
import { pickAdapter } from "../../src/interop/import.js";
import { loadExperiment } from "../../src/interop/load-experiment.js";
import { OPENRLHF_COMMIT } from "../../src/interop/targets/openrlhf.js";
import { PpoConfigSchema } from "../../src/train/ppo-config.js";
import { SftConfigSchema } from "../../src/train/sft-config.js";
import { readJsonl, specFile, tempDir } from "./helpers.js";
import { expandDefaults, gpuCountsOf, runShCommands, runWithStandIns } from "./recipe-args.js";

/** argparse type and nargs: "flag" store_true, "float*2" nargs=2, "str*" nargs="*". */
type Arg = "int" | "float" | "str" | "flag" | "float*2" | "str*";

/** Flags shared by train_ppo_ray.py and train_sft.py, as declared in both at OPENRLHF_COMMIT. */
const SHARED: Record<string, Arg> = {
  "--data.input_key": "str",
  "--data.apply_chat_template": "flag",
  "--ckpt.output_dir": "str",
  "--ds.zero_stage": "int",
  "--train.max_epochs": "int",
  "--train.micro_batch_size": "int",
  "--train.batch_size": "int",
  "--train.seed": "int",
  "--ds.param_dtype": "str", // choices bf16, fp16 (default bf16)
  "--ds.load_in_4bit": "flag",
  "--ds.lora.rank": "int",
  "--ds.lora.alpha": "int",
  "--ds.lora.dropout": "float",
  "--ds.lora.target_modules": "str*",
};
/** openrlhf/cli/train_ppo_ray.py (the actor/critic optimizer flags come from its `for prefix in (actor, critic)` loop). */
const PPO_ARGS: Record<string, Arg> = {
  ...SHARED,
  "--actor.model_name_or_path": "str",
  "--critic.model_name_or_path": "str",
  "--data.prompt_dataset": "str",
  "--data.label_key": "str",
  "--reward.remote_url": "str",
  "--actor.num_nodes": "int",
  "--actor.num_gpus_per_node": "int",
  "--critic.num_nodes": "int",
  "--critic.num_gpus_per_node": "int",
  "--ref.num_nodes": "int",
  "--ref.num_gpus_per_node": "int",
  "--vllm.num_engines": "int",
  "--vllm.tensor_parallel_size": "int",
  "--vllm.gpu_memory_utilization": "float",
  "--train.colocate_all": "flag",
  "--vllm.enable_sleep": "flag",
  "--ds.enable_sleep": "flag",
  "--algo.advantage.estimator": "str",
  "--algo.advantage.gamma": "float",
  "--algo.advantage.lambd": "float",
  "--algo.advantage.no_std_norm": "flag",
  "--rollout.batch_size": "int",
  "--rollout.n_samples_per_prompt": "int",
  "--rollout.max_new_tokens": "int",
  "--rollout.temperature": "float",
  "--train.num_episodes": "int",
  "--actor.eps_clip": "float",
  "--critic.value_clip": "float",
  "--algo.kl.init_coef": "float",
  "--algo.kl.use_loss": "flag",
  "--actor.entropy_coef": "float",
  ...Object.fromEntries(
    ["actor", "critic"].flatMap((r) => [
      [`--${r}.adam.lr`, "float"],
      [`--${r}.adam.betas`, "float*2"],
      [`--${r}.adam.eps`, "float"],
      [`--${r}.adam.weight_decay`, "float"],
      [`--${r}.lr_scheduler`, "str"],
      [`--${r}.lr_warmup_ratio`, "float"],
      [`--${r}.min_lr_ratio`, "float"],
      [`--${r}.max_norm`, "float"],
    ]),
  ),
};
/** openrlhf/cli/train_sft.py. */
const SFT_ARGS: Record<string, Arg> = {
  ...SHARED,
  "--model.model_name_or_path": "str",
  "--data.dataset": "str",
  "--data.output_key": "str",
  "--data.max_len": "int",
  "--adam.lr": "float",
  "--adam.betas": "float*2",
  "--adam.eps": "float",
  "--adam.weight_decay": "float",
  "--lr_scheduler": "str",
  "--min_lr_ratio": "float",
  "--lr_warmup_ratio": "float",
  "--max_norm": "float",
};

const isInt = (v: string) => /^-?\d+$/.test(v);
const isFloat = (v: string) => v.trim() !== "" && Number.isFinite(Number(v));

/** The flags after the launcher, parsed as argparse would with the table: unknown flags, arity and types fail. */
function parseFlags(argv: string[], table: Record<string, Arg>, where: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let i = argv.findIndex((w) => w.startsWith("--") && w in table);
  assert.ok(i > 0, `${where}: no flags`);
  while (i < argv.length) {
    const flag = argv[i];
    assert.ok(flag in table, `${where}: ${flag} is not a flag of OpenRLHF at ${OPENRLHF_COMMIT}`);
    assert.ok(!out.has(flag), `${where}: ${flag} given twice`);
    const vals: string[] = [];
    i++;
    while (i < argv.length && !argv[i].startsWith("--")) vals.push(expandDefaults(argv[i++]));
    const t = table[flag];
    const arity = t === "flag" ? 0 : t === "float*2" ? 2 : t === "str*" ? -1 : 1;
    if (arity >= 0) assert.equal(vals.length, arity, `${where}: ${flag} takes ${arity} value(s), got ${vals.length}`);
    else assert.ok(vals.length >= 1, `${where}: ${flag} needs values`);
    if (t === "int") assert.ok(isInt(vals[0]), `${where}: ${flag} ${vals[0]} is not an int`);
    if (t === "float" || t === "float*2") assert.ok(vals.every(isFloat), `${where}: ${flag} ${vals} not float`);
    out.set(flag, vals);
  }
  return out;
}
const num = (m: Map<string, string[]>, f: string, dflt?: number): number => {
  const v = m.get(f);
  if (v === undefined && dflt !== undefined) return dflt;
  assert.ok(v !== undefined, `missing ${f}`);
  return Number(v[0]);
};

const dir = tempDir("openrlhf-recipe");

test(`OpenRLHF PPO: run.sh runs unedited with flags of train_ppo_ray ${OPENRLHF_COMMIT.slice(0, 8)} and its placement requirements`, async () => {
  for (const preset of ["micro", "paper"]) {
    const spec = specFile(
      dir,
      `syc-${preset}.yaml`,
      `task: sycophancy\npreset: ${preset}\narms: [mst, shuffled]\nseeds: [0]\nbaseSeeds: [0]\n`,
    );
    const out = join(dir, `ppo-${preset}`);
    await exportSpec({ spec, target: "openrlhf", out });
    const x = await loadExperiment(spec);
    const p = PpoConfigSchema.parse(x.def.train.kind === "rl" ? (x.def.train.ppo?.(x.config) ?? {}) : {});
    const cmds = runShCommands(join(out, "run.sh"));
    const ran = runWithStandIns(out);
    assert.equal(ran.length, cmds.size);
    let k = 0;
    for (const [job, argv] of cmds) {
      const where = `${preset}/${job}`;
      // what the shell handed the launcher: $MST_BASES and $MST_GPUS expanded (1 when unset), quoting removed
      assert.deepEqual(
        ran[k++],
        ["python3", ...argv.slice(1).map((w) => expandDefaults(w).replace("$MST_BASES", "/bases"))],
        where,
      );
      assert.deepEqual(argv.slice(0, 3), ["python3", "-m", "openrlhf.cli.train_ppo_ray"]);
      const f = parseFlags(argv, PPO_ARGS, where);
      const rows = readJsonl(join(out, "jobs", job, "train.jsonl")).length;
      // samples_generator._generate_vllm dispatches every prompt to a vLLM engine: without engines nothing rolls out
      assert.ok(num(f, "--vllm.num_engines") >= 1, `${where}: no vLLM engines`);
      // train(): colocate_all needs actor GPUs == engines x TP; critic and ref share the actor's placement group
      const gpus = num(f, "--actor.num_nodes") * num(f, "--actor.num_gpus_per_node");
      assert.equal(gpus, 1, `${where}: one GPU when MST_GPUS is unset (argparse's default is 8)`);
      assert.ok(f.has("--train.colocate_all"));
      assert.equal(gpus, num(f, "--vllm.num_engines") * num(f, "--vllm.tensor_parallel_size"));
      for (const role of ["critic", "ref"]) {
        assert.equal(num(f, `--${role}.num_nodes`), num(f, "--actor.num_nodes"), `${where}: ${role} nodes`);
        assert.equal(num(f, `--${role}.num_gpus_per_node`), num(f, "--actor.num_gpus_per_node"));
      }
      // colocated vLLM beside DeepSpeed: its default 0.95 of GPU memory leaves nothing for training
      assert.ok(num(f, "--vllm.gpu_memory_utilization") <= 0.6);
      // the closing assert: n_samples x rollout batch // rollout micro-batch (default 1) >= actor processes
      assert.ok(num(f, "--rollout.n_samples_per_prompt") * num(f, "--rollout.batch_size") >= gpus);
      // DeepSpeed: the global batch is micro-batch x GPUs x a whole accumulation
      for (const g of [gpus, ...gpuCountsOf(readFileSync(join(out, "RECIPE.md"), "utf8"))])
        assert.equal(num(f, "--train.batch_size") % (num(f, "--train.micro_batch_size") * g), 0, `MST_GPUS=${g}`);
      assert.equal(num(f, "--train.batch_size"), p.miniBatchSize * p.gradAccum);
      assert.equal(num(f, "--train.max_epochs"), p.ppoEpochs);
      // run length: each episode is one pass over the prompts, rollout.batch_size per PPO step
      assert.equal(num(f, "--rollout.batch_size"), p.batchSize);
      assert.ok(
        Math.abs(num(f, "--train.num_episodes") * (rows / p.batchSize) - p.steps) <= rows / p.batchSize / 2,
        `${where}: ${num(f, "--train.num_episodes")} episodes of ${rows / p.batchSize} steps for ${p.steps} steps`,
      );
      // gae needs a critic; a remote reward needs the label column
      assert.equal(f.get("--algo.advantage.estimator")?.[0], "gae");
      assert.ok(f.has("--critic.model_name_or_path"));
      assert.equal(f.get("--data.label_key")?.[0], "label");
      assert.ok(f.get("--reward.remote_url")?.[0].startsWith("http://"));
      // warm-up: deepspeed.py takes ceil(scheduler_steps x ratio); scheduler_steps = prompts // train batch x
      // episodes x max_epochs; mst warms up warmupSteps PPO steps (cosine only) of ppoEpochs x batch/train-batch each
      const sched = Math.floor(rows / num(f, "--train.batch_size")) * num(f, "--train.num_episodes") * p.ppoEpochs;
      const perStep = p.ppoEpochs * Math.floor(p.batchSize / num(f, "--train.batch_size"));
      for (const role of ["actor", "critic"])
        assert.equal(
          Math.ceil(sched * num(f, `--${role}.lr_warmup_ratio`)),
          p.lrSchedule === "cosine" ? p.warmupSteps * perStep : 0,
          `${where}: ${role} warm-up`,
        );
      // the critic gets the actor's optimizer (its own defaults differ: betas 0.9,0.95, cosine to 0.1, 3% warm-up)
      for (const opt of [
        "adam.lr",
        "adam.betas",
        "adam.eps",
        "adam.weight_decay",
        "lr_scheduler",
        "min_lr_ratio",
        "max_norm",
      ])
        assert.deepEqual(f.get(`--critic.${opt}`), f.get(`--actor.${opt}`), `${where}: critic ${opt}`);
      // deepspeed.save_model: under ZeRO-3 the adapter is saved as adapter_model.bin, which mst import refuses
      assert.ok(num(f, "--ds.zero_stage") < 3);
      // the PEFT adapter lands in --ckpt.output_dir itself (save_pretrained of the PeftModel)
      const output = join(out, f.get("--ckpt.output_dir")![0]);
      assert.equal(output, join(out, "jobs", job, "output"));
      mkdirSync(output, { recursive: true });
      writeFileSync(join(output, "adapter_config.json"), "{}");
      assert.equal(pickAdapter(output), output);
      assert.ok(Number.isInteger(num(f, "--ds.lora.alpha")));
    }
    const md = readFileSync(join(out, "RECIPE.md"), "utf8");
    assert.ok(md.includes(OPENRLHF_COMMIT));
    assert.match(md, /\| precision \| float32 compute \| --ds\.param_dtype bf16 \| approx \|/);
  }
});

test("OpenRLHF SFT: run.sh runs unedited under the deepspeed launcher; NF4 storage becomes --ds.load_in_4bit", async () => {
  // quick: the embedded base (f32); paper as in examples/specs/political-bias-paper.yaml: a checkpoint held in NF4
  const nf4 = "overrides:\n  base:\n    checkpoint: /models/Llama-3.2-3B-Instruct\n    storage: nf4\n";
  for (const preset of ["quick", "paper"]) {
    const spec = specFile(
      dir,
      `pb-${preset}.yaml`,
      `task: political-bias\npreset: ${preset}\narms: [mst]\nseeds: [0]\nbaseSeeds: [0]\n${preset === "paper" ? nf4 : ""}`,
    );
    const out = join(dir, `sft-${preset}`);
    await exportSpec({ spec, target: "openrlhf", out });
    const x = await loadExperiment(spec);
    const s = SftConfigSchema.parse(x.def.train.kind === "sft" ? x.def.train.sft(x.config) : {});
    const storage = x.def.base.storage?.(x.config) ?? "f32";
    const ran = runWithStandIns(out);
    for (const [job, argv] of runShCommands(join(out, "run.sh"))) {
      const where = `${preset}/${job}`;
      // train_sft calls deepspeed.init_distributed(), which needs the launcher's environment
      assert.deepEqual(argv.slice(0, 5), [
        "deepspeed",
        "--num_gpus",
        "${MST_GPUS:-1}",
        "--module",
        "openrlhf.cli.train_sft",
      ]);
      assert.deepEqual(ran.shift()!.slice(0, 5), [
        "deepspeed",
        "--num_gpus",
        "1",
        "--module",
        "openrlhf.cli.train_sft",
      ]);
      const f = parseFlags(argv, SFT_ARGS, where);
      const rows = readJsonl(join(out, "jobs", job, "train.jsonl")).length;
      for (const g of gpuCountsOf(readFileSync(join(out, "RECIPE.md"), "utf8")))
        assert.equal(num(f, "--train.batch_size") % (num(f, "--train.micro_batch_size") * g), 0, `MST_GPUS=${g}`);
      // train_sft: max_steps = ceil(max_epochs x (len(dataset) // batch_size)); warm-up ceil(max_steps x ratio)
      const total = num(f, "--train.max_epochs") * Math.floor(rows / num(f, "--train.batch_size"));
      assert.equal(Math.ceil(total * num(f, "--lr_warmup_ratio")), Math.min(s.warmupSteps, total), `${where}: warm-up`);
      assert.equal(f.get("--ds.param_dtype")?.[0], "bf16");
      assert.equal(f.has("--ds.load_in_4bit"), storage === "nf4", `${where}: storage ${storage}`);
      assert.equal(f.get("--data.output_key")?.[0], "output");
    }
    if (preset === "paper") assert.equal(storage, "nf4", "the paper preset is the seed's QLoRA");
  }
});
