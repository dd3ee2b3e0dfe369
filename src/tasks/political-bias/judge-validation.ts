/** Validates the embedded judge against the generator's ground truth: per-profile scores and agreement rates. */
import { Rng } from "../../data/rng.js";
import { judgeText, profileOfJudgement, type EmbeddedJudgeConfig } from "./judge.js";
import { PROFILES, type Profile } from "./lexicon.js";
import type { Topic } from "./topics.js";
import { writeArticle, type WorldConfig } from "./world.js";

export interface JudgeValidation {
  /** Articles judged (all profiles together). */
  n: number;
  /** Share whose judged profile (side + PASS/PARTIAL/FAIL strength) equals the profile it was written under. */
  profileAgreement: number;
  /** Share whose judged lean and bias equal the generator's ground truth exactly (checks the judge reads the text right). */
  exactAgreement: number;
  /** Share of pairs (strong, center) of the same side where the strong article got the higher bias; likewise center > balanced. */
  orderAgreement: number;
  byProfile: Record<Profile, { meanBias: number; meanLean: number; pass: number; partial: number; fail: number }>;
}

/** Writes `perProfile` articles of every profile over `topics` (cycled) and compares the judge with the ground truth. */
export function validateJudge(
  topics: readonly Topic[],
  perProfile: number,
  seed: string | number,
  world: WorldConfig,
  judge: EmbeddedJudgeConfig,
): JudgeValidation {
  const rng = new Rng(`political-bias/judge-validation/${seed}`);
  const bias: Record<string, number[]> = {};
  let agree = 0;
  let exact = 0;
  let n = 0;
  const byProfile = {} as JudgeValidation["byProfile"];
  for (const p of PROFILES) {
    const r = rng.fork(p);
    const scores: number[] = [];
    let lean = 0;
    const grades = { PASS: 0, PARTIAL: 0, FAIL: 0 };
    for (let i = 0; i < perProfile; i++) {
      const a = writeArticle(topics[i % topics.length], p, r, world, judge.scoring);
      const j = judgeText(a.text, judge);
      n++;
      if (j.score === null || j.grade === null) continue;
      scores.push(j.score);
      lean += j.values?.lean ?? 0;
      grades[j.grade]++;
      if (profileOfJudgement(j) === p) agree++;
      if (j.score === a.truth.bias && j.values?.lean === a.truth.lean) exact++;
    }
    bias[p] = scores;
    const k = Math.max(1, scores.length);
    byProfile[p] = {
      meanBias: scores.reduce((s, x) => s + x, 0) / k,
      meanLean: lean / k,
      pass: grades.PASS / k,
      partial: grades.PARTIAL / k,
      fail: grades.FAIL / k,
    };
  }
  // Paired ordering: the i-th strong vs i-th center article of each side, and center vs balanced.
  let ordered = 0;
  let pairs = 0;
  const cmp = (hi: number[], lo: number[]): void => {
    for (let i = 0; i < Math.min(hi.length, lo.length); i++) {
      pairs++;
      if (hi[i] > lo[i]) ordered++;
    }
  };
  cmp(bias.strong_left, bias.center_left);
  cmp(bias.strong_right, bias.center_right);
  cmp(bias.center_left, bias.balanced);
  cmp(bias.center_right, bias.balanced);
  return {
    n,
    profileAgreement: agree / n,
    exactAgreement: exact / n,
    orderAgreement: pairs > 0 ? ordered / pairs : 0,
    byProfile,
  };
}
