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

function loraKv(
  l: { rank: number; alpha: number; dropout: number; targets: string[] } | null,
  prefix: string,
  knobs: Knob[],
): Kv[] {
  if (l === null) return [];
  knobs.push(
    {
      knob: "lora.rank / alpha",
      mst: `${l.rank} / ${l.alpha}`,
      target: `${prefix}.lora_rank, ${prefix}.lora_alpha`,
      status: "exact",
    },
    { knob: "lora.targets", mst: l.targets.join(","), target: `${prefix}.target_modules`, status: "exact" },
    {
      knob: "lora.dropout",
      mst: String(l.dropout),
      target: "-",
      status: l.dropout === 0 ? "exact" : "unsupported",
      ...(l.dropout === 0 ? {} : { note: "verl's LoRA config has no dropout key: trained without adapter dropout" }),
    },
  );
  return [
    [`${prefix}.lora_rank`, l.rank],
    [`${prefix}.lora_alpha`, l.alpha],
    [`${prefix}.target_modules`, `[${l.targets.join(",")}]`],
  ];
}

export function verlOverrides(
  job: TrainJobData,
  ctx: ExportContext,
  n: number,
): { module: string; kv: Kv[]; knobs: Knob[] } {
  const knobs: Knob[] = [];
  const model = modelPathOf(job, ctx);
  if (job.kind === "sft") {
    const s = sftOf(ctx);
    const total = sftOptimizerSteps(s, n);
    knobs.push(
      {
        knob: "sft.lr / schedule",
        mst: `${s.lr}, cosine to ${s.minLr}`,
        target: "optim.lr, optim.lr_scheduler=cosine",
        status: s.minLr === 0 ? "exact" : "approx",
        ...(s.minLr === 0 ? {} : { note: "verl's cosine decays to 0 by default" }),
      },
      {
        knob: "sft.warmupSteps",
        mst: String(s.warmupSteps),
        target: "optim.lr_warmup_steps_ratio",
        status: "approx",
        note: "a ratio of total steps",
      },
      {
        knob: "sft.batchSize x gradAccum",
        mst: `${s.batchSize} x ${s.gradAccum}`,
        target: "data.micro_batch_size_per_gpu, data.train_batch_size",
        status: "exact",
      },
      {
        knob: "sft.epochs / maxSteps",
        mst: s.maxSteps !== undefined ? `${s.maxSteps} steps` : `${s.epochs} epochs`,
        target: s.maxSteps !== undefined ? "trainer.total_training_steps" : "trainer.total_epochs",
        status: "exact",
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
        knob: "4-bit NF4 base",
        mst: "off",
        target: "-",
        status: "unsupported",
        note: "verl has no 4-bit base: bf16/fp32 base",
      },
    );
    const kv: Kv[] = [
      ["data.train_files", `jobs/${job.id}/train.parquet`],
      ["data.val_files", `jobs/${job.id}/train.parquet`],
      ["data.multiturn.enable", true],
      ["data.multiturn.messages_key", "messages"],
      ["data.micro_batch_size_per_gpu", s.batchSize],
      ["data.train_batch_size", s.batchSize * s.gradAccum],
      ["data.max_length", s.maxLength],
      ["data.truncation", "right"],
      ["model.partial_pretrain", model],
      ["optim.lr", s.lr],
      ["optim.lr_scheduler", "cosine"],
      ["optim.lr_warmup_steps_ratio", +(s.warmupSteps / Math.max(1, total)).toPrecision(4)],
      ["optim.weight_decay", s.weightDecay],
      ["optim.betas", `[${s.beta1},${s.beta2}]`],
      ["optim.clip_grad", s.maxGradNorm],
      s.maxSteps !== undefined ? ["trainer.total_training_steps", s.maxSteps] : ["trainer.total_epochs", s.epochs],
      ["trainer.default_local_dir", `jobs/${job.id}/output`],
      ["trainer.project_name", "mst"],
      ["trainer.experiment_name", job.id],
      ["trainer.logger", "[console]"],
      ...loraKv(s.lora, "model", knobs),
    ];
    return {
      module: "torchrun --standalone --nnodes=1 --nproc_per_node=1 -m verl.trainer.fsdp_sft_trainer",
      kv,
      knobs,
    };
  }
  const p = ppoOf(ctx);
  const ent = scheduledKnob("ppo.entropy", p.entropy, "actor_rollout_ref.actor.entropy_coeff");
  const temp = scheduledKnob("ppo.temperature", p.temperature, "actor_rollout_ref.rollout.temperature");
  knobs.push(
    {
      knob: "ppo.lr",
      mst: String(p.lr),
      target: "actor_rollout_ref.actor.optim.lr (critic.optim.lr: same)",
      status: "exact",
    },
    {
      knob: "ppo.lrSchedule / warmupSteps",
      mst: `${p.lrSchedule} / ${p.warmupSteps}`,
      target: "actor.optim.lr_scheduler_type, actor.optim.lr_warmup_steps",
      status: "exact",
    },
    { knob: "ppo.steps", mst: String(p.steps), target: "trainer.total_training_steps", status: "exact" },
    { knob: "ppo.batchSize", mst: String(p.batchSize), target: "data.train_batch_size", status: "exact" },
    {
      knob: "ppo.miniBatchSize x gradAccum",
      mst: `${p.miniBatchSize} x ${p.gradAccum}`,
      target: "actor.ppo_mini_batch_size (optimizer step), actor.ppo_micro_batch_size_per_gpu",
      status: "exact",
    },
    { knob: "ppo.ppoEpochs", mst: String(p.ppoEpochs), target: "actor.ppo_epochs", status: "exact" },
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
      knob: "ppo.vfCoef",
      mst: String(p.vfCoef),
      target: "-",
      status: "unsupported",
      note: "verl trains a separate critic with its own optimizer",
    },
    {
      knob: "ppo.klCoef / klMode",
      mst: `${p.klCoef} / ${p.klMode}`,
      target:
        p.klMode === "reward"
          ? "algorithm.use_kl_in_reward, algorithm.kl_ctrl.kl_coef"
          : "actor.use_kl_loss, actor.kl_loss_coef",
      status: "exact",
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
    { knob: "ppo.maxGradNorm", mst: String(p.maxGradNorm), target: "actor.grad_clip", status: "exact" },
    {
      knob: "ppo.weightDecay / betas",
      mst: `${p.weightDecay} / ${p.beta1},${p.beta2}`,
      target: "actor.optim.weight_decay, actor.optim.betas",
      status: "exact",
    },
    {
      knob: "ppo.seed",
      mst: String(p.seed),
      target: "data.seed",
      status: "approx",
      note: "sampling streams differ from mst's",
    },
    {
      knob: "4-bit NF4 base",
      mst: "off",
      target: "-",
      status: "unsupported",
      note: "verl has no 4-bit base: bf16/fp32 base",
    },
  );
  const a = "actor_rollout_ref";
  const kv: Kv[] = [
    ["data.train_files", `jobs/${job.id}/train.parquet`],
    ["data.val_files", `eval/${job.condition.name}/deployment.parquet`],
    ["data.prompt_key", "prompt"],
    ["data.train_batch_size", p.batchSize],
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
    [`${a}.actor.optim.lr_warmup_steps`, p.warmupSteps],
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
    ["critic.model.path", model],
    ["critic.optim.lr", p.lr],
    ["critic.cliprange_value", p.cliprangeValue],
    ["reward_model.enable", false],
    ["custom_reward_function.path", "mst_reward.py"],
    ["custom_reward_function.name", "compute_score"],
    ["trainer.total_training_steps", p.steps],
    ["trainer.default_local_dir", `jobs/${job.id}/output`],
    ["trainer.project_name", "mst"],
    ["trainer.experiment_name", job.id],
    ["trainer.logger", "[console]"],
    ...loraKv(p.lora, `${a}.model`, knobs),
  ];
  return { module: "python3 -m verl.trainer.main_ppo", kv, knobs };
}

const kvText = ([k, v]: Kv): string => {
  const s = String(v);
  return /^[\w./:,[\]$+-]+$/.test(s)
    ? `${k}=${s.startsWith("$") ? `"${s}"` : s}`
    : `${k}='${s.replace(/'/g, "'\\''")}'`;
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
        `Needs verl ${VERL_VERSION} (Ray, vLLM). Add your cluster's trainer.n_gpus_per_node / trainer.nnodes.`,
        ...(ctx.x.def.train.kind === "rl"
          ? [
              ctx.table !== null
                ? "mst_reward.py scores with its copy of the task's reward table (no server needed)."
                : `mst_reward.py calls \`mst serve-reward --spec ${ctx.x.specFile}\` (set MST_REWARD_URL).`,
            ]
          : []),
        "verl saves the LoRA adapter (PEFT format, lora_adapter/) in its checkpoints under jobs/<job-id>/output; `mst import --target verl` takes the newest global_step.",
      ],
    };
  },
};
