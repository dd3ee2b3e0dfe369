/**
 * OpenRLHF (written against OpenRLHF 0.11.0, whose flags are dotted: --data.input_key, --data.label_key,
 * --reward.remote_url; versions up to 0.9 spell them --input_key, --label_key, --remote_rm_url). Rows are JSONL with
 * the prompt as chat messages under "input" (for --data.apply_chat_template) and the mst reward label under "label";
 * RL rewards come from `mst serve-reward` over OpenRLHF's remote reward protocol.
 */
import { encodeRewardLabel } from "../reward-label.js";
import { scheduledKnob, type Knob, type Recipe } from "../recipe.js";
import { evalName, modelPathOf, ppoOf, sftOf, type ExportContext, type ExportTarget } from "./target.js";
import type { TrainJobData } from "../export-data.js";

export const OPENRLHF_VERSION = "0.11.0";

type Flag = [string, string | number | null];

function loraFlags(
  l: { rank: number; alpha: number; dropout: number; targets: string[] } | null,
  knobs: Knob[],
): Flag[] {
  if (l === null) return [];
  knobs.push(
    {
      knob: "lora.rank / alpha / dropout",
      mst: `${l.rank} / ${l.alpha} / ${l.dropout}`,
      target: "--ds.lora.rank, --ds.lora.alpha, --ds.lora.dropout",
      status: "exact",
    },
    { knob: "lora.targets", mst: l.targets.join(","), target: "--ds.lora.target_modules", status: "exact" },
  );
  return [
    ["--ds.lora.rank", l.rank],
    ["--ds.lora.alpha", l.alpha],
    ["--ds.lora.dropout", l.dropout],
    ["--ds.lora.target_modules", l.targets.join(" ")],
  ];
}

