/** What a run's results.json holds and the report draws: charts, curves, samples, tables, the seed comparison. */
/** A number with its 95% confidence interval over seeds (or bootstrap), as the report draws it (see src/eval/stats.ts). */
import type { Estimate } from "../eval/stats.js";
export type { Estimate };

/** Bars with CI whiskers: one metric, one value per arm (optionally per group, e.g. a condition). */
export interface BarChart {
  id: string;
  title: string;
  metric: string;
  /** Axis label, e.g. "sycophancy (share of wrong candidates called correct)". */
  yLabel: string;
  lowerIsBetter?: boolean;
  bars: Array<{ arm: string; group?: string } & Estimate>;
}

/** Lines over a label sweep (Fig 2c / Fig 1e): x is the label's numeric position or an index into `xLabels`. */
export interface SweepChart {
  id: string;
  title: string;
  metric: string;
  xLabel: string;
  yLabel: string;
  /** Optional names for x positions (categorical sweeps). */
  xLabels?: string[];
  points: Array<{ arm: string; x: number } & Estimate>;
}

/** Training curves: read by the report from each train job's metrics JSONL; the task names which files and fields. */
export interface CurveSource {
  arm: string;
  seed: string;
  /** Path relative to the run directory of a metrics JSONL with one object per step (a `step` field). */
  file: string;
  /** Fields to plot, e.g. ["loss"] or ["reward_mean", "entropy"]. */
  fields: string[];
}

export interface SampleRow {
  arm: string;
  seed: string;
  label: string;
  prompt: string;
  output: string;
  /** Judge / reward values shown as columns. */
  values: Record<string, number | string | null>;
}

/** A row of the "ours vs the seed" section: stated plainly, whatever we measured. */
export interface SeedComparisonRow {
  quantity: string;
  seed: string;
  ours: string;
  /** One sentence: agrees / differs / not comparable, and why. */
  verdict: string;
}

export interface Table {
  title: string;
  columns: string[];
  rows: Array<Array<string | number | null>>;
}

/** Everything the report shows, produced by `Task.summarize`. Written to results.json (so it must be JSON). */
/** File format of results.json; a reader refuses another one instead of drawing it wrongly. */
export const RESULTS_FORMAT = "mst-results/1";

export interface TaskResults {
  /** `RESULTS_FORMAT`; the runner sets it when it writes results.json (absent in files written before it existed). */
  format?: string;
  task: string;
  preset: string;
  /** A few numbers for `mst runs`, e.g. { "sycophancy@0% mst": 0.12 }. */
  headline: Record<string, number>;
  /** Plain-language findings, shown first in the report (what happened, including failures). */
  findings: string[];
  bars: BarChart[];
  sweeps: SweepChart[];
  curves: CurveSource[];
  samples: SampleRow[];
  seedComparison: SeedComparisonRow[];
  tables: Table[];
}
