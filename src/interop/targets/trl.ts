/**
 * TRL (written against and run with TRL 1.13, transformers 5.18, PEFT 0.21): SFT rows in the conversational
 * prompt/completion format; RL rows as a conversational `prompt` plus extra columns, which GRPOTrainer hands to reward
 * functions as keyword arguments (`mst_label`). TRL's PPOTrainer takes a reward *model*, not a function, so RL runs
 * with GRPOTrainer (see the knob table). Every key written here is built into TRL's own config classes by the tests.
 */
import type { WeightStorage } from "../../engine/model.js";
import type { TrainJobData } from "../export-data.js";
import { fmt, scheduledKnob, type Knob, type Recipe } from "../recipe.js";
import { encodeRewardLabel } from "../reward-label.js";
import { trainerOf } from "../../experiment/check-trainer.js";
import { grpoOf, trlGrpoArgs } from "./trl-grpo.js";
import {
  evalName,
  modelPathOf,
  ppoOf,
  ppoOptimizerSteps,
  sftOf,
  type ExportContext,
  type ExportTarget,
} from "./target.js";
import { trainTrlPy } from "./trl-script.js";

export const TRL_VERSION = "1.13";

/** GRPO needs several completions per prompt; mst samples one per prompt per step. */
const GROUP = 8;

function lora(l: { rank: number; alpha: number; dropout: number; targets: string[] } | null, knobs: Knob[]) {
  if (l === null) {
    knobs.push({ knob: "lora", mst: "null (full fine-tuning)", target: "peft_config = None", status: "exact" });
    return null;
  }
  knobs.push(
    { knob: "lora.rank", mst: String(l.rank), target: "LoraConfig(r)", status: "exact" },
    {
      knob: "lora.alpha",
      mst: String(l.alpha),
      target: "LoraConfig(lora_alpha, use_rslora=False): scale alpha / r",
      status: "exact",
    },
    { knob: "lora.dropout", mst: String(l.dropout), target: "LoraConfig(lora_dropout)", status: "exact" },
    { knob: "lora.targets", mst: l.targets.join(","), target: "LoraConfig(target_modules)", status: "exact" },
    {
      knob: "lora init",
      mst: "A ~ U(-1/sqrt(in), 1/sqrt(in)), B = 0",
      target: "LoraConfig(init_lora_weights=True): kaiming-uniform A, B = 0",
      status: "approx",
      note: "same distributions, different random streams (the adapter starts at zero change either way)",
    },
  );
  return {
    r: l.rank,
    lora_alpha: l.alpha,
    lora_dropout: l.dropout,
    target_modules: l.targets,
    bias: "none",
    use_rslora: false,
    init_lora_weights: true,
  };
}

/**
 * The base's storage as TRL loads it: the dtype (model_init_kwargs), the 4-bit quantisation (BitsAndBytesConfig, as
 * the seed's QLoRA: NF4 with double-quantised scales) and TRL's mixed precision. mst computes in float32 from every
 * storage, so bf16 autocast is off and the 4-bit compute dtype is float32.
 */
function storageOf(storage: WeightStorage, knobs: Knob[]) {
  const quantization =
    storage === "nf4"
      ? {
          load_in_4bit: true,
          bnb_4bit_quant_type: "nf4",
          bnb_4bit_use_double_quant: true,
          bnb_4bit_compute_dtype: "float32",
        }
      : null;
  const dtype = storage === "bf16" ? "bfloat16" : "float32";
  knobs.push(
    {
      knob: "base.storage",
      mst: storage,
      target:
        storage === "nf4"
          ? "BitsAndBytesConfig(load_in_4bit, bnb_4bit_quant_type='nf4', bnb_4bit_use_double_quant, bnb_4bit_compute_dtype=float32)"
          : `model_init_kwargs.dtype = ${dtype}`,
      status: storage === "f32" ? "exact" : "approx",
      ...(storage === "f32"
        ? {}
        : {
            note:
              storage === "nf4"
                ? "bitsandbytes' NF4 kernels, not mst's (same format: 64-value blocks, double-quantised scales); needs bitsandbytes on the GPU node"
                : "the same bf16 weights; torch's bf16 kernels round differently from mst's f32-from-bf16 products",
          }),
    },
    {
      knob: "compute precision",
      mst: "float32 (adapters, activations, optimizer)",
      target: "bf16 = False, fp16 = False (TRL's default would be bf16 autocast)",
      status: "exact",
    },
    {
      knob: "optimizer",
      mst: "AdamW (decoupled weight decay)",
      target: "optim = adamw_torch",
      status: "exact",
    },
  );
  return { quantization, common: { bf16: false, fp16: false, optim: "adamw_torch", model_init_kwargs: { dtype } } };
}

