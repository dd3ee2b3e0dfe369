/**
 * verl (written against verl 0.8.0.dev): RL rows in verl's parquet layout (data_source, prompt as chat messages,
 * ability, reward_model {style, ground_truth}, extra_info) with the mst reward label as the ground truth and a
 * generated `compute_score` module; SFT rows as multi-turn `messages` for the FSDP SFT trainer.
 */
import { encodeRewardLabel } from "../reward-label.js";
import { scheduledKnob, type Knob, type Recipe } from "../recipe.js";
import type { PqType } from "../parquet.js";
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

export const VERL_VERSION = "0.8.0.dev";

const MESSAGES: PqType = { list: { struct: { role: "string", content: "string" } } };
const EXTRA: PqType = {
  struct: {
    split: "string",
    index: "int64",
    id: "string",
    arm: "string?",
    condition: "string",
    shown_label: "string?",
  },
};

/** verl's RL dataset columns (see verl's examples/data_preprocess): what RLHFDataset and the reward manager read. */
export const VERL_RL_COLUMNS: Record<string, PqType> = {
  data_source: "string",
  prompt: MESSAGES,
  ability: "string",
  reward_model: { struct: { style: "string", ground_truth: "string" } },
  extra_info: EXTRA,
};
/** verl's multi-turn SFT columns (data.multiturn.messages_key=messages). */
export const VERL_SFT_COLUMNS: Record<string, PqType> = { messages: MESSAGES, extra_info: EXTRA };

type Kv = [string, string | number | boolean];

/**
 * The verl commit every key, default and requirement below was read at (verl/trainer/config/_generated_ppo_trainer.yaml,
 * sft_trainer.yaml, verl/utils/config.py validate_config, verl/workers/config/{actor,critic}.py, ray_trainer.py fit,
 * fsdp_sft_trainer.py, fsdp_workers.py save_checkpoint). test/interop/verl-recipe.test.ts holds each as a check.
 */
export const VERL_COMMIT = "b178a3cd56f58b2d502255daba591e92833930a7";

/** GPUs per node the recipe launches on: the shell's $MST_GPUS, 1 when unset (verl's own default is 8). */
export const GPUS_SHELL = "${MST_GPUS:-1}";

/** verl's HFModelConfig.lora_alpha is an int: a fractional alpha is rounded (and said so). */
function loraKv(
  l: { rank: number; alpha: number; dropout: number; targets: string[] } | null,
  prefixes: string[],
  knobs: Knob[],
): Kv[] {
  if (l === null) return [];
  const alpha = Math.max(1, Math.round(l.alpha));
  knobs.push(
    {
      knob: "lora.rank / alpha",
      mst: `${l.rank} / ${l.alpha}`,
      target: `${prefixes[0]}.lora_rank, ${prefixes[0]}.lora_alpha (an int)`,
      status: alpha === l.alpha ? "exact" : "approx",
      ...(alpha === l.alpha ? {} : { note: `verl's lora_alpha is an integer: ${alpha}` }),
    },
    { knob: "lora.targets", mst: l.targets.join(","), target: `${prefixes[0]}.target_modules`, status: "exact" },
    {
      knob: "lora.dropout",
      mst: String(l.dropout),
      target: "-",
      status: l.dropout === 0 ? "exact" : "unsupported",
      ...(l.dropout === 0
        ? {}
        : { note: "verl's FSDP LoRA config has no dropout key: trained without adapter dropout" }),
    },
  );
  return prefixes.flatMap((prefix): Kv[] => [
    [`${prefix}.lora_rank`, l.rank],
    [`${prefix}.lora_alpha`, alpha],
    [`${prefix}.target_modules`, `[${l.targets.join(",")}]`],
  ]);
}

/** The storage row: verl loads bases in bf16/fp32 only, so a 4-bit (NF4) base is not expressible. */
function storageKnob(storage: string): Knob {
  return {
    knob: "base storage",
    mst: storage,
    target: "fsdp_config.model_dtype (fp32 master weights, bf16 compute)",
    status: storage === "nf4" ? "unsupported" : "approx",
    note:
      storage === "nf4"
        ? "verl has no 4-bit base: the base trains in bf16/fp32 (more memory than the seed's QLoRA)"
        : "verl computes in bf16 mixed precision over fp32 weights; mst computes in float32",
  };
}

