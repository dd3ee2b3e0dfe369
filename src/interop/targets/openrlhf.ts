/**
 * OpenRLHF (written against OpenRLHF 0.11.0, whose flags are dotted: --data.input_key, --data.label_key,
 * --reward.remote_url; versions up to 0.9 spell them --input_key, --label_key, --remote_rm_url). Rows are JSONL with
 * the prompt as chat messages under "input" (for --data.apply_chat_template) and the mst reward label under "label";
 * RL rewards come from `mst serve-reward` over OpenRLHF's remote reward protocol.
 */
import { encodeRewardLabel } from "../reward-label.js";
import { scheduledKnob, type Knob, type Recipe } from "../recipe.js";
import {
  evalName,
  modelPathOf,
  ppoOf,
  sftOf,
  sftOptimizerSteps,
  type ExportContext,
  type ExportTarget,
} from "./target.js";
import type { TrainJobData } from "../export-data.js";
import { gpuCounts, gpuNote } from "./gpus.js";

export const OPENRLHF_VERSION = "0.11.0";

type Flag = [string, string | number | null];

/**
 * The OpenRLHF commit every flag, type and default below was read at (openrlhf/cli/train_ppo_ray.py and train_sft.py
 * argparse, train() and its asserts, samples_generator.py, utils/agent.py, utils/deepspeed/deepspeed.py);
 * test/interop/openrlhf-recipe.test.ts holds each requirement as a check.
 */
export const OPENRLHF_COMMIT = "3c3be6234e0cb353e76bb8019947db9dfe99fca7";

/** GPUs on the one node the recipe launches on: $MST_GPUS, 1 when unset (OpenRLHF's own defaults are 8 per role). */
export const GPUS_SHELL = "${MST_GPUS:-1}";

/** `--ds.lora.alpha` is an argparse int: a fractional alpha is rounded (and said so). */
function loraFlags(
  l: { rank: number; alpha: number; dropout: number; targets: string[] } | null,
  knobs: Knob[],
): Flag[] {
  if (l === null) return [];
  const alpha = Math.max(1, Math.round(l.alpha));
  knobs.push(
    {
      knob: "lora.rank / alpha / dropout",
      mst: `${l.rank} / ${l.alpha} / ${l.dropout}`,
      target: "--ds.lora.rank, --ds.lora.alpha (an int), --ds.lora.dropout (PEFT LoraConfig, bias none)",
      status: alpha === l.alpha ? "exact" : "approx",
      ...(alpha === l.alpha ? {} : { note: `--ds.lora.alpha takes an integer: ${alpha}` }),
    },
    { knob: "lora.targets", mst: l.targets.join(","), target: "--ds.lora.target_modules", status: "exact" },
  );
  return [
    ["--ds.lora.rank", l.rank],
    ["--ds.lora.alpha", alpha],
    ["--ds.lora.dropout", l.dropout],
    ["--ds.lora.target_modules", l.targets.join(" ")],
  ];
}

/** Precision and storage: OpenRLHF holds models in bf16 (no float32 choice); `--ds.load_in_4bit` is NF4 + double quantisation. */
function precisionFlags(storage: string, knobs: Knob[]): Flag[] {
  knobs.push(
    {
      knob: "precision",
      mst: "float32 compute",
      target: "--ds.param_dtype bf16",
      status: "approx",
      note: "OpenRLHF offers bf16 or fp16 only (bf16 by default): the model and adapter train in bf16",
    },
    {
      knob: "base storage",
      mst: storage,
      target: storage === "nf4" ? "--ds.load_in_4bit (NF4, double quantisation, bf16 compute)" : "-",
      status: "exact",
      ...(storage === "nf4" ? {} : { note: `the base is held as bf16 like every weight (mst: ${storage})` }),
    },
  );
  return [["--ds.param_dtype", "bf16"], ...(storage === "nf4" ? ([["--ds.load_in_4bit", null]] as Flag[]) : [])];
}

/** A warm-up ratio that OpenRLHF's ceil(total x ratio) turns into exactly `steps` warm-up steps. */
export function warmupRatio(steps: number, total: number): number {
  return steps <= 0 ? 0 : Math.min(1, +((steps - 0.5) / Math.max(1, total)).toPrecision(6));
}