/** The TRLConfig arguments and knob table of the spec's training recipe. */
export function trlArgs(ctx: ExportContext): {
  trainer: "sft" | "grpo";
  args: Record<string, unknown>;
  lora: unknown;
  quantization: Record<string, unknown> | null;
  knobs: Knob[];
} {
  const knobs: Knob[] = [];
  const checkpoint = ctx.x.def.base.checkpoint?.(ctx.x.config) ?? null;
  const st = storageOf(checkpoint === null ? "f32" : (ctx.x.def.base.storage?.(ctx.x.config) ?? "f32"), knobs);
  // mst recomputes blocks only when asked; TRL turns gradient checkpointing on by default (same numbers, less memory)
  const gc = checkpoint === null ? false : (ctx.x.def.base.gradientCheckpointing?.(ctx.x.config) ?? false);
  const common = { ...st.common, gradient_checkpointing: gc };
  if (ctx.x.def.train.kind === "sft") {
    const s = sftOf(ctx);
    const args: Record<string, unknown> = {
      learning_rate: s.lr,
      lr_scheduler_type: "cosine_with_min_lr",
      lr_scheduler_kwargs: { min_lr: s.minLr },
      warmup_steps: s.warmupSteps,
      per_device_train_batch_size: s.batchSize,
      gradient_accumulation_steps: s.gradAccum,
      max_length: s.maxLength,
      max_grad_norm: s.maxGradNorm,
      weight_decay: s.weightDecay,
      adam_beta1: s.beta1,
      adam_beta2: s.beta2,
      adam_epsilon: s.eps,
      seed: s.seed,
      completion_only_loss: s.completionOnlyLoss,
      truncation_mode: "keep_start",
      train_sampling_strategy: s.groupByLength ? "group_by_length" : "random",
      ...common,
      ...(s.maxSteps !== undefined ? { max_steps: s.maxSteps } : { num_train_epochs: s.epochs }),
      logging_steps: 1,
      save_strategy: "no",
      report_to: [],
    };
    knobs.push(
      { knob: "sft.lr", mst: String(s.lr), target: `learning_rate = ${s.lr}`, status: "exact" },
      {
        knob: "sft.minLr / schedule",
        mst: `cosine to ${s.minLr}`,
        target: `lr_scheduler_type = cosine_with_min_lr, min_lr = ${s.minLr}`,
        status: "exact",
      },
      { knob: "sft.warmupSteps", mst: String(s.warmupSteps), target: "warmup_steps", status: "exact" },
      {
        knob: "sft.epochs / maxSteps",
        mst: s.maxSteps !== undefined ? `${s.maxSteps} steps` : `${s.epochs} epochs`,
        target: s.maxSteps !== undefined ? "max_steps" : "num_train_epochs",
        status: "exact",
      },
      {
        knob: "sft.batchSize x gradAccum",
        mst: `${s.batchSize} x ${s.gradAccum}`,
        target: "per_device_train_batch_size x gradient_accumulation_steps (one GPU)",
        status: "exact",
        note: "on N GPUs divide per_device_train_batch_size by N",
      },
      {
        knob: "sft.maxLength",
        mst: String(s.maxLength),
        target: "max_length",
        status: "approx",
        note: "TRL truncates the sequence end like mst, but counts the chat template's tokens",
      },
      { knob: "sft.maxGradNorm", mst: String(s.maxGradNorm), target: "max_grad_norm", status: "exact" },
      {
        knob: "sft.weightDecay / betas / eps",
        mst: `${s.weightDecay} / ${s.beta1},${s.beta2} / ${s.eps}`,
        target: "weight_decay, adam_beta1, adam_beta2, adam_epsilon",
        status: "exact",
      },
      {
        knob: "sft.groupByLength",
        mst: String(s.groupByLength),
        target: `train_sampling_strategy = ${s.groupByLength ? "group_by_length" : "random"}`,
        status: s.groupByLength ? "approx" : "exact",
        ...(s.groupByLength
          ? { note: "transformers' length-grouped sampler (mega-batches of 50 batches), with its own random stream" }
          : {}),
      },
      {
        knob: "sft.completionOnlyLoss",
        mst: String(s.completionOnlyLoss),
        target: "completion_only_loss",
        status: "exact",
      },
      {
        knob: "sft.seed",
        mst: String(s.seed),
        target: "seed (mst adds the job's seed: seed x 1000 + base)",
        status: "approx",
        note: "TRL's data order and dropout streams differ from mst's",
      },
    );
    return { trainer: "sft", args, lora: lora(s.lora, knobs), quantization: st.quantization, knobs };
  }
  if (trainerOf(ctx.x.def, ctx.x.config) === "grpo") {
    // the task trains with GRPO: its options map one to one (trl-grpo.ts)
    const g = grpoOf(ctx);
    const m = trlGrpoArgs(g);
    knobs.push(...m.knobs);
    return {
      trainer: "grpo",
      args: { ...m.args, ...common },
      lora: lora(g.lora, knobs),
      quantization: st.quantization,
      knobs,
    };
  }
  const p = ppoOf(ctx);
  const ent = scheduledKnob("ppo.entropy", p.entropy, "entropy_coef");
  const temp = scheduledKnob("ppo.temperature", p.temperature, "temperature");
  const perStep = Math.max(1, Math.floor(p.batchSize / (p.miniBatchSize * p.gradAccum)));
  // mst warms up over PPO steps (cosine only; constant ignores it); TRL counts optimizer steps
  const optPerPpoStep = p.ppoEpochs * perStep;
  const warmup = p.lrSchedule === "cosine" ? p.warmupSteps * optPerPpoStep : 0;
  const args: Record<string, unknown> = {
    learning_rate: p.lr,
    lr_scheduler_type: p.lrSchedule,
    warmup_steps: warmup,
    weight_decay: p.weightDecay,
    adam_beta1: p.beta1,
    adam_beta2: p.beta2,
    adam_epsilon: p.eps,
    max_steps: ppoOptimizerSteps(p),
    per_device_train_batch_size: p.miniBatchSize,
    gradient_accumulation_steps: p.gradAccum,
    steps_per_generation: perStep * p.gradAccum,
    num_generations: GROUP,
    num_iterations: p.ppoEpochs,
    epsilon: p.clipRange,
    beta: p.klCoef,
    scale_rewards: p.whitenRewards ? "batch" : "none",
    entropy_coef: ent.value,
    temperature: temp.value,
    max_completion_length: p.maxNewTokens,
    max_grad_norm: p.maxGradNorm,
    loss_type: "dapo",
    seed: p.seed,
    ...common,
    logging_steps: 1,
    save_strategy: "no",
    report_to: [],
  };
  knobs.push(
    {
      knob: "algorithm",
      mst: "PPO with a value head (GAE)",
      target: "GRPOTrainer",
      status: "approx",
      note: `TRL's PPOTrainer needs a reward model module; GRPO samples ${GROUP} completions per prompt and uses group-relative advantages (no critic)`,
    },
    { knob: "ppo.lr", mst: String(p.lr), target: `learning_rate = ${p.lr}`, status: "exact" },
    {
      knob: "ppo.lrSchedule / warmupSteps",
      mst: `${p.lrSchedule} / ${p.warmupSteps} PPO steps`,
      target: `lr_scheduler_type = ${p.lrSchedule}, warmup_steps = ${warmup} optimizer steps`,
      status: p.lrSchedule === "constant" ? "exact" : "approx",
      ...(p.lrSchedule === "constant"
        ? { note: "constant: no warm-up in either (mst's warm-up applies to cosine only)" }
        : {
            note: `mst holds one rate through each PPO step's ${optPerPpoStep} optimizer steps; TRL moves it every optimizer step (warm-up converted: x ${optPerPpoStep})`,
          }),
    },
    {
      knob: "ppo.steps",
      mst: String(p.steps),
      target: `max_steps = ${ppoOptimizerSteps(p)} optimizer steps`,
      status: "approx",
      note: "TRL counts optimizer steps: steps x ppoEpochs x batch / (mini-batch x accumulation)",
    },
    {
      knob: "ppo.batchSize",
      mst: String(p.batchSize),
      target: `steps_per_generation x per_device_train_batch_size = ${perStep * p.gradAccum * p.miniBatchSize} completions per generation`,
      status: "approx",
      note: `completions come in groups of ${GROUP} per prompt, so ${p.batchSize / GROUP} prompts per batch instead of ${p.batchSize}`,
    },
    {
      knob: "ppo.miniBatchSize x gradAccum",
      mst: `${p.miniBatchSize} x ${p.gradAccum}`,
      target: "per_device_train_batch_size x gradient_accumulation_steps",
      status: "exact",
    },
    { knob: "ppo.ppoEpochs", mst: String(p.ppoEpochs), target: "num_iterations", status: "exact" },
    { knob: "ppo.clipRange", mst: String(p.clipRange), target: "epsilon", status: "exact" },
    {
      knob: "ppo.klCoef / klMode",
      mst: `${p.klCoef} / ${p.klMode}`,
      target: `beta = ${p.klCoef}`,
      status: p.klCoef === 0 ? "exact" : "approx",
      note: "GRPO adds a k3 KL estimate to the loss, not a per-token reward penalty",
    },
    {
      knob: "ppo.whitenRewards",
      mst: String(p.whitenRewards),
      target: `scale_rewards = ${p.whitenRewards ? "batch" : "none"}`,
      status: "approx",
      note: "GRPO also centres rewards per prompt group",
    },
    {
      knob: "ppo.whitenAdvantages",
      mst: String(p.whitenAdvantages),
      target: "-",
      status: "approx",
      note: "GRPO advantages are group-centred rewards (scaled per scale_rewards)",
    },
    {
      knob: "ppo.gamma / lam / vfCoef / cliprangeValue",
      mst: `${p.gamma} / ${p.lam} / ${p.vfCoef} / ${p.cliprangeValue}`,
      target: "-",
      status: "unsupported",
      note: "no critic in GRPO: these have no counterpart and are dropped",
    },
    ent.knob,
    temp.knob,
    {
      knob: "ppo.temperatureInLoss",
      mst: String(p.temperatureInLoss),
      target: "temperature (GRPO scores log-probs at the sampling temperature)",
      status: p.temperatureInLoss ? "exact" : "approx",
    },
    { knob: "ppo.maxNewTokens", mst: String(p.maxNewTokens), target: "max_completion_length", status: "exact" },
    { knob: "ppo.maxGradNorm", mst: String(p.maxGradNorm), target: "max_grad_norm", status: "exact" },
    {
      knob: "ppo.weightDecay / betas / eps",
      mst: `${p.weightDecay} / ${p.beta1},${p.beta2} / ${p.eps}`,
      target: "weight_decay, adam_beta1, adam_beta2, adam_epsilon",
      status: "exact",
    },
    {
      knob: "loss normalisation",
      mst: "token mean over the mini-batch",
      target: "loss_type = dapo (token mean over the global batch)",
      status: "approx",
      note: "equal for one-token responses; longer ones weigh tokens over the whole generation batch",
    },
    {
      knob: "ppo.seed",
      mst: String(p.seed),
      target: "seed",
      status: "approx",
      note: "sampling streams differ from mst's",
    },
  );
  if (p.batchSize % GROUP !== 0)
    knobs.push({
      knob: "ppo.batchSize % group",
      mst: String(p.batchSize),
      target: "-",
      status: "approx",
      note: `batch not a multiple of ${GROUP}: TRL rounds generation batches`,
    });
  return { trainer: "grpo", args, lora: lora(p.lora, knobs), quantization: st.quantization, knobs };
}

