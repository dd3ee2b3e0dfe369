/**
 * OpenAI fine-tuning (the /v1/fine_tuning/jobs API as of 2026): supervised rows {"messages": [...]} with the
 * assistant's completion last; RL rows for reinforcement fine-tuning as {"messages": prompt, "mst_label": {...}}, the
 * extra field a grader reads as item.mst_label. The API hides LoRA and most optimizer knobs (see the knob table).
 */
import { PY_CLEAN_RESPONSE } from "../response-text.js";
import type { Knob, Recipe } from "../recipe.js";
import { evalName, ppoOf, sftOf, type ExportContext, type ExportTarget } from "./target.js";

export const OPENAI_API = "fine-tuning API v1";

function sftKnobs(ctx: ExportContext): { hyper: Record<string, number>; knobs: Knob[] } {
  const s = sftOf(ctx);
  const knobs: Knob[] = [
    {
      knob: "sft.epochs",
      mst: String(s.epochs),
      target: "hyperparameters.n_epochs",
      status: s.maxSteps === undefined ? "exact" : "approx",
    },
    {
      knob: "sft.batchSize x gradAccum",
      mst: `${s.batchSize} x ${s.gradAccum}`,
      target: "hyperparameters.batch_size",
      status: "exact",
    },
    {
      knob: "sft.lr / schedule / warmup",
      mst: `${s.lr}, cosine to ${s.minLr}, ${s.warmupSteps} warm-up`,
      target: "hyperparameters.learning_rate_multiplier (left to auto)",
      status: "unsupported",
      note: "the API takes a multiplier of an undisclosed base rate: left on auto",
    },
    {
      knob: "lora / 4-bit / clip / weight decay / seed",
      mst: "see spec",
      target: "-",
      status: "unsupported",
      note: "the API chooses the adaptation method and optimizer; the job's seed is set",
    },
  ];
  return { hyper: { n_epochs: s.epochs, batch_size: s.batchSize * s.gradAccum }, knobs };
}

/**
 * The RFT grader: the task's Python table, scoring the output text under the row's mst label. OpenAI documents a
 * grader's score as 0-1, so the reward is mapped from the task's declared range onto it (an affine map keeps the
 * ordering and the optimum) and clipped there; without a declared range it is only clipped.
 */
export function grader(table: string, range: [number, number] | null): string {
  const [lo, hi] = range ?? [0, 1];
  if (!(hi > lo)) throw new Error(`reward range [${lo}, ${hi}] is empty: the grader cannot map it onto 0-1`);
  return [
    "import re",
    "",
    PY_CLEAN_RESPONSE,
    "",
    "",
    table.trim(),
    "",
    `_LO, _HI = ${JSON.stringify(lo)}, ${JSON.stringify(hi)}`,
    "",
    "",
    "def grade(sample, item):",
    '    r = score(clean_response(sample["output_text"]), item["mst_label"])',
    "    if r is None:",
    "        return 0.0",
    "    return min(1.0, max(0.0, (float(r) - _LO) / (_HI - _LO)))",
    "",
  ].join("\n");
}

export const openaiTarget: ExportTarget = {
  name: "openai",
  trainFile(job) {
    const rows = job.rows.map((r, i) =>
      job.kind === "sft"
        ? { messages: [...r.messages, { role: "assistant", content: r.completion ?? "" }] }
        : { messages: r.messages, mst_label: job.labels[i] },
    );
    return { kind: "jsonl", path: "train.jsonl", rows };
  },
  evalFile(set) {
    return {
      kind: "jsonl",
      path: evalName(set, "jsonl"),
      rows: set.rows.map((r) => ({ messages: r.messages, mst_label: r.label })),
    };
  },
  recipe(jobs, ctx): Recipe {
    const rl = ctx.x.def.train.kind === "rl";
    let method: Record<string, unknown>;
    let knobs: Knob[];
    if (!rl) {
      const s = sftKnobs(ctx);
      method = { type: "supervised", supervised: { hyperparameters: s.hyper } };
      knobs = s.knobs;
    } else {
      const p = ppoOf(ctx);
      const range = ctx.x.def.train.kind === "rl" ? (ctx.x.def.train.rewardRange?.(ctx.x.config) ?? null) : null;
      knobs = [
        {
          knob: "algorithm",
          mst: "PPO + LoRA on your base",
          target: "method.type = reinforcement (hosted reasoning models only)",
          status: "approx",
          note: "the base model is OpenAI's, not the spec's; arms are still comparable with each other",
        },
        {
          knob: "reward",
          mst: `the task's reward at the TRUE monitor${range ? `, range [${range[0]}, ${range[1]}]` : ""}`,
          target: ctx.table !== null ? "python grader (the task's table), scored 0-1" : "-",
          status: ctx.table === null ? "unsupported" : "approx",
          note:
            ctx.table === null
              ? "no Python table and graders cannot call mst serve-reward: RL is not runnable on this target"
              : range
                ? `graders score 0-1: the reward is mapped affinely from [${range[0]}, ${range[1]}] onto 0-1 (same ordering and optimum)`
                : "graders score 0-1 and the task declares no reward range: rewards outside 0-1 are clipped",
        },
        {
          knob: "ppo.* (lr, clip, KL, whitening, entropy, temperature, LoRA, 4-bit)",
          mst: `lr ${p.lr}, clip ${p.clipRange}, ...`,
          target: "-",
          status: "unsupported",
          note: "the API exposes none of them; defaults are used",
        },
      ];
      method = {
        type: "reinforcement",
        reinforcement: {
          grader:
            ctx.table !== null
              ? { type: "python", name: `mst-${ctx.x.def.name}`, source: grader(ctx.table, range) }
              : null,
        },
      };
    }
    const model = rl ? "o4-mini-2025-04-16" : "gpt-4.1-mini-2025-04-14";
    return {
      engine: "OpenAI",
      version: OPENAI_API,
      files: jobs.map((j) => ({
        path: `jobs/${j.id}/job.json`,
        text:
          JSON.stringify(
            {
              model,
              training_file: "<file id of train.jsonl>",
              seed: j.seed * 1000 + j.base,
              suffix: j.id.slice(0, 40),
              method,
            },
            null,
            2,
          ) + "\n",
      })),
      commands: jobs.map((j) => ({
        job: j.id,
        command:
          `F=$(curl -s https://api.openai.com/v1/files -H "Authorization: Bearer $OPENAI_API_KEY" -F purpose=fine-tune -F file=@jobs/${j.id}/train.jsonl | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])') && ` +
          `sed "s/<file id of train.jsonl>/$F/" jobs/${j.id}/job.json | curl -s https://api.openai.com/v1/fine_tuning/jobs -H "Authorization: Bearer $OPENAI_API_KEY" -H "Content-Type: application/json" -d @-`,
      })),
      knobs,
      notes: [
        "OpenAI returns a hosted model id, not weights: `mst import` cannot bring these runs back; evaluate the fine-tuned model ids with a provider model instead.",
      ],
    };
  },
};