/** The flags and knob table of one job. */
export function openrlhfFlags(
  job: TrainJobData,
  ctx: ExportContext,
  n: number,
): { module: string; flags: Flag[]; knobs: Knob[] } {
  const knobs: Knob[] = [];
  const model = modelPathOf(job, ctx);
  const storage = ctx.x.def.base.storage?.(ctx.x.config) ?? "f32";
  const common: Flag[] = [
    ["--data.input_key", "input"],
    ["--data.apply_chat_template", null],
    ["--ckpt.output_dir", `jobs/${job.id}/output`],
    // ZeRO-3 would save the adapter as adapter_model.bin, which mst import does not read: stage 2 saves safetensors
    ["--ds.zero_stage", 2],
  ];
  if (job.kind === "sft") {
    const s = sftOf(ctx);
    const global = s.batchSize * s.gradAccum;
    // train_sft.py: max_steps = ceil(max_epochs x (len(dataset) // batch_size)); warm-up ceil(max_steps x ratio)
    const perEpoch = Math.floor(n / global);
    if (perEpoch < 1) throw new Error(`OpenRLHF SFT: ${n} rows are fewer than one global batch (${global})`);
    const epochs = s.maxSteps !== undefined ? Math.max(1, Math.round(s.maxSteps / perEpoch)) : s.epochs;
    const total = epochs * perEpoch;
    const mstTotal = sftOptimizerSteps(s, n);
    knobs.push(
      { knob: "sft.lr", mst: String(s.lr), target: "--adam.lr", status: "exact" },
      {
        knob: "sft.minLr / schedule",
        mst: `cosine to ${s.minLr}`,
        target: `--lr_scheduler cosine_with_min_lr --min_lr_ratio ${s.minLr / s.lr}`,
        status: "exact",
      },
      {
        knob: "sft.warmupSteps",
        mst: String(s.warmupSteps),
        target: "--lr_warmup_ratio (OpenRLHF takes ceil(total optimizer steps x ratio))",
        status: "exact",
      },
      {
        knob: "sft.epochs / maxSteps",
        mst: s.maxSteps !== undefined ? `${s.maxSteps} steps` : `${s.epochs} epochs`,
        target: `--train.max_epochs ${epochs} (${perEpoch} optimizer steps each)`,
        status: s.maxSteps === undefined && total === mstTotal ? "exact" : "approx",
        ...(s.maxSteps === undefined && total === mstTotal
          ? {}
          : { note: `OpenRLHF counts whole epochs of full batches: ${total} optimizer steps (mst: ${mstTotal})` }),
      },
      {
        knob: "sft.batchSize x gradAccum",
        mst: `${s.batchSize} x ${s.gradAccum}`,
        target: "--train.micro_batch_size (per GPU), --train.batch_size (global)",
        status: "exact",
      },
      { knob: "sft.maxLength", mst: String(s.maxLength), target: "--data.max_len", status: "exact" },
      { knob: "sft.maxGradNorm", mst: String(s.maxGradNorm), target: "--max_norm", status: "exact" },
      {
        knob: "sft.weightDecay / betas / eps",
        mst: `${s.weightDecay} / ${s.beta1},${s.beta2} / ${s.eps}`,
        target: "--adam.weight_decay, --adam.betas, --adam.eps",
        status: "exact",
      },
      {
        knob: "sft.completionOnlyLoss",
        mst: String(s.completionOnlyLoss),
        target: "default (prompt tokens are masked)",
        status: s.completionOnlyLoss ? "exact" : "unsupported",
        ...(s.completionOnlyLoss ? {} : { note: "prompt loss is not offered: completion-only loss is used" }),
      },
    );
    const flags: Flag[] = [
      ["--model.model_name_or_path", model],
      ["--data.dataset", `jobs/${job.id}/train.jsonl`],
      ...common,
      ["--data.output_key", "output"],
      ["--data.max_len", s.maxLength],
      ["--train.max_epochs", epochs],
      ["--train.micro_batch_size", s.batchSize],
      ["--train.batch_size", global],
      ["--train.seed", s.seed],
      ["--adam.lr", s.lr],
      ["--adam.betas", `${s.beta1} ${s.beta2}`],
      ["--adam.eps", s.eps],
      ["--adam.weight_decay", s.weightDecay],
      ["--lr_scheduler", "cosine_with_min_lr"],
      ["--min_lr_ratio", s.minLr / s.lr],
      ["--lr_warmup_ratio", warmupRatio(s.warmupSteps, total)],
      ["--max_norm", s.maxGradNorm],
      ...precisionFlags(storage, knobs),
      ...loraFlags(s.lora, knobs),
    ];
    return { module: `deepspeed --num_gpus "${GPUS_SHELL}" --module openrlhf.cli.train_sft`, flags, knobs };
  }
  const p = ppoOf(ctx);
  const ent = scheduledKnob("ppo.entropy", p.entropy, "--actor.entropy_coef");
  const temp = scheduledKnob("ppo.temperature", p.temperature, "--rollout.temperature");
  const episodes = Math.max(1, Math.round((p.steps * p.batchSize) / n));
  const trainBatch = p.miniBatchSize * p.gradAccum;
  // ppo_trainer.prepare_datasets: scheduler steps = len(prompts) x n_samples // train.batch_size x episodes x max_epochs
  const schedSteps = Math.floor(n / trainBatch) * episodes * p.ppoEpochs;
  const optPerPpoStep = p.ppoEpochs * Math.max(1, Math.floor(p.batchSize / trainBatch));
  // mst warms up only under cosine; constant_with_warmup would warm up too, so constant gets 0
  const warm = p.lrSchedule === "cosine" ? warmupRatio(p.warmupSteps * optPerPpoStep, schedSteps) : 0;
  const sched = p.lrSchedule === "cosine" ? "cosine_with_min_lr" : "constant_with_warmup";
  knobs.push(
    {
      knob: "ppo.lr",
      mst: String(p.lr),
      target: "--actor.adam.lr (critic: --critic.adam.lr, same value)",
      status: "exact",
    },
    {
      knob: "ppo.lrSchedule / warmupSteps",
      mst: `${p.lrSchedule} / ${p.warmupSteps} PPO steps`,
      target: `--actor.lr_scheduler ${sched}${p.lrSchedule === "cosine" ? " --actor.min_lr_ratio 0" : ""}, --actor.lr_warmup_ratio ${warm} (of ${schedSteps} optimizer steps)`,
      status: "exact",
    },
    {
      knob: "ppo.steps",
      mst: String(p.steps),
      target: `--train.num_episodes ${episodes} (passes over ${n} prompts at ${p.batchSize} per rollout batch)`,
      status: (p.steps * p.batchSize) % n === 0 ? "exact" : "approx",
      note: "OpenRLHF counts whole passes over the prompts",
    },
    { knob: "ppo.batchSize", mst: String(p.batchSize), target: "--rollout.batch_size", status: "exact" },
    {
      knob: "ppo.miniBatchSize x gradAccum",
      mst: `${p.miniBatchSize} x ${p.gradAccum}`,
      target: "--train.micro_batch_size (per GPU), --train.batch_size (global batch per optimizer step)",
      status: "exact",
    },
    { knob: "ppo.ppoEpochs", mst: String(p.ppoEpochs), target: "--train.max_epochs", status: "exact" },
    {
      knob: "ppo.clipRange / cliprangeValue",
      mst: `${p.clipRange} / ${p.cliprangeValue}`,
      target: "--actor.eps_clip, --critic.value_clip",
      status: "exact",
    },
    {
      knob: "ppo.gamma / lam",
      mst: `${p.gamma} / ${p.lam}`,
      target: "--algo.advantage.gamma, --algo.advantage.lambd (estimator gae)",
      status: "exact",
    },
    {
      knob: "ppo.vfCoef / value head",
      mst: `${p.vfCoef} (value head on the policy's adapter, one optimizer)`,
      target: "--critic.* (a separate critic with its own LoRA and optimizer)",
      status: "approx",
      note: "OpenRLHF trains a separate critic: the recipe gives it the actor's optimizer, schedule and clip; no shared value-loss coefficient exists",
    },
    {
      knob: "ppo.klCoef / klMode",
      mst: `${p.klCoef} / ${p.klMode}`,
      target: `--algo.kl.init_coef ${p.klCoef}${p.klMode === "loss" ? " --algo.kl.use_loss" : ""}`,
      status: p.klMode === "loss" ? "approx" : "exact",
      ...(p.klMode === "loss" ? { note: "KL loss uses OpenRLHF's estimator, not the exact vocabulary KL" } : {}),
    },
    {
      knob: "ppo.whitenRewards",
      mst: String(p.whitenRewards),
      target: "-",
      status: p.whitenRewards ? "unsupported" : "exact",
      ...(p.whitenRewards
        ? {
            note: "--reward.normalize_enable normalises a reward *model's* output with its stored statistics, not per batch: left off; advantages are still whitened",
          }
        : {}),
    },
    {
      knob: "ppo.whitenAdvantages",
      mst: String(p.whitenAdvantages),
      target: p.whitenAdvantages ? "default (advantages normalised)" : "--algo.advantage.no_std_norm",
      status: p.whitenAdvantages ? "exact" : "approx",
    },
    ent.knob,
    temp.knob,
    {
      knob: "ppo.temperatureInLoss",
      mst: String(p.temperatureInLoss),
      target: "default (log-probs at the rollout temperature)",
      status: p.temperatureInLoss ? "exact" : "unsupported",
    },
    { knob: "ppo.maxNewTokens", mst: String(p.maxNewTokens), target: "--rollout.max_new_tokens", status: "exact" },
    {
      knob: "ppo.maxGradNorm",
      mst: String(p.maxGradNorm),
      target: "--actor.max_norm, --critic.max_norm",
      status: "exact",
    },
    {
      knob: "ppo.weightDecay / betas / eps",
      mst: `${p.weightDecay} / ${p.beta1},${p.beta2} / ${p.eps}`,
      target: "--actor.adam.weight_decay, --actor.adam.betas, --actor.adam.eps (and --critic.adam.*)",
      status: "exact",
    },
    {
      knob: "ppo.seed",
      mst: String(p.seed),
      target: "--train.seed",
      status: "approx",
      note: "sampling streams differ from mst's",
    },
    {
      knob: "placement",
      mst: "-",
      target: `one node, $MST_GPUS GPUs (default 1): actor, critic and ref colocated with ${GPUS_SHELL} vLLM engines`,
      status: "exact",
      note: "train_ppo_ray generates only through vLLM engines and defaults to 8 GPUs per role: the recipe sets both",
    },
  );
  const optimizer = (role: "actor" | "critic"): Flag[] => [
    [`--${role}.adam.lr`, p.lr],
    [`--${role}.adam.betas`, `${p.beta1} ${p.beta2}`],
    [`--${role}.adam.eps`, p.eps],
    [`--${role}.adam.weight_decay`, p.weightDecay],
    [`--${role}.lr_scheduler`, sched],
    [`--${role}.lr_warmup_ratio`, warm],
    [`--${role}.min_lr_ratio`, 0],
    [`--${role}.max_norm`, p.maxGradNorm],
  ];
  const flags: Flag[] = [
    ["--actor.model_name_or_path", model],
    ["--critic.model_name_or_path", model],
    ["--data.prompt_dataset", `jobs/${job.id}/train.jsonl`],
    ...common,
    ["--data.label_key", "label"],
    ["--reward.remote_url", ctx.rewardUrl],
    // placement: every role on the same GPUs of one node, generation through vLLM (the only rollout path)
    ["--actor.num_nodes", 1],
    ["--actor.num_gpus_per_node", GPUS_SHELL],
    ["--critic.num_nodes", 1],
    ["--critic.num_gpus_per_node", GPUS_SHELL],
    ["--ref.num_nodes", 1],
    ["--ref.num_gpus_per_node", GPUS_SHELL],
    ["--vllm.num_engines", GPUS_SHELL],
    ["--vllm.tensor_parallel_size", 1],
    ["--vllm.gpu_memory_utilization", 0.5],
    ["--train.colocate_all", null],
    ["--vllm.enable_sleep", null],
    ["--ds.enable_sleep", null],
    ["--algo.advantage.estimator", "gae"],
    ["--algo.advantage.gamma", p.gamma],
    ["--algo.advantage.lambd", p.lam],
    ["--rollout.batch_size", p.batchSize],
    ["--rollout.n_samples_per_prompt", 1],
    ["--rollout.max_new_tokens", p.maxNewTokens],
    ["--rollout.temperature", temp.value],
    ["--train.num_episodes", episodes],
    ["--train.max_epochs", p.ppoEpochs],
    ["--train.micro_batch_size", p.miniBatchSize],
    ["--train.batch_size", trainBatch],
    ["--train.seed", p.seed],
    ...optimizer("actor"),
    ...optimizer("critic"),
    ["--actor.eps_clip", p.clipRange],
    ["--critic.value_clip", p.cliprangeValue],
    ["--algo.kl.init_coef", p.klCoef],
    ...(p.klMode === "loss" ? ([["--algo.kl.use_loss", null]] as Flag[]) : []),
    ...(p.whitenAdvantages ? [] : ([["--algo.advantage.no_std_norm", null]] as Flag[])),
    ["--actor.entropy_coef", ent.value],
    ...precisionFlags(storage, knobs),
    ...loraFlags(p.lora, knobs),
  ];
  return { module: "python3 -m openrlhf.cli.train_ppo_ray", flags, knobs };
}

