/** Turns toy job results into TaskResults: bars with CIs, a label sweep, curves, samples and tables. */
import type { Json } from "../../data/sample.js";
import type { BarChart, JobSpec, PlanInput, SampleRow, SweepChart, TaskResults } from "../../experiment/task.js";
import type { ToyConfig } from "./config.js";
import { estimateMean } from "./estimate.js";
import { evalId, trainId } from "./plan.js";
import { toyLabel } from "./run-job.js";

interface EvalRow {
  label: number;
  sycophancy: number;
  accuracy: number;
}
interface EvalResult {
  deployment: EvalRow;
  sweep: EvalRow[];
  samples: Array<{ label: number; prompt: string; output: string; right: boolean }>;
}
interface TrainResult {
  finalLoss: number;
  sensitivity: number;
}

/** Shares (rates) live in [0, 1]; their CIs are clipped there. */
const SHARE: [number, number] = [0, 1];
const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

export function summarizeToy(
  config: ToyConfig,
  input: PlanInput,
  _jobs: JobSpec[],
  results: Record<string, Json>,
  preset: string,
): TaskResults {
  const runs: Array<{ arm: string; b: number; s: number; ev: EvalResult; tr: TrainResult }> = [];
  for (const arm of input.arms)
    for (const b of input.baseSeeds)
      for (const s of input.seeds) {
        runs.push({
          arm,
          b,
          s,
          ev: results[evalId(arm, b, s)] as unknown as EvalResult,
          tr: results[trainId(arm, b, s)] as unknown as TrainResult,
        });
      }
  const nRuns = input.baseSeeds.length * input.seeds.length;
  const dep = config.deploymentLabel;
  const byArm = (arm: string) => runs.filter((r) => r.arm === arm);

  const syc: BarChart = {
    id: "sycophancy-deployment",
    title: `Sycophancy at the deployment label (${dep}%)`,
    metric: "sycophancy",
    yLabel: "sycophancy (share of wrong candidates called correct)",
    lowerIsBetter: true,
    bars: input.arms.map((arm) => ({
      arm,
      ...estimateMean(
        byArm(arm).map((r) => r.ev.deployment.sycophancy),
        SHARE,
      ),
    })),
  };
  const acc: BarChart = {
    id: "accuracy-deployment",
    title: `Accuracy at the deployment label (${dep}%)`,
    metric: "accuracy",
    yLabel: "accuracy (share judged correctly)",
    bars: input.arms.map((arm) => ({
      arm,
      ...estimateMean(
        byArm(arm).map((r) => r.ev.deployment.accuracy),
        SHARE,
      ),
    })),
  };
  const lo = Math.min(...config.sweepLabels);
  const hi = Math.max(...config.sweepLabels);
  const grouped: BarChart = {
    id: "sycophancy-extremes",
    title: "Sycophancy at the lowest and highest swept label",
    metric: "sycophancy",
    yLabel: "sycophancy",
    lowerIsBetter: true,
    bars: input.arms.flatMap((arm) =>
      [lo, hi].map((l) => ({
        arm,
        group: `label ${l}%`,
        ...estimateMean(
          byArm(arm).map((r) => r.ev.sweep.find((x) => x.label === l)?.sycophancy ?? NaN),
          SHARE,
        ),
      })),
    ),
  };
  const sweep: SweepChart = {
    id: "sycophancy-sweep",
    title: "Sycophancy across the label sweep",
    metric: "sycophancy",
    xLabel: "suggestibility label (%)",
    yLabel: "sycophancy",
    points: input.arms.flatMap((arm) =>
      config.sweepLabels.map((l) => ({
        arm,
        x: l,
        ...estimateMean(
          byArm(arm).map((r) => r.ev.sweep.find((x) => x.label === l)?.sycophancy ?? NaN),
          SHARE,
        ),
      })),
    ),
  };
  const samples: SampleRow[] = input.arms.flatMap((arm) => {
    const r = byArm(arm)[0];
    return r.ev.samples.map((x) => ({
      arm,
      seed: `b${r.b} s${r.s}`,
      label: toyLabel(x.label),
      prompt: x.prompt,
      output: x.output,
      values: { candidate: x.right ? "right" : "wrong" },
    }));
  });

  const headline: Record<string, number> = {};
  for (const bar of syc.bars) headline[`sycophancy@${dep}% ${bar.arm}`] = bar.mean;
  const findings: string[] = [
    `Toy task (simulated, no model): ${input.arms.length} arms x ${nRuns} runs each (${input.baseSeeds.length} base x ${input.seeds.length} seeds), ${config.steps} steps, compared at the same step count.`,
  ];
  const m = syc.bars.find((b) => b.arm === "mst");
  for (const other of ["baseline", "shuffled"]) {
    const o = syc.bars.find((b) => b.arm === other);
    if (m && o) {
      const verdict =
        m.hi < o.lo
          ? "lower, and the CIs do not overlap"
          : m.mean < o.mean
            ? "lower, but the CIs overlap"
            : "not lower";
      findings.push(`MST sycophancy at ${dep}%: ${pct(m.mean)} vs ${other} ${pct(o.mean)} (${verdict}).`);
    }
  }
  return {
    task: "toy",
    preset,
    headline,
    findings,
    bars: [syc, acc, grouped],
    sweeps: [sweep],
    curves: runs.map((r) => ({
      arm: r.arm,
      seed: `b${r.b} s${r.s}`,
      file: `jobs/${trainId(r.arm, r.b, r.s)}/metrics.jsonl`,
      fields: ["loss", "reward_mean"],
    })),
    samples,
    seedComparison: [
      {
        quantity: "Sycophancy at 0%: MST vs PPO baseline",
        seed: "MST lower than both baselines",
        ours: m ? `MST ${pct(m.mean)}` : "MST not run",
        verdict: "Not comparable: the toy task simulates numbers to exercise the runner and report.",
      },
    ],
    tables: [
      {
        title: "Every run at the deployment label",
        columns: ["arm", "base", "seed", "final loss", "label sensitivity", "sycophancy", "accuracy"],
        rows: runs.map((r) => [
          r.arm,
          r.b,
          r.s,
          Number(r.tr.finalLoss.toFixed(4)),
          Number(r.tr.sensitivity.toFixed(3)),
          Number(r.ev.deployment.sycophancy.toFixed(3)),
          Number(r.ev.deployment.accuracy.toFixed(3)),
        ]),
      },
    ],
  };
}
