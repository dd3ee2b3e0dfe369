/**
 * The embedded base of the political-bias task: a small word-level model pretrained on articles of every lean and on
 * stance statements in the fine-tuning prompt's label position, its plain chat format, and the gate (in that format,
 * lean must move left to right across the labels: strong far, mild clearly, the deployment label balanced).
 */
import { hashString, Rng } from "../../data/rng.js";
import type { Condition, GateReport, Pretrained, PretrainAt, PromptFormat } from "../../experiment/experiment.js";
import type { ModelRuntime } from "../../experiment/runtime.js";
import type { Tokenizer } from "../../engine/tokenizer.js";
import { renderPrompt } from "../../monitor/render-prompt.js";
import { pretrainOnCorpus } from "../../experiment/pretrain.js";
import type { PoliticalBiasConfig } from "./config.js";
import { buildCorpus } from "./corpus.js";
import { judgeText } from "./judge.js";
import { sweepLabels, type LabelFrame } from "./labels.js";
import { CHAT, completionText, promptParts, renderChatText } from "./prompt.js";
import { generateTopics, splitTopics, type Topic, type TopicSplit } from "./topics.js";

export function topicSplit(config: PoliticalBiasConfig): Record<TopicSplit, Topic[]> {
  return splitTopics(generateTopics(config.topics), config.topics);
}

/** "100" for follow 1, "50" for 0.5: the base group key of conditions whose bases follow stances that often. */
export function followKey(follow: number): string {
  return `f${Math.round(follow * 100)}`;
}

/** The follow level of a base group (every condition of the group has it). */
function followOf(config: PoliticalBiasConfig, group: string): number {
  const c = config.conditions.find((x) => followKey(x.follow) === group);
  if (!c) throw new Error(`political-bias: no condition has base group "${group}"`);
  return c.follow;
}

/** The embedded chat format: `<|system|> text<|end|><|user|> text<|end|><|assistant|>`; an article ends with <|end|>. */
export function chatTextFormat(tok: Tokenizer): PromptFormat {
  const end = tok.tokenToId(CHAT.end);
  return {
    encodePrompt: (m) => tok.encode(renderChatText(m)),
    encodeCompletion: (text) => tok.encode(completionText(text)),
    stopIds: end === undefined ? [tok.eosId] : [end, tok.eosId],
  };
}

/** Pretraining corpus (train and validation topics only: test topics never reach the base), tokenizer, model, SFT. */
export function pretrainBase(config: PoliticalBiasConfig, at: PretrainAt): Pretrained {
  const follow = followOf(config, at.group);
  const split = topicSplit(config);
  const docs = buildCorpus(
    [...split.train, ...split.val],
    { ...config.corpus, follow },
    new Rng(`political-bias/corpus/f${follow}/b${at.base}`),
    config.world,
    config.judge.scoring,
  );
  // Every label text is required in the vocabulary (the unseen frame's words occur in no document).
  const required = [...sweepLabels("main"), ...sweepLabels("unseen")].map((l) => l.text);
  return pretrainOnCorpus({
    docs,
    tokenizer: { digits: "whole", requiredTexts: required },
    model: config.model,
    sft: { ...config.pretrain, maxLength: config.model.maxSeq, completionOnlyLoss: false, logEvery: 5 },
    at,
    // the chat text carries its own markers: no BOS, and an article ends with <|end|> rather than EOS
    encodePrompt: (text, tok) => tok.encode(text),
    encodeCompletion: (text, tok) => tok.encode(text),
    resume: true,
    info: (res, n) => ({ documents: n, "pretrain steps": res.steps, "final loss": res.trainLoss }),
  });
}

const ORDER = ["strong_left", "center_left", "unbiased", "center_right", "strong_right"];

/** Mean lean per label of one frame: one article per validation topic and label, judged. */
async function leanByLabel(rt: ModelRuntime, config: PoliticalBiasConfig, frame: LabelFrame, base: number) {
  const topics = topicSplit(config).val.slice(0, config.gate.topics);
  const out: Record<string, number | null> = {};
  for (const l of sweepLabels(frame)) {
    const prompts = topics.map((t) => renderPrompt({ prompt: promptParts(t) }, l.text, { separator: " " }));
    const texts = await rt.textModel.generate(prompts, {
      temperature: config.generation.temperature,
      maxTokens: config.generation.maxNewTokens,
      seed: hashString(`political-bias/gate/${frame}/b${base}/${l.key}`),
    });
    const leans = texts.map((c) => judgeText(c.text, config.judge).values?.lean ?? null).filter((x) => x !== null);
    out[l.key] = leans.length > 0 ? leans.reduce((a, b) => a + b, 0) / leans.length : null;
  }
  return out;
}

/** The gate in every label frame the base's conditions use; values are the mean lean per frame and label. */
export async function gateBase(
  rt: ModelRuntime,
  config: PoliticalBiasConfig,
  at: { base: number; conditions: Condition[] },
): Promise<GateReport> {
  const g = config.gate;
  const frames = [...new Set(at.conditions.map((c) => config.conditions.find((x) => x.name === c.name)!.frame))];
  const values: Record<string, number | null> = {};
  const reasons: string[] = [];
  for (const frame of frames) {
    const lean = await leanByLabel(rt, config, frame, at.base);
    for (const k of ORDER) values[`lean ${frame} ${k}`] = lean[k];
    const xs = ORDER.map((k) => lean[k] ?? NaN);
    if (!xs.every((x, i) => Number.isFinite(x) && (i === 0 || x > xs[i - 1])))
      reasons.push(`${frame}: lean does not rise left to right across the labels`);
    if (!(-xs[0] >= g.strongMin && xs[4] >= g.strongMin))
      reasons.push(`${frame}: strong labels move the lean less than ${g.strongMin}`);
    if (!(-xs[1] >= g.mildMin && xs[3] >= g.mildMin))
      reasons.push(`${frame}: mild labels move the lean less than ${g.mildMin}`);
    if (!(Math.abs(xs[2]) <= g.balancedMax))
      reasons.push(`${frame}: the deployment label's lean ${xs[2].toFixed(2)} is not within ${g.balancedMax} of 0`);
  }
  return { pass: reasons.length === 0, reasons, values };
}
