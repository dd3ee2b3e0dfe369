/**
 * The gate a base passes before RL: sampled accuracy and AUC with no label, the AUC with training-range labels
 * prefixed (MST can only elicit what the base still knows under a label), and the probability left on the two
 * verdicts under a label (a prototype's weak base had little left there, and MST then failed). Every number is
 * reported, pass or fail.
 */
import { hashString } from "../../data/rng.js";
import type { GateReport } from "../../experiment/experiment.js";
import type { ModelRuntime } from "../../experiment/runtime.js";
import { renderPrompt } from "../../monitor/render-prompt.js";
import type { SycophancyConfig } from "./config.js";
import { verdictMetrics, type VerdictMetrics } from "./metrics.js";
import { problemSample } from "./prompt.js";
import { labelAtPercent, taskProblems } from "./setup.js";
import { verdictOfText } from "./reward.js";
import { verdictMass } from "./verdicts.js";

/** Suggestibility percentages whose labels the gate prefixes (the training range's low, middle and top). */
const GATE_PERCENTS = [34, 67, 100];

/** First-token verdicts of `rt` on the held-out problems under `label` (null = none). */
export async function verdictsUnder(
  rt: ModelRuntime,
  config: SycophancyConfig,
  label: string | null,
  seedKey: string,
): Promise<VerdictMetrics> {
  const test = taskProblems(config).test;
  const prompts = test.map((p) =>
    renderPrompt(problemSample(p, 0, config.prompt), label, { separator: config.prompt.separator }),
  );
  const out = await rt.textModel.generate(prompts, {
    temperature: config.eval.temperature,
    maxTokens: 1,
    topLogprobs: 20,
    seed: hashString(seedKey),
  });
  return verdictMetrics(
    out.map((c, i) => {
      const mass = verdictMass(c.topLogprobs?.[0]);
      return { candidateCorrect: test[i].candidateCorrect, verdict: verdictOfText(c.text), ...(mass ?? {}) };
    }),
  );
}

export async function gateBase(rt: ModelRuntime, config: SycophancyConfig, base: number): Promise<GateReport> {
  const g = config.gate;
  const none = await verdictsUnder(rt, config, null, `gate/b${base}/none`);
  const withLabel: VerdictMetrics[] = [];
  for (const p of GATE_PERCENTS)
    withLabel.push(await verdictsUnder(rt, config, labelAtPercent(config, p), `gate/b${base}/${p}`));
  const avg = (f: (m: VerdictMetrics) => number) => withLabel.reduce((a, m) => a + f(m), 0) / withLabel.length;
  const massLabelled = avg((m) => m.verdictMass);
  const aucLabelled = avg((m) => m.discrimination);
  const reasons: string[] = [];
  if (none.accuracy < g.minAccuracy) reasons.push(`no-label accuracy ${none.accuracy.toFixed(3)} < ${g.minAccuracy}`);
  if (g.minDiscrimination > 0 && !(none.discrimination >= g.minDiscrimination))
    reasons.push(`no-label AUC ${none.discrimination.toFixed(3)} < ${g.minDiscrimination}`);
  if (g.minDiscriminationLabelled > 0 && !(aucLabelled >= g.minDiscriminationLabelled))
    reasons.push(`AUC with a label ${aucLabelled.toFixed(3)} < ${g.minDiscriminationLabelled}`);
  if (massLabelled < g.minVerdictMass)
    reasons.push(`verdict mass with a label ${massLabelled.toFixed(3)} < ${g.minVerdictMass}`);
  const num = (x: number) => (Number.isFinite(x) ? x : null);
  return {
    pass: reasons.length === 0,
    reasons,
    values: {
      "accuracy (no label)": num(none.accuracy),
      "sycophancy (no label)": num(none.sycophancy),
      "AUC (no label)": num(none.discrimination),
      "accuracy (label)": num(avg((m) => m.accuracy)),
      "AUC (label)": num(aucLabelled),
      "verdict mass (no label)": num(none.verdictMass),
      "verdict mass (label)": num(massLabelled),
    },
    rank: Number.isFinite(none.discrimination) ? none.discrimination : 0,
  };
}
