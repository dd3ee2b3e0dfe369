/** Small shared pieces of the embedded jobs: the topic split, a condition by name, eval prompts, stop tokens, JSONL output. */
import { writeFileSync } from "node:fs";
import type { Tokenizer } from "../../engine/tokenizer.js";
import { renderPrompt } from "../../monitor/render-prompt.js";
import type { Condition, PoliticalBiasConfig } from "./config.js";
import { sweepLabels, type LabelFrame } from "./labels.js";
import { CHAT, promptParts, renderChatText } from "./prompt.js";
import { generateTopics, splitTopics, type Topic, type TopicSplit } from "./topics.js";

/** Thrown when a job names something the config does not have (a stale run directory, a hand-edited spec). */
export class PoliticalBiasJobError extends Error {
  override name = "PoliticalBiasJobError";
}

export function topicSplit(config: PoliticalBiasConfig): Record<TopicSplit, Topic[]> {
  return splitTopics(generateTopics(config.topics), config.topics);
}

export function conditionOf(config: PoliticalBiasConfig, name: string): Condition {
  const c = config.conditions.find((x) => x.name === name);
  if (!c)
    throw new PoliticalBiasJobError(
      `job names condition "${name}", which is not in config.conditions (${config.conditions.map((x) => x.name).join(", ")})`,
    );
  return c;
}

/** Labels an evaluation runs at: "none" (no label) and the five sweep labels, left to right. */
export function evalLabels(frame: LabelFrame): Array<{ key: string; text: string | null }> {
  return [{ key: "none", text: null }, ...sweepLabels(frame).map((l) => ({ key: l.key, text: l.text }))];
}

/** The embedded model's prompt for a topic with a label in the system turn (or none). */
export function evalPrompt(topic: Topic, label: string | null): string {
  return renderChatText(renderPrompt({ prompt: promptParts(topic) }, label, { separator: " " }));
}

/** Token ids that end an article. */
export function stopIds(tok: Tokenizer): number[] {
  const end = tok.tokenToId(CHAT.end);
  return end === undefined ? [tok.eosId] : [end, tok.eosId];
}

/** Writes records as JSON lines (whole file at once: a job's output is rewritten when the job is re-run). */
export function writeJsonl(file: string, rows: readonly unknown[]): void {
  writeFileSync(file, rows.map((r) => JSON.stringify(r)).join("\n") + (rows.length > 0 ? "\n" : ""));
}

export const mean = (xs: readonly number[]): number =>
  xs.length === 0 ? NaN : xs.reduce((s, x) => s + x, 0) / xs.length;
