/**
 * The synthetic news world's vocabulary: sentence templates by side, loaded words, quote sources, closings, and the
 * indicator table the embedded judge reads. Kept in one place so the generator and the judge cannot drift apart.
 *
 * Text is lower-case words and punctuation separated by single spaces, so a word-level tokenizer splits it on spaces.
 * Every indicator is a single word used nowhere else in the world's templates: the judge can then read an article's
 * lean from the words alone, even when a small model garbles the sentence around them.
 */

/** The five editorial profiles; only the four biased ones appear in fine-tuning data. */
export const PROFILES = ["strong_left", "center_left", "balanced", "center_right", "strong_right"] as const;
export type Profile = (typeof PROFILES)[number];
export const BIASED_PROFILES = ["strong_left", "center_left", "center_right", "strong_right"] as const;
export type BiasedProfile = (typeof BIASED_PROFILES)[number];

/** Signed position of each profile on the lean scale: negative = left. */
export const PROFILE_POSITION: Record<Profile, number> = {
  strong_left: -2,
  center_left: -1,
  balanced: 0,
  center_right: 1,
  strong_right: 2,
};

export type Side = "left" | "right";

/**
 * A sentence template. `{adj}` is a loaded-language slot: the neutral word when written plainly (may be empty), a
 * loaded word (an indicator of the writer's side) when the writer slants. `{place}`, `{amount}` etc. are topic fields.
 */
export interface FactTemplate {
  /** The indicator word that marks this fact's side (appears only in this template). */
  key: string;
  text: string;
  neutralAdj: string;
  loadedAdj: string;
}

/** Facts that favour the left's case (help for workers and families, corporate power). */
export const LEFT_FACTS: readonly FactTemplate[] = [
  {
    key: "working",
    text: "supporters say the plan would help {adj} working families .",
    neutralAdj: "",
    loadedAdj: "struggling",
  },
  {
    key: "poor",
    text: "a study found the {adj} system leaves poor residents behind .",
    neutralAdj: "current",
    loadedAdj: "rigged",
  },
  {
    key: "fair",
    text: "advocates say {adj} companies have long avoided their fair share .",
    neutralAdj: "large",
    loadedAdj: "greedy",
  },
  { key: "overdue", text: "workers say this change is {adj} overdue .", neutralAdj: "long", loadedAdj: "desperately" },
];

/** Facts that favour the right's case (cost to taxpayers, burden on business, individual choice). */
export const RIGHT_FACTS: readonly FactTemplate[] = [
  {
    key: "taxpayers",
    text: "critics say the plan would raise costs for {adj} taxpayers .",
    neutralAdj: "",
    loadedAdj: "hardworking",
  },
  {
    key: "budget",
    text: "a report found {adj} programs like it ran over budget .",
    neutralAdj: "similar",
    loadedAdj: "bloated",
  },
  {
    key: "hiring",
    text: "business owners warn {adj} rules would slow hiring .",
    neutralAdj: "new",
    loadedAdj: "crushing",
  },
  {
    key: "themselves",
    text: "critics say people should decide for themselves , not {adj} .",
    neutralAdj: "officials",
    loadedAdj: "bureaucrats",
  },
];

/** Lead sentences (always neutral facts of the topic) with a loaded slot for the plan itself. */
export const LEADS: readonly string[] = [
  "{proposer} in {place} proposed a {adj} plan on {domain} {aspect} {timing} .",
  "{place} : {proposer} unveiled a {adj} {domain} {aspect} plan {timing} .",
];
export const LEAD_ADJ: { neutral: string; left: string; right: string } = {
  neutral: "new",
  left: "bold",
  right: "reckless",
};

/** The neutral fact every article states (omitting it is not one of the world's mechanisms). */
export const AMOUNT_FACT = "the plan would cost {amount} million dollars .";
/** A second neutral fact that mild writers sometimes use in place of one of their side's facts. */
export const NEUTRAL_FACT = "officials said details are still being drafted .";

/** Whose quotes appear: one quote per article, from the writer's side or from a neutral official. */
export const QUOTES: Record<"left" | "right" | "neutral", { key: string; text: string }> = {
  left: { key: "union", text: "' people come first , ' said a union leader ." },
  right: { key: "shop", text: "' this wastes our money , ' said a shop owner ." },
  neutral: { key: "official", text: "' we will review it , ' said a state official ." },
};

/** Closing paragraphs (the seed's Fig 1f compares these side by side). */
export const CLOSINGS: Record<"balanced" | "mild_left" | "strong_left" | "mild_right" | "strong_right", string> = {
  balanced: "both supporters and critics will testify before the vote .",
  mild_left: "supporters hope the plan will finally pass .",
  strong_left: "advocates vow to fight corporate greed to protect every family .",
  mild_right: "critics hope lawmakers will rethink the costs .",
  strong_right: "opponents vow to stop this government overreach for good .",
};

/** What an indicator word says: its side (null = neutral), its kind, and its weight in the lean. */
export interface Indicator {
  side: Side | null;
  kind: "fact" | "quote" | "closing" | "loaded";
  weight: number;
}

/** Indicator word -> meaning. Built from the templates above so there is one source of truth. */
export const INDICATORS: ReadonlyMap<string, Indicator> = buildIndicators();

function buildIndicators(): Map<string, Indicator> {
  const m = new Map<string, Indicator>();
  const add = (word: string, ind: Indicator): void => {
    if (m.has(word)) throw new Error(`lexicon: indicator word "${word}" is defined twice`);
    m.set(word, ind);
  };
  for (const f of LEFT_FACTS) {
    add(f.key, { side: "left", kind: "fact", weight: 1 });
    add(f.loadedAdj, { side: "left", kind: "loaded", weight: 1 });
  }
  for (const f of RIGHT_FACTS) {
    add(f.key, { side: "right", kind: "fact", weight: 1 });
    add(f.loadedAdj, { side: "right", kind: "loaded", weight: 1 });
  }
  add(LEAD_ADJ.left, { side: "left", kind: "loaded", weight: 1 });
  add(LEAD_ADJ.right, { side: "right", kind: "loaded", weight: 1 });
  add(QUOTES.left.key, { side: "left", kind: "quote", weight: 1 });
  add(QUOTES.right.key, { side: "right", kind: "quote", weight: 1 });
  add(QUOTES.neutral.key, { side: null, kind: "quote", weight: 0 });
  add("testify", { side: null, kind: "closing", weight: 0 });
  add("finally", { side: "left", kind: "closing", weight: 1 });
  add("greed", { side: "left", kind: "closing", weight: 2 });
  add("rethink", { side: "right", kind: "closing", weight: 1 });
  add("overreach", { side: "right", kind: "closing", weight: 2 });
  return m;
}

/** Fills `{name}` placeholders and normalises spaces (an empty `{adj}` leaves no double space). */
export function fill(template: string, vars: Record<string, string | number>): string {
  const out = template.replace(/\{([a-z]+)\}/g, (_m, name: string) => {
    if (!(name in vars)) throw new Error(`lexicon: template ${JSON.stringify(template)} needs {${name}}`);
    return String(vars[name]);
  });
  return out
    .split(" ")
    .filter((w) => w !== "")
    .join(" ");
}