/** An upper bound on a prompt's tokens from its characters (a text token covers at least one character) plus template markup. */
export function promptTokenBound(rows: { messages: { content: string }[] }[]): number {
  const longest = Math.max(0, ...rows.map((r) => r.messages.reduce((a, m) => a + m.content.length + 32, 32)));
  return Math.max(512, Math.ceil(longest / 64) * 64);
}

export function verlOverrides(
  job: TrainJobData,
  ctx: ExportContext,
  n: number,
): { module: string; kv: Kv[]; knobs: Knob[] } {
  const knobs: Knob[] = [];
  const model = modelPathOf(job, ctx);
  const storage = ctx.x.def.base.storage?.(ctx.x.config) ?? "f32";
  if (job.kind === "sft") {
    const s = sftOf(ctx);
    const global = s.batchSize * s.gradAccum;
    // fsdp_sft_trainer: drop_last=True, total_steps = len(dataloader) * total_epochs, warm-up int(total * ratio)
    const perEpoch = Math.floor(n / global);
    if (perEpoch < 1)
      throw new Error(`verl SFT: ${n} rows are fewer than one global batch (${global}): verl drops the last batch`);
    const epochs = s.maxSteps !== undefined ? Math.ceil(s.maxSteps / perEpoch) : s.epochs;
    const total = perEpoch * epochs;
    const mstTotal = sftOptimizerSteps(s, n);
    knobs.push(
      {
        knob: "sft.lr / schedule",
        mst: `${s.lr}, cosine to ${s.minLr}`,
        target: "optim.lr, optim.lr_scheduler=cosine",
        status: s.minLr === 0 ? "exact" : "approx",
        ...(s.minLr === 0 ? {} : { note: "verl's SFT cosine decays to 0" }),
      },
      {
        knob: "sft.warmupSteps",
        mst: String(s.warmupSteps),
        target: `optim.lr_warmup_steps_ratio (verl takes int(${total} x ratio) optimizer steps)`,
        status: "exact",
      },
      {
        knob: "sft.batchSize x gradAccum",
        mst: `${s.batchSize} x ${s.gradAccum}`,
        target: "data.micro_batch_size_per_gpu, data.train_batch_size (global, split over GPUs)",
        status: "exact",
      },
      {
        knob: "sft.epochs / maxSteps",
        mst: s.maxSteps !== undefined ? `${s.maxSteps} steps` : `${s.epochs} epochs`,
        target: `trainer.total_epochs ${epochs}${s.maxSteps !== undefined ? `, trainer.total_training_steps ${s.maxSteps}` : ""}`,
        status: total === mstTotal && s.maxSteps === undefined ? "exact" : "approx",
        ...(total === mstTotal && s.maxSteps === undefined
          ? {}
          : {
              note: `verl drops the last partial batch (${perEpoch} steps per epoch; mst runs ${mstTotal} in all)${s.maxSteps !== undefined ? " and its cosine spans whole epochs" : ""}`,
            }),
      },
      {
        knob: "sft.maxLength",
        mst: String(s.maxLength),
        target: "data.max_length (data.truncation=right)",
        status: "exact",
      },
      { knob: "sft.maxGradNorm", mst: String(s.maxGradNorm), target: "optim.clip_grad", status: "exact" },
      {
        knob: "sft.weightDecay / betas",
        mst: `${s.weightDecay} / ${s.beta1},${s.beta2}`,
        target: "optim.weight_decay, optim.betas",
        status: "exact",
      },
      {
        knob: "sft.completionOnlyLoss",
        mst: String(s.completionOnlyLoss),
        target: "multi-turn dataset (loss on assistant turns)",
        status: s.completionOnlyLoss ? "exact" : "unsupported",
      },
      storageKnob(storage),
      {
        knob: "adapter output",
        mst: "PEFT adapter",
        target: "FSDP shards under jobs/<id>/output/global_step_<N>",
        status: "unsupported",
        note: "verl's SFT trainer saves FSDP shards, not a PEFT adapter: `mst import` refuses these jobs (see RECIPE.md)",
      },
    );
    const kv: Kv[] = [
      ["data.train_files", `jobs/${job.id}/train.parquet`],
      ["data.val_files", `jobs/${job.id}/train.parquet`],
      ["data.multiturn.enable", true],
      ["data.multiturn.messages_key", "messages"],
      ["data.micro_batch_size_per_gpu", s.batchSize],
      ["data.train_batch_size", global],
      ["data.max_length", s.maxLength],
      ["data.truncation", "right"],
      ["model.partial_pretrain", model],
      ["optim.lr", s.lr],
      ["optim.lr_scheduler", "cosine"],
      // (w + 0.5) / total: verl truncates total x ratio, so this gives exactly w warm-up steps
      ["optim.lr_warmup_steps_ratio", s.warmupSteps === 0 ? 0 : +((s.warmupSteps + 0.5) / total).toPrecision(6)],
      ["optim.weight_decay", s.weightDecay],
      ["optim.betas", `[${s.beta1},${s.beta2}]`],
      ["optim.clip_grad", s.maxGradNorm],
      ["trainer.total_epochs", epochs],
      ...(s.maxSteps !== undefined ? ([["trainer.total_training_steps", s.maxSteps]] as Kv[]) : []),
      ["trainer.n_gpus_per_node", GPUS_SHELL],
      ["trainer.nnodes", 1],
      ["trainer.seed", s.seed],
      ["trainer.default_local_dir", `jobs/${job.id}/output`],
      ["trainer.project_name", "mst"],
      ["trainer.experiment_name", job.id],
      ["trainer.logger", "[console]"],
      ...loraKv(s.lora, ["model"], knobs),
    ];
    return {
      module: `torchrun --standalone --nnodes=1 --nproc_per_node="${GPUS_SHELL}" -m verl.trainer.fsdp_sft_trainer`,
      kv,
      knobs,
    };
  }
  const p = ppoOf(ctx);
  // ray_trainer: the train dataloader drops the last partial batch; the loop ends after total_epochs passes or
  // total_training_steps, whichever comes first, so total_epochs must cover the steps
  const perEpoch = Math.floor(n / p.batchSize);
  if (perEpoch < 1)
    throw new Error(
      `verl PPO: ${n} prompts are fewer than one rollout batch (${p.batchSize}): verl drops the last batch`,
    );
  const epochs = Math.ceil(p.steps / perEpoch);
  const ent = scheduledKnob("ppo.entropy", p.entropy, "actor_rollout_ref.actor.entropy_coeff");
  const temp = scheduledKnob("ppo.temperature", p.temperature, "actor_rollout_ref.rollout.temperature");
  // mst warms up only under cosine; verl's constant schedule warms up too, so constant gets 0 warm-up steps
  const warmup = p.lrSchedule === "cosine" ? p.warmupSteps : 0;
  knobs.push(
    {
      knob: "ppo.lr",
      mst: String(p.lr),
      target: "actor_rollout_ref.actor.optim.lr (critic.optim.lr: same)",
      status: "exact",
    },
    {
      knob: "ppo.lrSchedule / warmupSteps",
      mst: `${p.lrSchedule} / ${p.warmupSteps} PPO steps`,
      target: `actor.optim.lr_scheduler_type=${p.lrSchedule}, actor.optim.lr_warmup_steps=${warmup} (the scheduler steps once per PPO step)`,
      status: "exact",
    },
    {
      knob: "ppo.steps",
      mst: String(p.steps),
      target: `trainer.total_training_steps ${p.steps}, trainer.total_epochs ${epochs} (${perEpoch} steps per pass)`,
      status: "exact",
    },
    { knob: "ppo.batchSize", mst: String(p.batchSize), target: "data.train_batch_size", status: "exact" },
    {
      knob: "ppo.miniBatchSize x gradAccum",
      mst: `${p.miniBatchSize} x ${p.gradAccum}`,
      target:
        "actor.ppo_mini_batch_size (optimizer step), actor/critic.ppo_micro_batch_size_per_gpu, rollout/ref.log_prob_micro_batch_size_per_gpu",
      status: "exact",
    },
    { knob: "ppo.ppoEpochs", mst: String(p.ppoEpochs), target: "actor.ppo_epochs (critic follows)", status: "exact" },
    {
      knob: "ppo.clipRange / cliprangeValue",
      mst: `${p.clipRange} / ${p.cliprangeValue}`,
      target: "actor.clip_ratio, critic.cliprange_value",
      status: "exact",
    },
    {
      knob: "ppo.gamma / lam",
      mst: `${p.gamma} / ${p.lam}`,
      target: "algorithm.gamma, algorithm.lam (adv_estimator=gae)",
      status: "exact",
    },
    {
      knob: "ppo.vfCoef / value head",
      mst: `${p.vfCoef} (value head on the policy's adapter, one optimizer)`,
      target: "critic.* (a separate critic model with its own LoRA and optimizer)",
      status: "approx",
      note: "verl trains a separate critic; the recipe gives it the actor's optimizer settings, LoRA and clip, and no shared loss coefficient exists",
    },
    {
      knob: "ppo.klCoef / klMode",
      mst: `${p.klCoef} / ${p.klMode}`,
      target:
        p.klMode === "reward"
          ? "algorithm.use_kl_in_reward, algorithm.kl_ctrl.kl_coef (kl_penalty=kl: per-token log-ratio)"
          : "actor.use_kl_loss, actor.kl_loss_coef (kl_loss_type=low_var_kl)",
      status: p.klMode === "loss" && p.klCoef > 0 ? "approx" : "exact",
      ...(p.klMode === "loss" && p.klCoef > 0
        ? {
            note: "verl's KL loss is a sampled estimator (its 'full' KL is not implemented), not mst's exact vocabulary KL",
          }
        : {}),
    },
    {
      knob: "ppo.whitenRewards",
      mst: String(p.whitenRewards),
      target: "-",
      status: p.whitenRewards ? "unsupported" : "exact",
      ...(p.whitenRewards
        ? { note: "verl has no per-batch reward whitening for GAE: raw rewards; advantages are whitened" }
        : {}),
    },
    {
      knob: "ppo.whitenAdvantages",
      mst: String(p.whitenAdvantages),
      target: "default for gae (advantages whitened)",
      status: p.whitenAdvantages ? "exact" : "unsupported",
    },
    ent.knob,
    temp.knob,
    {
      knob: "ppo.temperatureInLoss",
      mst: String(p.temperatureInLoss),
      target: "default (log-probs at the rollout temperature)",
      status: p.temperatureInLoss ? "exact" : "unsupported",
    },
    { knob: "ppo.maxNewTokens", mst: String(p.maxNewTokens), target: "data.max_response_length", status: "exact" },
    {
      knob: "ppo.maxGradNorm",
      mst: String(p.maxGradNorm),
      target: "actor.grad_clip, critic.grad_clip",
      status: "exact",
    },
    {
      knob: "ppo.weightDecay / betas",
      mst: `${p.weightDecay} / ${p.beta1},${p.beta2}`,
      target: "actor.optim.weight_decay, actor.optim.betas (critic.optim: same)",
      status: "exact",
    },
    {
      knob: "ppo.seed",
      mst: String(p.seed),
      target: "data.seed",
      status: "approx",
      note: "sampling streams differ from mst's",
    },
    storageKnob(storage),
  );
  const a = "actor_rollout_ref";
  const kv: Kv[] = [
    ["data.train_files", `jobs/${job.id}/train.parquet`],
    ["data.val_files", `eval/${job.condition.name}/deployment.parquet`],
    ["data.prompt_key", "prompt"],
    ["data.train_batch_size", p.batchSize],
    ["data.max_prompt_length", promptTokenBound(job.rows)],
    ["data.max_response_length", p.maxNewTokens],
    ["data.seed", p.seed],
    ["algorithm.adv_estimator", "gae"],
    ["algorithm.gamma", p.gamma],
    ["algorithm.lam", p.lam],
    ["algorithm.use_kl_in_reward", p.klMode === "reward" && p.klCoef > 0],
    ["algorithm.kl_ctrl.kl_coef", p.klCoef],
    [`${a}.model.path`, model],
    [`${a}.actor.optim.lr`, p.lr],
    [`${a}.actor.optim.lr_scheduler_type`, p.lrSchedule],
    [`${a}.actor.optim.lr_warmup_steps`, warmup],
    [`${a}.actor.optim.weight_decay`, p.weightDecay],
    [`${a}.actor.optim.betas`, `[${p.beta1},${p.beta2}]`],
    [`${a}.actor.ppo_mini_batch_size`, p.miniBatchSize * p.gradAccum],
    [`${a}.actor.ppo_micro_batch_size_per_gpu`, p.miniBatchSize],
    [`${a}.actor.ppo_epochs`, p.ppoEpochs],
    [`${a}.actor.clip_ratio`, p.clipRange],
    [`${a}.actor.grad_clip`, p.maxGradNorm],
    [`${a}.actor.entropy_coeff`, ent.value],
    [`${a}.actor.use_kl_loss`, p.klMode === "loss" && p.klCoef > 0],
    [`${a}.actor.kl_loss_coef`, p.klCoef],
    [`${a}.rollout.name`, "vllm"],
    [`${a}.rollout.n`, 1],
    [`${a}.rollout.temperature`, temp.value],
    [`${a}.rollout.tensor_model_parallel_size`, 1],
    [`${a}.rollout.log_prob_micro_batch_size_per_gpu`, p.miniBatchSize],
    ...(p.lora !== null ? ([[`${a}.rollout.load_format`, "safetensors"]] as Kv[]) : []),
    [`${a}.ref.log_prob_micro_batch_size_per_gpu`, p.miniBatchSize],
    ["critic.model.path", model],
    ["critic.optim.lr", p.lr],
    ["critic.optim.lr_scheduler_type", p.lrSchedule],
    ["critic.optim.lr_warmup_steps", warmup],
    ["critic.optim.weight_decay", p.weightDecay],
    ["critic.optim.betas", `[${p.beta1},${p.beta2}]`],
    ["critic.ppo_micro_batch_size_per_gpu", p.miniBatchSize],
    ["critic.cliprange_value", p.cliprangeValue],
    ["critic.grad_clip", p.maxGradNorm],
    ["reward_model.enable", false],
    ["custom_reward_function.path", "mst_reward.py"],
    ["custom_reward_function.name", "compute_score"],
    ["trainer.total_training_steps", p.steps],
    ["trainer.total_epochs", epochs],
    // verl saves only when save_freq > 0 (then also at the last step): the adapter lands in global_step_<steps>
    ["trainer.save_freq", p.steps],
    ["trainer.n_gpus_per_node", GPUS_SHELL],
    ["trainer.nnodes", 1],
    ["trainer.default_local_dir", `jobs/${job.id}/output`],
    ["trainer.project_name", "mst"],
    ["trainer.experiment_name", job.id],
    ["trainer.logger", "[console]"],
    ...loraKv(p.lora, [`${a}.model`, "critic.model"], knobs),
  ];
  return { module: "python3 -m verl.trainer.main_ppo", kv, knobs };
}

