/**
 * TRL (written against TRL 1.10): SFT rows in the conversational prompt/completion format; RL rows as a conversational
 * `prompt` plus extra columns, which GRPOTrainer hands to reward functions as keyword arguments (`mst_label`).
 * TRL's PPOTrainer takes a reward *model*, not a function, so RL runs with GRPOTrainer (see the knob table).
 */
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

export const TRL_VERSION = "1.10";

/** GRPO needs several completions per prompt; mst samples one per prompt per step. */
const GROUP = 8;

function lora(l: { rank: number; alpha: number; dropout: number; targets: string[] } | null, knobs: Knob[]) {
  if (l === null) {
    knobs.push({ knob: "lora", mst: "null (full fine-tuning)", target: "peft_config = None", status: "exact" });
    return null;
  }
  knobs.push(
    { knob: "lora.rank", mst: String(l.rank), target: "LoraConfig(r)", status: "exact" },
    { knob: "lora.alpha", mst: String(l.alpha), target: "LoraConfig(lora_alpha)", status: "exact" },
    { knob: "lora.dropout", mst: String(l.dropout), target: "LoraConfig(lora_dropout)", status: "exact" },
    { knob: "lora.targets", mst: l.targets.join(","), target: "LoraConfig(target_modules)", status: "exact" },
  );
  return { r: l.rank, lora_alpha: l.alpha, lora_dropout: l.dropout, target_modules: l.targets, bias: "none" };
}

const QLORA: Knob = {
  knob: "4-bit NF4 base (the seed's QLoRA)",
  mst: "off (mst trains in float32)",
  target: "train_trl.py --qlora: BitsAndBytesConfig(load_in_4bit, bnb_4bit_quant_type='nf4')",
  status: "exact",
  note: "off by default to match mst; --qlora reproduces the seed's 4-bit base",
};

/** The TRLConfig arguments and knob table of the spec's training recipe. */
export function trlArgs(
  ctx: ExportContext,
  _samples: number,
): { trainer: "sft" | "grpo"; args: Record<string, unknown>; lora: unknown; knobs: Knob[] } {
  const knobs: Knob[] = [];
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
      group_by_length: s.groupByLength,
      ...(s.maxSteps !== undefined ? { max_steps: s.maxSteps } : { num_train_epochs: s.epochs }),
      logging_steps: 1,
      save_strategy: "no",
      report_to: "none",
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
    return { trainer: "sft", args, lora: lora(s.lora, knobs), knobs: [...knobs, QLORA] };
  }
  if (trainerOf(ctx.x.def, ctx.x.config) === "grpo") {
    // the task trains with GRPO: its options map one to one (trl-grpo.ts)
    const g = grpoOf(ctx);
    const m = trlGrpoArgs(g);
    return { trainer: "grpo", args: m.args, lora: lora(g.lora, m.knobs), knobs: [...m.knobs, QLORA] };
  }
  const p = ppoOf(ctx);
  const ent = scheduledKnob("ppo.entropy", p.entropy, "entropy_coef");
  const temp = scheduledKnob("ppo.temperature", p.temperature, "temperature");
  const perStep = Math.max(1, Math.floor(p.batchSize / (p.miniBatchSize * p.gradAccum)));
  const args: Record<string, unknown> = {
    learning_rate: p.lr,
    lr_scheduler_type: p.lrSchedule,
    warmup_steps: p.warmupSteps,
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
    seed: p.seed,
    logging_steps: 1,
    save_strategy: "no",
    report_to: "none",
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
      mst: `${p.lrSchedule} / ${p.warmupSteps}`,
      target: "lr_scheduler_type, warmup_steps",
      status: "exact",
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
  return { trainer: "grpo", args, lora: lora(p.lora, knobs), knobs: [...knobs, QLORA] };
}

export const TRAIN_TRL_PY = `"""Launch one exported mst train job with TRL ${TRL_VERSION} (generated by \`mst export\`).

usage: python train_trl.py jobs/<job-id> [--model PATH] [--qlora] [--dry-run]
The job directory holds train.jsonl and trl.json (trainer, TRL arguments, LoRA); the adapter is saved in PEFT format
to jobs/<job-id>/output/adapter, where \`mst import --target trl\` finds it.
"""
import argparse
import json
import os
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("job")
    ap.add_argument("--model", help="base model path (default: trl.json's, with $MST_BASES expanded)")
    ap.add_argument("--qlora", action="store_true", help="load the base in 4-bit NF4 (the seed's QLoRA)")
    ap.add_argument("--dry-run", action="store_true", help="print the resolved configuration and exit")
    a = ap.parse_args()
    with open(os.path.join(a.job, "trl.json")) as f:
        cfg = json.load(f)
    model = a.model or os.path.expandvars(cfg["model"])
    out = os.path.join(a.job, "output")
    if a.dry_run:
        print(json.dumps({"trainer": cfg["trainer"], "model": model, "output_dir": out, "args": cfg["args"], "lora": cfg["lora"], "qlora": a.qlora}))
        return
    import torch
    from datasets import load_dataset
    from peft import LoraConfig
    from transformers import BitsAndBytesConfig

    data = load_dataset("json", data_files=os.path.join(a.job, cfg["train_file"]), split="train")
    peft_config = LoraConfig(task_type="CAUSAL_LM", **cfg["lora"]) if cfg["lora"] else None
    init = {}
    if a.qlora:
        init["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.bfloat16
        )
    if cfg["trainer"] == "sft":
        from trl import SFTConfig, SFTTrainer

        args = SFTConfig(output_dir=out, model_init_kwargs=init or None, **cfg["args"])
        trainer = SFTTrainer(model=model, args=args, train_dataset=data, peft_config=peft_config)
    else:
        from trl import GRPOConfig, GRPOTrainer

        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from mst_reward import mst_reward

        args = GRPOConfig(output_dir=out, model_init_kwargs=init or None, **cfg["args"])
        trainer = GRPOTrainer(model=model, reward_funcs=[mst_reward], args=args, train_dataset=data, peft_config=peft_config)
    trainer.train()
    trainer.save_model(os.path.join(out, "adapter"))


if __name__ == "__main__":
    main()
`;

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
    const n = jobs[0]?.rows.length ?? 0;
    const t = trlArgs(ctx, n);
    return {
      engine: "TRL",
      version: TRL_VERSION,
      files: [
        { path: "train_trl.py", text: TRAIN_TRL_PY },
        ...jobs.map((j) => ({
          path: `jobs/${j.id}/trl.json`,
          text:
            JSON.stringify(
              { trainer: t.trainer, model: modelPathOf(j, ctx), train_file: "train.jsonl", args: t.args, lora: t.lora },
              null,
              2,
            ) + "\n",
        })),
      ],
      commands: jobs.map((j) => ({ job: j.id, command: `python train_trl.py jobs/${j.id}` })),
      knobs: t.knobs,
      notes: [
        `Needs trl==${TRL_VERSION}.*, peft, datasets, transformers (and bitsandbytes for --qlora). ${t.trainer === "grpo" ? (ctx.table !== null ? "Rewards come from mst_reward.py's copy of the task's reward table (no server)." : `Rewards come from \`mst serve-reward\` (MST_REWARD_URL, default ${fmt(ctx.rewardUrl)}).`) : ""}`,
        "Each job writes its PEFT adapter to jobs/<job-id>/output/adapter; bring them back with `mst import --target trl`.",
      ],
    };
  },
};