/** The flags and knob table of one job. */
export function openrlhfFlags(
  job: TrainJobData,
  ctx: ExportContext,
  n: number,
): { module: string; flags: Flag[]; knobs: Knob[] } {
  const knobs: Knob[] = [];
  const model = modelPathOf(job, ctx);
  const common: Flag[] = [
    ["--data.input_key", "input"],
    ["--data.apply_chat_template", null],
    ["--ckpt.output_dir", `jobs/${job.id}/output`],
    ["--ckpt.save_hf", null],
  ];
  if (job.kind === "sft") {
    const s = sftOf(ctx);
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
        target: "--lr_warmup_ratio",
        status: "approx",
        note: "OpenRLHF takes a warm-up ratio: warmupSteps / total steps",
      },
      {
        knob: "sft.epochs",
        mst: String(s.epochs),
        target: "--train.max_epochs",
        status: s.maxSteps === undefined ? "exact" : "approx",
        ...(s.maxSteps !== undefined ? { note: "no max-steps flag: epochs from maxSteps" } : {}),
      },
      {
        knob: "sft.batchSize x gradAccum",
        mst: `${s.batchSize} x ${s.gradAccum}`,
        target: "--train.micro_batch_size, --train.batch_size (global)",
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
      {
        knob: "4-bit NF4 base",
        mst: "off",
        target: "-",
        status: "unsupported",
        note: "train_sft has no 4-bit flag; float/bf16 base",
      },
    );
    const total = s.maxSteps ?? s.epochs * Math.ceil(n / (s.batchSize * s.gradAccum));
    const epochs =
      s.maxSteps !== undefined ? Math.max(1, Math.round((s.maxSteps * s.batchSize * s.gradAccum) / n)) : s.epochs;
    const flags: Flag[] = [
      ["--model.model_name_or_path", model],
      ["--data.dataset", `jobs/${job.id}/train.jsonl`],
      ...common,
      ["--data.output_key", "output"],
      ["--data.max_len", s.maxLength],
      ["--train.max_epochs", epochs],
      ["--train.micro_batch_size", s.batchSize],
      ["--train.batch_size", s.batchSize * s.gradAccum],
      ["--train.seed", s.seed],
      ["--adam.lr", s.lr],
      ["--adam.betas", `${s.beta1} ${s.beta2}`],
      ["--adam.eps", s.eps],
      ["--adam.weight_decay", s.weightDecay],
      ["--lr_scheduler", "cosine_with_min_lr"],
      ["--min_lr_ratio", s.minLr / s.lr],
      ["--lr_warmup_ratio", +(s.warmupSteps / Math.max(1, total)).toPrecision(4)],
      ["--max_norm", s.maxGradNorm],
      ...loraFlags(s.lora, knobs),
    ];
    return { module: "openrlhf.cli.train_sft", flags, knobs };
  }
  const p = ppoOf(ctx);
  const ent = scheduledKnob("ppo.entropy", p.entropy, "--actor.entropy_coef");
  const temp = scheduledKnob("ppo.temperature", p.temperature, "--rollout.temperature");
  const episodes = Math.max(1, Math.round((p.steps * p.batchSize) / n));
  knobs.push(
    {
      knob: "ppo.lr",
      mst: String(p.lr),
      target: "--actor.adam.lr (critic: --critic.adam.lr, same value)",
      status: "exact",
    },
    {
      knob: "ppo.lrSchedule / warmupSteps",
      mst: `${p.lrSchedule} / ${p.warmupSteps}`,
      target: `--actor.lr_scheduler ${p.lrSchedule === "cosine" ? "cosine_with_min_lr --actor.min_lr_ratio 0" : "constant_with_warmup"}, --actor.lr_warmup_ratio`,
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
      target: "--train.micro_batch_size, --train.batch_size (global batch per optimizer step)",
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
      knob: "ppo.vfCoef",
      mst: String(p.vfCoef),
      target: "-",
      status: "unsupported",
      note: "OpenRLHF trains a separate critic with its own optimizer; no shared value-loss coefficient",
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
    { knob: "ppo.maxGradNorm", mst: String(p.maxGradNorm), target: "--actor.max_norm", status: "exact" },
    {
      knob: "ppo.weightDecay / betas / eps",
      mst: `${p.weightDecay} / ${p.beta1},${p.beta2} / ${p.eps}`,
      target: "--actor.adam.weight_decay, --actor.adam.betas, --actor.adam.eps",
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
      knob: "4-bit NF4 base (the seed's QLoRA)",
      mst: "off (mst trains in float32)",
      target: "--ds.load_in_4bit",
      status: "exact",
      note: "off to match mst; add --ds.load_in_4bit to reproduce the seed's 4-bit base",
    },
  );
  const flags: Flag[] = [
    ["--actor.model_name_or_path", model],
    ["--critic.model_name_or_path", model],
    ["--data.prompt_dataset", `jobs/${job.id}/train.jsonl`],
    ...common,
    ["--data.label_key", "label"],
    ["--reward.remote_url", ctx.rewardUrl],
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
    ["--train.batch_size", p.miniBatchSize * p.gradAccum],
    ["--train.seed", p.seed],
    ["--actor.adam.lr", p.lr],
    ["--critic.adam.lr", p.lr],
    ["--actor.adam.betas", `${p.beta1} ${p.beta2}`],
    ["--actor.adam.eps", p.eps],
    ["--actor.adam.weight_decay", p.weightDecay],
    ["--actor.lr_scheduler", p.lrSchedule === "cosine" ? "cosine_with_min_lr" : "constant_with_warmup"],
    ["--actor.lr_warmup_ratio", +(p.warmupSteps / p.steps).toPrecision(4)],
    ...(p.lrSchedule === "cosine" ? ([["--actor.min_lr_ratio", 0]] as Flag[]) : []),
    ["--actor.max_norm", p.maxGradNorm],
    ["--actor.eps_clip", p.clipRange],
    ["--critic.value_clip", p.cliprangeValue],
    ["--algo.kl.init_coef", p.klCoef],
    ...(p.klMode === "loss" ? ([["--algo.kl.use_loss", null]] as Flag[]) : []),
    ...(p.whitenAdvantages ? [] : ([["--algo.advantage.no_std_norm", null]] as Flag[])),
    ["--actor.entropy_coef", ent.value],
    ...loraFlags(p.lora, knobs),
  ];
  return { module: "openrlhf.cli.train_ppo_ray", flags, knobs };
}

const shellArg = (v: string | number): string => {
  const s = String(v);
  if (s.startsWith("$MST_BASES/")) return `"${s}"`;
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
    return {
      engine: "OpenRLHF",
      version: OPENRLHF_VERSION,
      files: [],
      commands: built.map(({ j, module, flags }) => ({
        job: j.id,
        command: [`python3 -m ${module}`, ...flags.map(flagText)].join(" \\\n    "),
      })),
      knobs: built[0]?.knobs ?? [],
      notes: [
        `Needs openrlhf==${OPENRLHF_VERSION} (Ray, vLLM, DeepSpeed). Add the placement flags of your cluster (--actor.num_gpus_per_node, --vllm.num_engines, ...); the recipe sets only what mst decides.`,
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