export const trlTarget: ExportTarget = {
  name: "trl",
  trainFile(job: TrainJobData) {
    const rows = job.rows.map((r, i) =>
      job.kind === "sft"
        ? { prompt: r.messages, completion: [{ role: "assistant", content: r.completion ?? "" }] }
        : { prompt: r.messages, mst_label: encodeRewardLabel(job.labels[i]), mst_id: r.id },
    );
    return { kind: "jsonl", path: "train.jsonl", rows };
  },
  evalFile(set) {
    return {
      kind: "jsonl",
      path: evalName(set, "jsonl"),
      rows: set.rows.map((r) => ({
        prompt: r.messages,
        mst_id: r.id,
        mst_target: JSON.stringify(r.target),
        mst_label_key: set.key,
      })),
    };
  },
  recipe(jobs, ctx): Recipe {
    const t = trlArgs(ctx);
    return {
      engine: "TRL",
      version: TRL_VERSION,
      files: [
        { path: "train_trl.py", text: trainTrlPy(TRL_VERSION) },
        ...jobs.map((j) => ({
          path: `jobs/${j.id}/trl.json`,
          text:
            JSON.stringify(
              {
                trainer: t.trainer,
                model: modelPathOf(j, ctx),
                train_file: "train.jsonl",
                args: t.args,
                lora: t.lora,
                quantization: t.quantization,
              },
              null,
              2,
            ) + "\n",
        })),
      ],
      commands: jobs.map((j) => ({ job: j.id, command: `python train_trl.py jobs/${j.id}` })),
      knobs: t.knobs,
      notes: [
        `Needs trl==${TRL_VERSION}.*, peft, datasets, transformers${t.quantization !== null ? ", bitsandbytes (the base loads in 4-bit NF4)" : " (bitsandbytes only with --qlora)"}. \`python train_trl.py jobs/<id> --check\` builds every config object without loading a model. For a short trial set MST_TRL_MAX_STEPS and MST_TRL_MAX_ROWS. ${t.trainer === "grpo" ? (ctx.table !== null ? "Rewards come from mst_reward.py's copy of the task's reward table (no server)." : `Rewards come from \`mst serve-reward\` (MST_REWARD_URL, default ${fmt(ctx.rewardUrl)}).`) : ""}`,
        "Each job writes its PEFT adapter to jobs/<job-id>/output/adapter; bring them back with `mst import --target trl`.",
      ],
    };
  },
};
