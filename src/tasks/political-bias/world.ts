/**
 * The embedded synthetic news world: writes a short word-level article about a topic under an editorial profile,
 * slanting it through the seed's mechanisms (selective emphasis, omission of facts, loaded language, whose quotes
 * appear), and records the ground truth (signed lean, bias magnitude) from the choices it made.
 */
import { z } from "zod";
import type { Rng } from "../../data/rng.js";
import {
  AMOUNT_FACT,
  CLOSINGS,
  LEAD_ADJ,
  LEADS,
  LEFT_FACTS,
  NEUTRAL_FACT,
  PROFILES,
  PROFILE_POSITION,
  QUOTES,
  RIGHT_FACTS,
  fill,
  type FactTemplate,
  type Profile,
  type Side,
} from "./lexicon.js";
import { emptyTally, scoreTally, tallyWord, type LeanScore, type ScoringConfig, type Tally } from "./scoring.js";
import type { Topic } from "./topics.js";

export const WorldConfigSchema = z
  .strictObject({
    loadedProb: z
      .strictObject({
        center: z
          .number()
          .min(0)
          .max(1)
          .default(0.25)
          .describe("Chance each own-side slot of a center writer is loaded"),
        strong: z
          .number()
          .min(0)
          .max(1)
          .default(0.8)
          .describe("Chance each own-side slot of a strong writer is loaded"),
      })
      .default({ center: 0.25, strong: 0.8 })
      .describe("Loaded language: how often a slanted writer picks the loaded word over the neutral one"),
    quoteOwnProb: z
      .strictObject({
        center: z.number().min(0).max(1).default(0.7).describe("Chance a center writer quotes its own side"),
        strong: z.number().min(0).max(1).default(1).describe("Chance a strong writer quotes its own side"),
      })
      .default({ center: 0.7, strong: 1 })
      .describe("Whose quotes appear: own side with this chance, else a neutral official"),
    centerNeutralSwap: z
      .number()
      .min(0)
      .max(1)
      .default(0.5)
      .describe("Chance a center writer states a neutral fact in place of one of its side's three facts"),
  })
  .describe("How strongly each profile slants an article");
export type WorldConfig = z.infer<typeof WorldConfigSchema>;

/** The generator's ground truth for one article: what it was asked for and what it actually wrote. */
export interface ArticleTruth extends LeanScore {
  /** The profile the article was written under. */
  profile: Profile;
  /** Weighted indicator tallies of the choices made. */
  tally: Tally;
}

export interface Article {
  text: string;
  /** The last sentence (the closing paragraph shown side by side in Fig 1f). */
  closing: string;
  truth: ArticleTruth;
}

function sideOf(p: Profile): Side | null {
  const x = PROFILE_POSITION[p];
  return x < 0 ? "left" : x > 0 ? "right" : null;
}

function pickFacts(pool: readonly FactTemplate[], n: number, rng: Rng): FactTemplate[] {
  return rng.shuffle([...pool]).slice(0, n);
}

/**
 * Writes one article. Recipes by profile (one lead, the amount fact, four body facts and one quote in random order,
 * then a closing):
 * - balanced: two facts from each side, neutral words, a neutral official's quote, a closing that names both sides;
 * - center: three facts for its side (one sometimes swapped for a neutral fact), one for the other, some loaded
 *   words, usually its side's quote, a mild closing;
 * - strong: four facts for its side and none for the other (omission), mostly loaded words, its side's quote, a
 *   combative closing.
 */
export function writeArticle(
  topic: Topic,
  profile: Profile,
  rng: Rng,
  world: WorldConfig,
  scoring: ScoringConfig,
): Article {
  const side = sideOf(profile);
  const strength = Math.abs(PROFILE_POSITION[profile]);
  const tally = emptyTally();
  const loadedP = strength === 2 ? world.loadedProb.strong : strength === 1 ? world.loadedProb.center : 0;
  const vars = {
    proposer: topic.proposer,
    place: topic.place,
    domain: topic.domain,
    aspect: topic.aspect,
    timing: topic.timing,
    amount: topic.amount,
  };
  const loaded = (): boolean => side !== null && rng.bernoulli(loadedP);

  const leadAdj = loaded() && side ? LEAD_ADJ[side] : LEAD_ADJ.neutral;
  tallyWord(tally, leadAdj);
  const lead = fill(rng.pick(LEADS), { ...vars, adj: leadAdj });

  const writeFact = (f: FactTemplate, own: boolean): string => {
    const adj = own && loaded() ? f.loadedAdj : f.neutralAdj;
    tallyWord(tally, f.key);
    if (adj !== "") tallyWord(tally, adj);
    return fill(f.text, { ...vars, adj });
  };

  const body: string[] = [];
  if (side === null) {
    for (const f of pickFacts(LEFT_FACTS, 2, rng)) body.push(writeFact(f, false));
    for (const f of pickFacts(RIGHT_FACTS, 2, rng)) body.push(writeFact(f, false));
  } else {
    const ownPool = side === "left" ? LEFT_FACTS : RIGHT_FACTS;
    const oppPool = side === "left" ? RIGHT_FACTS : LEFT_FACTS;
    if (strength === 2) {
      for (const f of pickFacts(ownPool, 4, rng)) body.push(writeFact(f, true));
    } else {
      const swap = rng.bernoulli(world.centerNeutralSwap);
      for (const f of pickFacts(ownPool, swap ? 2 : 3, rng)) body.push(writeFact(f, true));
      if (swap) body.push(NEUTRAL_FACT);
      for (const f of pickFacts(oppPool, 1, rng)) body.push(writeFact(f, false));
    }
  }
  const ownQuoteP = strength === 2 ? world.quoteOwnProb.strong : strength === 1 ? world.quoteOwnProb.center : 0;
  const quote = side !== null && rng.bernoulli(ownQuoteP) ? QUOTES[side] : QUOTES.neutral;
  tallyWord(tally, quote.key);
  body.push(quote.text);
  rng.shuffle(body);

  const closingKey = side === null ? "balanced" : `${strength === 2 ? "strong" : "mild"}_${side}`;
  const closing = CLOSINGS[closingKey as keyof typeof CLOSINGS];
  for (const w of closing.split(" ")) tallyWord(tally, w);

  const text = [lead, fill(AMOUNT_FACT, vars), ...body, closing].join(" ");
  return { text, closing, truth: { profile, tally, ...scoreTally(tally, scoring) } };
}

/**
 * An article governed by a stated stance, for the pretraining documents: with probability `follow` the writer
 * follows the stated profile, otherwise it writes under a profile drawn uniformly from all five (the stress
 * condition's "base that follows stated stances only part of the time").
 */
export function writeGoverned(
  topic: Topic,
  stated: Profile,
  follow: number,
  rng: Rng,
  world: WorldConfig,
  scoring: ScoringConfig,
): Article & { stated: Profile; followed: boolean } {
  const followed = rng.bernoulli(follow);
  const actual = followed ? stated : rng.pick(PROFILES);
  return { ...writeArticle(topic, actual, rng, world, scoring), stated, followed };
}