/** One Hydra override as a shell word: $-values (the base path, $MST_GPUS) double-quoted so the shell expands them. */
export /** Which $MST_GPUS values the recipe's batch sizes allow (verl splits the global batches over the GPUs). */
function verlGpuNote(ctx: ExportContext): string {
  if (ctx.x.def.train.kind === "sft") {
    const s = sftOf(ctx);
    return gpuNote("verl", gpuCounts(s.gradAccum), `the gradient accumulation ${s.gradAccum} splits over them`);
  }
  const p = ppoOf(ctx);
  return gpuNote(
    "verl",
    gpuCounts(p.gradAccum, p.batchSize),
    `the rollout batch ${p.batchSize} and the gradient accumulation ${p.gradAccum} split over them`,
  );
}

const kvText = ([k, v]: Kv): string => {
  const s = String(v);
  if (s.startsWith("$")) return `${k}="${s}"`;
  return /^[\w./:,[\]+-]+$/.test(s) ? `${k}=${s}` : `${k}='${s.replace(/'/g, "'\\''")}'`;
};

export const verlTarget: ExportTarget = {
  name: "verl",
  trainFile(job, ctx) {
    const extra = (i: number) => ({
      split: "train",
      index: i,
      id: job.rows[i].id,
      arm: job.arm,
      condition: job.condition.name,
      shown_label: job.rows[i].label,
    });
    if (job.kind === "sft")
      return {
        kind: "parquet",
        path: "train.parquet",
        columns: VERL_SFT_COLUMNS,
        rows: job.rows.map((r, i) => ({
          messages: [...r.messages, { role: "assistant", content: r.completion ?? "" }],
          extra_info: extra(i),
        })),
      };
    return {
      kind: "parquet",
      path: "train.parquet",
      columns: VERL_RL_COLUMNS,
      rows: job.rows.map((r, i) => ({
        data_source: `mst/${ctx.x.def.name}`,
        prompt: r.messages,
        ability: ctx.x.def.name,
        reward_model: { style: "rule", ground_truth: encodeRewardLabel(job.labels[i]) },
        extra_info: extra(i),
      })),
    };
  },
  evalFile(set, ctx) {
    return {
      kind: "parquet",
      path: evalName(set, "parquet"),
      columns: VERL_RL_COLUMNS,
      rows: set.rows.map((r, i) => ({
        data_source: `mst/${ctx.x.def.name}`,
        prompt: r.messages,
        ability: ctx.x.def.name,
        reward_model: { style: "rule", ground_truth: encodeRewardLabel(r.label) },
        extra_info: { split: "test", index: i, id: r.id, arm: null, condition: set.condition, shown_label: set.label },
      })),
    };
  },
  recipe(jobs, ctx): Recipe {
    const n = jobs[0]?.rows.length ?? 0;
    const built = jobs.map((j) => ({ j, ...verlOverrides(j, ctx, n) }));
    return {
      engine: "verl",
      version: VERL_VERSION,
      files: [],
      commands: built.map(({ j, module, kv }) => ({
        job: j.id,
        command: [module, ...kv.map(kvText)].join(" \\\n    "),
      })),
      knobs: built[0]?.knobs ?? [],
      notes: [
        `Needs verl ${VERL_VERSION} (Ray, vLLM), checked against commit ${VERL_COMMIT}.`,
        verlGpuNote(ctx),
        ...(ctx.x.def.train.kind === "rl"
          ? [
              ctx.table !== null
                ? "mst_reward.py scores with its copy of the task's reward table (no server needed)."
                : `mst_reward.py calls \`mst serve-reward --spec ${ctx.x.specFile}\` (set MST_REWARD_URL).`,
              "verl saves the actor's LoRA adapter (PEFT format) at the last step under jobs/<job-id>/output/global_step_<N>/actor/lora_adapter; `mst import --target verl` takes the newest global_step.",
            ]
          : [
              "verl's SFT trainer (verl.trainer.fsdp_sft_trainer) saves FSDP shards, not a PEFT adapter, so `mst import --target verl` refuses SFT jobs. To bring one back anyway: `python3 -m verl.model_merger merge --backend fsdp --local_dir jobs/<job-id>/output/global_step_<N> --target_dir jobs/<job-id>/output/merged`, then set lora_alpha in merged/lora_adapter/adapter_config.json (the merger writes 0) to the spec's alpha; or export SFT jobs with --target trl or openrlhf.",
            ]),
      ],
    };
  },
};
