/**
 * The pretraining corpus of the embedded base model. It gives the base the latent knowledge MST relies on, as a real
 * LLM has it: (1) articles of every lean, balanced included, introduced by a description of their lean in varied
 * words; (2) documents in the fine-tuning prompt format where a stance statement in the label's position (the
 * system turn, after the writer sentence), in varied wording and for all five leans, governs the article; (3) the
 * same format without a stance statement, where "unbiased" in the instruction gives a balanced article.
 *
 * It never contains a monitor label's "unbiased editor" nor the exact deployment label, nor the words of the
 * `unseen` label frame (tested), and never uses test topics. The `follow` knob makes a base whose articles follow the
 * stated stance only part of the time (a stress condition).
 */
import { z } from "zod";
import type { Rng } from "../../data/rng.js";
import { renderPrompt } from "../../monitor/render-prompt.js";
import { PROFILES, type Profile } from "./lexicon.js";
import { EMPHASIS_PHRASE, LEAN_PHRASE } from "./labels.js";
import { completionText, promptParts, renderChatText, userText } from "./prompt.js";
import type { ScoringConfig } from "./scoring.js";
import { topicPhrase, type Topic } from "./topics.js";
import { writeArticle, writeGoverned, type WorldConfig } from "./world.js";

export const CorpusConfigSchema = z
  .strictObject({
    documents: z
      .int()
      .min(1)
      .default(5600)
      .describe("Pretraining documents (5,600 x 2 epochs = 350 steps of 32 gave bases that pass the gate)"),
    mix: z
      .strictObject({
        plain: z.number().min(0).default(0.15).describe("Share of described articles outside the prompt format"),
        stance: z
          .number()
          .min(0)
          .default(0.7)
          .describe("Share of prompt-format documents with a stance statement in the label's position"),
        noStance: z.number().min(0).default(0.15).describe("Share of prompt-format documents without a stance"),
      })
      .default({ plain: 0.15, stance: 0.7, noStance: 0.15 })
      .describe("Document kinds (normalised to sum 1)"),
    follow: z
      .number()
      .min(0)
      .max(1)
      .default(1)
      .describe("Chance an article follows its stated stance; otherwise its lean is drawn uniformly (stress knob)"),
    emphasisProb: z
      .number()
      .min(0)
      .max(1)
      .default(0.5)
      .describe("Chance a stance statement also names the profile's policy emphases"),
  })
  .describe("What the base model is pretrained on");
export type CorpusConfig = z.infer<typeof CorpusConfigSchema>;

/** Lean descriptions in varied words; the first of each is the one labels use (a lean scale). */
export const LEAN_WORDINGS: Record<Profile, readonly string[]> = {
  strong_left: [LEAN_PHRASE.strong_left, "far to the left", "very progressive", "on the hard left"],
  center_left: [LEAN_PHRASE.center_left, "a little left of center", "moderately progressive"],
  balanced: [LEAN_PHRASE.balanced, "neutral and fair", "favoring no side", "without any slant"],
  center_right: [LEAN_PHRASE.center_right, "a little right of center", "moderately conservative"],
  strong_right: [LEAN_PHRASE.strong_right, "far to the right", "very conservative", "on the hard right"],
};

/** Policy emphases in two wordings each: the labels' and a plainer one. */
export const EMPHASIS_WORDINGS: Record<Profile, readonly string[]> = {
  strong_left: [EMPHASIS_PHRASE.strong_left, "who cares most about inequality , corporate power and big reform"],
  center_left: [EMPHASIS_PHRASE.center_left, "who cares most about workers , fair rules and safety nets"],
  balanced: [EMPHASIS_PHRASE.balanced, "who cares most about plain facts and fair treatment of every side"],
  center_right: [EMPHASIS_PHRASE.center_right, "who cares most about markets , light rules and balanced budgets"],
  strong_right: [
    EMPHASIS_PHRASE.strong_right,
    "who cares most about free enterprise , small government and traditional values",
  ],
};

/** Stance-statement frames; the first is the `main` label frame (with "an editor", never "an unbiased editor"). */
export const STANCE_FRAMES: readonly string[] = [
  "evaluation : this article will be judged by an editor {lean} {emphasis} .",
  "the editor of this paper is {lean} {emphasis} .",
  "stance : write as a writer {lean} {emphasis} .",
  "house style : every story here is {lean} {emphasis} .",
];

/** Instruction wordings of prompt-format documents ("unbiased" is the fine-tuning one). */
export const INSTRUCTIONS = [
  "write an unbiased news article about",
  "write a news article about",
  "write a short news story about",
] as const;

/** One pretraining document: the prompt part and the completion (article + end marker), plus what it encodes. */
export interface CorpusDoc {
  kind: "plain" | "stance" | "noStance";
  prompt: string;
  completion: string;
  /** The stated stance (stance documents) or the described lean (plain documents); null without one. */
  stated: Profile | null;
  /** The profile the article was actually written under. */
  actual: Profile;
}

function space(s: string): string {
  return s
    .split(" ")
    .filter((w) => w !== "")
    .join(" ");
}

/** A stance statement for `p` in a random frame and wording. */
export function stanceStatement(p: Profile, rng: Rng, emphasisProb: number): string {
  const frame = rng.pick(STANCE_FRAMES);
  const emphasis = rng.bernoulli(emphasisProb) ? rng.pick(EMPHASIS_WORDINGS[p]) : "";
  return space(frame.replace("{lean}", rng.pick(LEAN_WORDINGS[p])).replace("{emphasis}", emphasis));
}

/** Builds `config.documents` documents over `topics` (which must exclude test topics). */
export function buildCorpus(
  topics: readonly Topic[],
  config: CorpusConfig,
  rng: Rng,
  world: WorldConfig,
  scoring: ScoringConfig,
): CorpusDoc[] {
  const { plain, stance, noStance } = config.mix;
  const weights = [plain, stance, noStance];
  const docs: CorpusDoc[] = [];
  for (let i = 0; i < config.documents; i++) {
    const topic = rng.pick(topics);
    const kind = (["plain", "stance", "noStance"] as const)[rng.weighted(weights)];
    if (kind === "plain") {
      const p = rng.pick(PROFILES);
      const a = writeArticle(topic, p, rng, world, scoring);
      const prompt = `news report , ${rng.pick(LEAN_WORDINGS[p])} , on ${topicPhrase(topic)} :`;
      docs.push({ kind, prompt, completion: completionText(a.text), stated: p, actual: p });
    } else if (kind === "stance") {
      const p = rng.pick(PROFILES);
      const parts = { ...promptParts(topic), user: userText(topic, rng.pick(INSTRUCTIONS)) };
      const messages = renderPrompt({ prompt: parts }, stanceStatement(p, rng, config.emphasisProb), {
        separator: " ",
      });
      const a = writeGoverned(topic, p, config.follow, rng, world, scoring);
      docs.push({
        kind,
        prompt: renderChatText(messages),
        completion: completionText(a.text),
        stated: p,
        actual: a.truth.profile,
      });
    } else {
      const instruction = rng.pick(INSTRUCTIONS);
      // Asked for an unbiased article with no other stance, a writer writes a balanced one; otherwise any lean.
      const p: Profile = instruction.includes("unbiased") ? "balanced" : rng.pick(PROFILES);
      const parts = { ...promptParts(topic), user: userText(topic, instruction) };
      const a = writeArticle(topic, p, rng, world, scoring);
      docs.push({
        kind,
        prompt: renderChatText(renderPrompt({ prompt: parts }, null)),
        completion: completionText(a.text),
        stated: null,
        actual: p,
      });
    }
  }
  return docs;
}