const shellArg = (v: string | number): string => {
  const s = String(v);
  if (s.startsWith("$")) return `"${s}"`;
  return /^[\w./:=,@+-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
};
/** A flag and its value; a space-separated list of plain words (betas, target modules) stays several arguments. */
const flagText = ([k, v]: Flag): string => {
  if (v === null) return k;
  const parts = String(v).split(" ");
  return parts.length > 1 && parts.every((x) => /^[\w.+-]+$/.test(x))
    ? `${k} ${parts.join(" ")}`
    : `${k} ${shellArg(v)}`;
};

export const openrlhfTarget: ExportTarget = {
  name: "openrlhf",
  trainFile(job) {
    const rows = job.rows.map((r, i) =>
      job.kind === "sft"
        ? { input: r.messages, output: [{ role: "assistant", content: r.completion ?? "" }] }
        : { input: r.messages, label: encodeRewardLabel(job.labels[i]) },
    );
    return { kind: "jsonl", path: "train.jsonl", rows };
  },
  evalFile(set) {
    return {
      kind: "jsonl",
      path: evalName(set, "jsonl"),
      rows: set.rows.map((r) => ({
        input: r.messages,
        label: encodeRewardLabel(r.label),
      })),
    };
  },
  recipe(jobs, ctx): Recipe {
    const n = jobs[0]?.rows.length ?? 0;
    const built = jobs.map((j) => ({ j, ...openrlhfFlags(j, ctx, n) }));
    const accum = ctx.x.def.train.kind === "sft" ? sftOf(ctx).gradAccum : ppoOf(ctx).gradAccum;
    return {
      engine: "OpenRLHF",
      version: OPENRLHF_VERSION,
      files: [],
      commands: built.map(({ j, module, flags }) => ({
        job: j.id,
        command: [module, ...flags.map(flagText)].join(" \\\n    "),
      })),
      knobs: built[0]?.knobs ?? [],
      notes: [
        `Needs openrlhf==${OPENRLHF_VERSION} (Ray, vLLM, DeepSpeed), checked against commit ${OPENRLHF_COMMIT}. PPO colocates actor, critic, reference and one vLLM engine per GPU (--train.colocate_all); SFT runs under the deepspeed launcher.`,
        gpuNote("OpenRLHF", gpuCounts(accum), `the gradient accumulation ${accum} splits over them`),
        ...(ctx.x.def.train.kind === "rl"
          ? [
              `Start the reward server first, on the node the trainer reaches: \`mst serve-reward --spec ${ctx.x.specFile} --port 5000\` (the rows' "label" holds each sample's TRUE monitor; the shuffled arm shows another).`,
            ]
          : []),
        "OpenRLHF writes the LoRA adapter (PEFT format) under jobs/<job-id>/output; bring them back with `mst import --target openrlhf`.",
      ],
    };
  },
};
