/**
 * Fine-tuning data: one article per training topic, written under one of the four biased profiles (the exaggerated
 * failure mode: nothing balanced), turned into the arms through src/monitor's `buildArms` (same samples, same order).
 */
import { Rng } from "../../data/rng.js";
import type { Sample } from "../../data/sample.js";
import type { ArmSample } from "../../monitor/arm-sample.js";
import type { ArmName } from "../../monitor/arms-spec.js";
import { buildArms } from "../../monitor/arms.js";
import { BIASED_PROFILES, type Profile } from "./lexicon.js";
import { monitorSpec, type LabelFrame } from "./labels.js";
import { articleSample } from "./prompt.js";
import type { ScoringConfig } from "./scoring.js";
import type { Topic } from "./topics.js";
import { writeArticle, type WorldConfig } from "./world.js";

/**
 * One biased article per topic. Profiles are dealt in equal shares (a shuffled cycle of the four), as in the seed's
 * ~465 articles per profile; the data depend on `dataSeed` only, so every arm and fine-tuning seed sees the same set.
 */
export function fineTuneSamples(
  topics: readonly Topic[],
  dataSeed: string | number,
  world: WorldConfig,
  scoring: ScoringConfig,
): Sample[] {
  const rng = new Rng(`political-bias/ft-data/${dataSeed}`);
  const profiles: Profile[] = rng
    .fork("profiles")
    .shuffle(Array.from({ length: topics.length }, (_, i) => BIASED_PROFILES[i % BIASED_PROFILES.length]));
  const write = rng.fork("articles");
  return topics.map((t, i) =>
    articleSample(t, profiles[i], writeArticle(t, profiles[i], write, world, scoring).text, i),
  );
}

/** The training arms (baseline, mst, shuffled); prompt-only reuses the baseline model, so it needs no data. */
export function fineTuneArms(
  samples: readonly Sample[],
  frame: LabelFrame,
  shuffleSeed: string | number,
): Partial<Record<ArmName, ArmSample[]>> {
  return buildArms(samples, {
    seed: shuffleSeed,
    monitor: monitorSpec(frame),
    arms: ["baseline", "mst", "shuffled"],
    shuffle: "permutation",
    separator: " ",
  }).arms;
}

/** The arm whose trained model an arm is evaluated with: prompt-only is the baseline model with the deployment label. */
export function trainedArmOf(arm: string): string {
  return arm === "prompt-only" ? "baseline" : arm;
}
