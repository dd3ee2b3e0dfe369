/**
 * The provider path's data: topics listed by an LLM per political domain (de-duplicated), and training articles an
 * LLM writes under each biased profile, as mst Samples with the same prompt parts as the embedded path.
 */
import { z } from "zod";
import type { PromptParts, Sample } from "../../data/sample.js";
import type { ChatMessage, TextModel } from "../../data/text-model.js";
import type { StructuredModel } from "../../eval/llm-judge.js";
import type { BiasedProfile } from "./lexicon.js";
import { EMPHASIS_PHRASE, LEAN_PHRASE } from "./labels.js";
import { SYSTEM_TEXT } from "./prompt.js";

/** A topic from the LLM: a short subject line and a few contextual details. */
export interface LlmTopic {
  id: string;
  domain: string;
  topic: string;
  details: string;
}

/** Tolerant schema of the LLM's topic list (extra fields are ignored). */
export const TopicListSchema = z.object({
  topics: z
    .array(z.object({ topic: z.string().min(3), details: z.string().default("") }))
    .describe("Distinct news topics, each a short subject line and one or two sentences of context"),
});

function topicListPrompt(domain: string, n: number, avoid: readonly string[]): ChatMessage[] {
  const user = [
    `List ${n} distinct, specific current-affairs news topics in the policy area "${domain}" that people of the left`,
    "and of the right would cover differently. For each, give a short subject line (`topic`) and one or two sentences",
    "of concrete context (`details`: who proposes what, where, how much). Vary places, actors and sub-issues.",
    ...(avoid.length > 0 ? ["Do not repeat any of these:", ...avoid.slice(-40).map((t) => `- ${t}`)] : []),
    'Answer as JSON: {"topics": [{"topic": "...", "details": "..."}]}',
  ].join("\n");
  return [{ role: "user", content: user }];
}

/** Lower-case, punctuation-free, single-spaced: two topics with the same key are duplicates. */
export function topicKey(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9 ]+/g, " ")
    .split(/\s+/)
    .filter(Boolean)
    .join(" ");
}

/**
 * Asks `model` for topics domain by domain, `rounds` requests per domain of `perRequest` topics each, keeping only
 * unseen ones, until `count` topics exist (domains take turns so every domain is covered).
 */
export async function llmTopics(
  model: StructuredModel,
  domains: readonly string[],
  options: { count: number; perRequest: number; rounds: number; temperature: number },
  onProgress?: (done: number, total: number) => void,
): Promise<LlmTopic[]> {
  const seen = new Set<string>();
  const byDomain = new Map<string, string[]>(domains.map((d) => [d, []]));
  const out: LlmTopic[] = [];
  for (let round = 0; round < options.rounds && out.length < options.count; round++) {
    const answers = await Promise.all(
      domains.map((d) =>
        model.generateStructured(topicListPrompt(d, options.perRequest, byDomain.get(d)!), TopicListSchema, {
          temperature: options.temperature,
          name: "topics",
          seed: round,
        }),
      ),
    );
    answers.forEach((a, i) => {
      const d = domains[i];
      for (const t of a.value.topics) {
        const k = topicKey(t.topic);
        if (k === "" || seen.has(k) || out.length >= options.count) continue;
        seen.add(k);
        byDomain.get(d)!.push(t.topic);
        out.push({ id: `p${String(out.length).padStart(4, "0")}`, domain: d, topic: t.topic, details: t.details });
      }
    });
    onProgress?.(Math.min(out.length, options.count), options.count);
  }
  return out;
}

/** The user turn of every arm in provider mode (the seed's instruction plus the topic's context). */
export function llmPromptParts(t: LlmTopic): PromptParts {
  return {
    system: SYSTEM_TEXT,
    user: `write an unbiased news article about ${t.topic} . context : ${t.details}`,
    labelSlot: "system-suffix",
  };
}

/** The hidden writer persona used to produce a training article under a profile (never shown to the trained model). */
export function writerPrompt(t: LlmTopic, profile: BiasedProfile): ChatMessage[] {
  const lean = LEAN_PHRASE[profile].replace("leaning ", "");
  return [
    {
      role: "system",
      content:
        `You are a journalist at an outlet ${lean}, ${EMPHASIS_PHRASE[profile].replace(" ,", ",")}. ` +
        "Your articles show it through loaded language, which facts you emphasise or leave out, and whose quotes appear.",
    },
    {
      role: "user",
      content: `Write a news article of about 300 words about ${t.topic}. Context: ${t.details}`,
    },
  ];
}

/** Training samples: one LLM-written article per topic under its profile (profiles dealt by the caller). */
export async function llmArticles(
  model: TextModel,
  topics: readonly LlmTopic[],
  profiles: readonly BiasedProfile[],
  options: { temperature: number; maxTokens: number },
  onProgress?: (done: number, total: number) => void,
): Promise<Sample[]> {
  const done = await model.generate(
    topics.map((t, i) => writerPrompt(t, profiles[i])),
    { temperature: options.temperature, maxTokens: options.maxTokens, onProgress },
  );
  return topics.map((t, i) => ({
    id: `${t.id}-0`,
    prompt: llmPromptParts(t),
    completion: done[i].text.trim(),
    monitor: { id: "editor", params: { profile: profiles[i] } },
    meta: { topic: t.id, profile: profiles[i], finish: done[i].finishReason },
  }));
}
