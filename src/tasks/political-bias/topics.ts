/** Seeded topic generator for the political-bias world: ~2,300 unique topics over political domains, split train/val/test. */
import { z } from "zod";
import { Rng } from "../../data/rng.js";

/**
 * Political subject domains. One word each, because the embedded world is word-level and a small vocabulary keeps the
 * model small; a topic is a domain, an aspect of it and a place, so 16 x 6 x 24 = 2,304 distinct topics.
 */
export const DOMAINS = [
  "healthcare",
  "immigration",
  "energy",
  "taxes",
  "education",
  "guns",
  "climate",
  "policing",
  "trade",
  "housing",
  "labor",
  "welfare",
  "transit",
  "water",
  "farming",
  "pensions",
] as const;

/** What part of a domain the plan touches. */
export const ASPECTS = ["funding", "rules", "access", "costs", "reform", "oversight"] as const;

/** Where the plan is proposed. */
export const PLACES = [
  "ohio",
  "texas",
  "maine",
  "oregon",
  "georgia",
  "arizona",
  "nevada",
  "iowa",
  "utah",
  "florida",
  "michigan",
  "vermont",
  "kansas",
  "idaho",
  "alaska",
  "montana",
  "virginia",
  "colorado",
  "illinois",
  "kentucky",
  "missouri",
  "alabama",
  "delaware",
  "wisconsin",
] as const;

/** Contextual details drawn per topic (who proposes, when, how much). */
export const PROPOSERS = [
  "the governor",
  "state lawmakers",
  "the city council",
  "a county board",
  "the mayor",
] as const;
export const TIMINGS = ["this week", "next week", "this month", "next month", "this spring", "this fall"] as const;
export const AMOUNTS = [20, 40, 60, 80, 120, 150, 200, 300, 500] as const;

/** One topic: "<domain> <aspect> in <place>", with a few contextual details that the article repeats. */
export interface Topic {
  /** Stable id, e.g. "t0412" (its position in the generated order). */
  id: string;
  domain: string;
  aspect: string;
  place: string;
  proposer: string;
  timing: string;
  /** Plan size in millions of dollars. */
  amount: number;
}

export type TopicSplit = "train" | "val" | "test";

export const TopicsConfigSchema = z
  .strictObject({
    count: z
      .int()
      .min(10)
      .max(DOMAINS.length * ASPECTS.length * PLACES.length)
      .default(2300)
      .describe("Number of topics generated (at most 16 domains x 6 aspects x 24 places = 2,304)"),
    train: z.int().min(1).default(1900).describe("Topics used for training articles (the seed: 1,900)"),
    test: z
      .int()
      .min(1)
      .default(200)
      .describe("Test topics (the seed: 200); the rest after train is validation (the seed: 400 val+test)"),
    seed: z.union([z.int(), z.string()]).default("topics").describe("Seed of the topic generator"),
  })
  .describe("How topics are generated and split");
export type TopicsConfig = z.infer<typeof TopicsConfigSchema>;

/** Topic text as it appears in prompts and articles, e.g. "healthcare funding in ohio". */
export function topicPhrase(t: Topic): string {
  return `${t.domain} ${t.aspect} in ${t.place}`;
}

/** The contextual details line, e.g. "the governor , next month , 40 million dollars". */
export function topicDetails(t: Topic): string {
  return `${t.proposer} , ${t.timing} , ${t.amount} million dollars`;
}

/**
 * Generates `count` distinct topics: every (domain, aspect, place) combination is enumerated, shuffled with the seed,
 * and the first `count` are kept, so there are no duplicates by construction; details are drawn per topic.
 */
export function generateTopics(config: Partial<TopicsConfig> = {}): Topic[] {
  const c = TopicsConfigSchema.parse(config);
  const rng = new Rng(`political-bias/topics/${c.seed}`);
  const combos: Array<[string, string, string]> = [];
  for (const d of DOMAINS) for (const a of ASPECTS) for (const p of PLACES) combos.push([d, a, p]);
  rng.fork("order").shuffle(combos);
  const details = rng.fork("details");
  return combos.slice(0, c.count).map(([domain, aspect, place], i) => ({
    id: `t${String(i).padStart(4, "0")}`,
    domain,
    aspect,
    place,
    proposer: details.pick(PROPOSERS),
    timing: details.pick(TIMINGS),
    amount: details.pick(AMOUNTS),
  }));
}

/** Thrown when the split sizes do not fit the topic count. */
export class TopicSplitError extends Error {
  override name = "TopicSplitError";
}

/** Train / val / test partition: the generated order is already shuffled, so consecutive slices are random splits. */
export function splitTopics(topics: readonly Topic[], config: Partial<TopicsConfig> = {}): Record<TopicSplit, Topic[]> {
  const c = TopicsConfigSchema.parse(config);
  if (c.train + c.test > topics.length)
    throw new TopicSplitError(
      `topics: train (${c.train}) + test (${c.test}) exceed the ${topics.length} topics generated (field topics.count)`,
    );
  return {
    train: topics.slice(0, c.train),
    val: topics.slice(c.train, topics.length - c.test),
    test: topics.slice(topics.length - c.test),
  };
}
