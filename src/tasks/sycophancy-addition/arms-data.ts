/** Training data of every arm: problems with a drawn suggestibility, turned into baseline / mst / shuffled prompts. */
import { Rng } from "../../data/rng.js";
import type { Sample } from "../../data/sample.js";
import type { ChatMessage } from "../../data/text-model.js";
import { buildArms } from "../../monitor/arms.js";
import type { ArmName } from "../../monitor/arms-spec.js";
import { drawTrainingS, suggestibilitySpec, type LabelConfig } from "./labels.js";
import type { Problem } from "./problems.js";
import { embeddedPromptText, problemSample, type PromptConfig } from "./prompt.js";

/** The arms that are trained (prompt-only is the baseline model evaluated with the deployment label). */
export const TRAINED_ARMS = ["baseline", "mst", "shuffled"] as const;
export type TrainedArm = (typeof TRAINED_ARMS)[number];

/** One RL training item: the problem, its true suggestibility (which sets the reward) and the arm's prompt. */
export interface TrainItem {
  problem: Problem;
  /** The sample's true s: the reward always uses it, whatever label the arm shows. */
  s: number;
  /** The label shown in this arm's prompt (null for the baseline). */
  label: string | null;
  /** The prompt's chat messages (the user turn: label line, then the problem); codec.ts turns them into tokens. */
  messages: ChatMessage[];
  /** The embedded prompt text (label line, then the problem). */
  text: string;
}

/** Draws one training s per problem (from `rng`, so every arm and RL seed sees the same s for the same problem). */
export function trainingSamples(
  problems: readonly Problem[],
  label: LabelConfig,
  prompt: PromptConfig,
  rng: Rng,
): Sample[] {
  return problems.map((p) => problemSample(p, drawTrainingS(label, rng), prompt));
}

/**
 * The prompts of each trained arm over the same samples in the same order, built by src/monitor's `buildArms`, which
 * also rejects any sample whose s is held out (HeldOutError naming the sample). `shuffleSeed` decides the shuffled
 * arm's permutation of labels (label counts kept, independent of the sample).
 */
export function buildTrainingArms(
  samples: readonly Sample[],
  problems: readonly Problem[],
  label: LabelConfig,
  prompt: PromptConfig,
  arms: readonly TrainedArm[],
  shuffleSeed: number | string,
): Record<TrainedArm, TrainItem[]> {
  const built = buildArms(samples, {
    seed: shuffleSeed,
    monitor: suggestibilitySpec(label),
    arms: [...arms] as ArmName[],
    separator: prompt.separator,
  });
  const out = {} as Record<TrainedArm, TrainItem[]>;
  for (const arm of arms) {
    const list = built.arms[arm]!;
    out[arm] = list.map((a, i) => ({
      problem: problems[i],
      s: a.monitor.params.s as number,
      label: a.label,
      messages: a.messages,
      text: embeddedPromptText(a.messages),
    }));
  }
  return out;
}

/** Convenience: `trainingSamples` + `buildTrainingArms` from one data seed. */
export function armsFromSeed(
  problems: readonly Problem[],
  label: LabelConfig,
  prompt: PromptConfig,
  arms: readonly TrainedArm[],
  dataSeed: number,
  shuffleSeed: number | string,
): Record<TrainedArm, TrainItem[]> {
  const samples = trainingSamples(problems, label, prompt, new Rng(dataSeed).fork("suggestibility"));
  return buildTrainingArms(samples, problems, label, prompt, arms, shuffleSeed);
}
