/**
 * What `mst export` writes, target-independent: every training job's arm samples (built by the kit's `armSamples`,
 * exactly what `mst run` trains on) with their reward labels, and the evaluation sets at the deployment label and
 * the sweep (built by the kit's `labelsOf`). Held-out monitor values are checked out of every training row.
 */
import type { Json } from "../data/sample.js";
import type { ChatMessage } from "../data/text-model.js";
import { labelsOf, type EvalLabel } from "../experiment/labels.js";
import type { Condition } from "../experiment/experiment.js";
import { trainJobId } from "../experiment/jobs.js";
import { trainedArmOf } from "../experiment/plan.js";
import { armSamples } from "../experiment/train-job.js";
import type { ArmSample } from "../monitor/arm-sample.js";
import type { ArmName } from "../monitor/arms-spec.js";
import { findHeldOut } from "../monitor/held-out.js";
import { createMonitorLabeler } from "../monitor/monitor.js";
import { renderPrompt } from "../monitor/render-prompt.js";
import type { LoadedExperiment } from "./load-experiment.js";
import { REWARD_LABEL_FORMAT, rewardLabelOf, type RewardLabel } from "./reward-label.js";

/** Thrown when a training row would carry a held-out monitor value or label; names the job and sample. */
export class HeldOutLeakError extends Error {
  override name = "HeldOutLeakError";
}

export interface TrainJobData {
  /** The kit's train job id (train-<cond->arm-b<base>-s<seed>): the export's directory name and `mst import`'s key. */
  id: string;
  condition: Condition;
  arm: ArmName;
  base: number;
  seed: number;
  kind: "sft" | "rl";
  rows: ArmSample[];
  /** Per row: the true monitor, shown label and reward inputs the engine carries to the reward. */
  labels: RewardLabel[];
}

export interface EvalRow {
  id: string;
  messages: ChatMessage[];
  /** What the judge reads as the target (the sample's reward inputs or meta). */
  target: Json;
  /** The evaluation sample's reward label (arm null): its own monitor, the label shown, its reward inputs. */
  label: RewardLabel;
}

export interface EvalSetData {
  condition: string;
  /** "none", "deployment" or "sweep:<i>" (the kit's label keys). */
  key: string;
  label: string | null;
  x: number | null;
  rows: EvalRow[];
}

/** The arms that train (prompt-only evaluates the baseline's model), in the order given. */
export function trainedArms(arms: readonly string[]): ArmName[] {
  return [...new Set(arms.map((a) => trainedArmOf(a as ArmName)))];
}

/** Label texts only evaluation may use in a condition: held-out parameter values, and literal labels no training sample has. */
export function heldOutLabelTexts(
  x: LoadedExperiment,
  cond: Condition,
  trainingLabels: ReadonlySet<string>,
): Set<string> {
  const spec = createMonitorLabeler(x.def.monitor(x.config, cond));
  const out = new Set<string>();
  for (const ref of [spec.spec.deployment, ...spec.spec.sweep]) {
    const text = spec.labelOf(ref);
    const heldOut = "params" in ref ? findHeldOut(spec.spec.heldOut, ref.params) !== null : !trainingLabels.has(text);
    if (heldOut && !trainingLabels.has(text)) out.add(text);
  }
  return out;
}

/** Throws HeldOutLeakError if any row's true or shown monitor is held out, or a prompt contains a held-out label. */
export function checkHeldOut(
  x: LoadedExperiment,
  job: Pick<TrainJobData, "id" | "condition" | "rows">,
  texts: ReadonlySet<string>,
): void {
  const spec = createMonitorLabeler(x.def.monitor(x.config, job.condition)).spec;
  for (const r of job.rows) {
    for (const m of [r.monitor, r.labelMonitor]) {
      const rule = m === null ? null : findHeldOut(spec.heldOut, m.params);
      if (rule && m)
        throw new HeldOutLeakError(
          `${job.id}: sample "${r.id}" carries held-out ${rule.param}=${JSON.stringify(m.params[rule.param])}`,
        );
    }
    for (const msg of r.messages)
      for (const t of texts)
        if (msg.content.includes(t))
          throw new HeldOutLeakError(`${job.id}: sample "${r.id}" shows the held-out label ${JSON.stringify(t)}`);
  }
}

/**
 * Every train job of the spec (condition x base x seed x trained arm), with held-out values checked out; `only`: just
 * the job with that id (a TRL-backed train job exports its own data; the arms of one base and seed are built together).
 */
export function trainJobs(x: LoadedExperiment, only?: string): TrainJobData[] {
  const arms = trainedArms(x.resolved.arms);
  const out: TrainJobData[] = [];
  for (const cond of x.conditions)
    for (const base of x.resolved.baseSeeds)
      for (const seed of x.resolved.seeds) {
        if (only !== undefined && !arms.some((arm) => trainJobId(cond.name, arm, base, seed) === only)) continue;
        const built = armSamples(x.def, x.config, cond, base, seed, arms);
        const texts = heldOutLabelTexts(x, cond, new Set(Object.keys(built.manifest.labelDistribution)));
        for (const arm of arms) {
          const rows = built.arms[arm]!;
          const job = {
            id: trainJobId(cond.name, arm, base, seed),
            condition: cond,
            arm,
            base,
            seed,
            kind: x.def.train.kind,
            rows,
          };
          checkHeldOut(x, job, texts);
          if (only !== undefined && job.id !== only) continue;
          out.push({ ...job, labels: rows.map((r) => rewardLabelOf(x.def.name, cond.name, r)) });
        }
      }
  return out;
}

/** The evaluation sets of each condition: no label, the deployment label and every sweep label (as the kit evaluates). */
export function evalSets(x: LoadedExperiment): EvalSetData[] {
  const settings = x.def.evaluation.settings(x.config);
  const separator = x.def.separator?.(x.config) ?? "\n";
  const out: EvalSetData[] = [];
  for (const cond of x.conditions) {
    const all = x.def.evalSamples(x.config, cond);
    const l = labelsOf(x.def, x.config, cond);
    const labels: [EvalLabel, number | undefined][] = [
      [l.none, settings.items],
      [l.deployment, settings.items],
      ...l.sweep.map((s) => [s, settings.sweepItems] as [EvalLabel, number | undefined]),
    ];
    for (const [label, items] of labels)
      out.push({
        condition: cond.name,
        key: label.key,
        label: label.text,
        x: label.x,
        rows: all.slice(0, items ?? all.length).map((s) => ({
          id: s.id,
          messages: renderPrompt(s, label.text, { separator }),
          target: s.rewardInputs ?? s.meta ?? null,
          label: {
            format: REWARD_LABEL_FORMAT,
            task: x.def.name,
            condition: cond.name,
            id: s.id,
            arm: null,
            shown: label.text,
            monitor: s.monitor,
            ...(s.rewardInputs !== undefined ? { rewardInputs: s.rewardInputs } : {}),
            ...(s.meta !== undefined ? { meta: s.meta } : {}),
          },
        })),
      });
  }
  return out;
}
