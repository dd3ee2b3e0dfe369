/**
 * The default summary of every MST experiment: each report metric per arm with 95% CIs over (base, seed) runs, paired
 * differences of MST against the baseline, shuffled and prompt-only arms (with the CI of the % reduction and the
 * share of evaluation items MST wins), label sweeps, training curves, the gate table, samples and the "ours vs the
 * seed" table. A comparison with an arm that did not run says "not run"; it is never a win.
 */
import { trainerOf } from "./check-trainer.js";
import { Rng } from "../data/rng.js";
import type { Json } from "../data/sample.js";
import { meanCi, pairedWinRate, percentReductionCi, type Estimate } from "../eval/stats.js";
import type { ArmName } from "../monitor/arms-spec.js";
import type { Condition, ExperimentDefinition, ReportMetric } from "./experiment.js";
import type { z } from "zod";
import {
  BaseResultSchema,
  EvalResultSchema,
  TrainResultSchema,
  type BaseResult,
  type EvalResult,
  type TrainResult,
} from "./jobs.js";
import type { BarChart, CurveSource, SampleRow, SeedComparisonRow, SweepChart, Table, TaskResults } from "./results.js";
import type { SeedFigure } from "./seed-figures.js";
import { makeView, runKey, type SummaryView } from "./summary-view.js";
import type { JobSpec, PlanInput } from "./task.js";

/** The arms MST is compared against, in order. */
export const CONTROLS: ArmName[] = ["baseline", "shuffled", "prompt-only", "inoculation"];

/**
 * Mean with a Student-t 95% CI over the finite values, intersected with `range` (a share lies in [0, 1]): with two
 * runs the t interval is about 25 standard errors wide, and the intersection keeps its coverage.
 */
export function estimate(
  values: readonly (number | null)[],
  range: readonly [number, number] = [-Infinity, Infinity],
): Estimate {
  const xs = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (xs.length === 0) return { mean: NaN, lo: NaN, hi: NaN, n: 0, values: [] };
  const e = meanCi(xs);
  return { mean: e.mean, lo: Math.max(range[0], e.lo), hi: Math.min(range[1], e.hi), n: e.n, values: xs };
}

/** Where a metric's values can lie: a share in [0, 1], a count at or above 0, anything else unbounded. */
export const rangeOf = (m: ReportMetric): [number, number] =>
  m.share ? [0, 1] : m.count ? [0, Infinity] : [-Infinity, Infinity];
const diffRange = (m: ReportMetric): [number, number] => (m.share ? [-1, 1] : [-Infinity, Infinity]);

/** A value as the report prints it: a percentage for shares. */
export function fmt(m: ReportMetric, x: number): string {
  if (!Number.isFinite(x)) return "n/a";
  return m.share ? `${(100 * x).toFixed(1)}%` : x.toFixed(2);
}
function fmtDiff(m: ReportMetric, x: number): string {
  if (!Number.isFinite(x)) return "n/a";
  const s = x >= 0 ? "+" : "";
  return m.share ? `${s}${(100 * x).toFixed(1)} points` : `${s}${x.toFixed(2)}`;
}
const fmtEst = (m: ReportMetric, e: Estimate): string =>
  e.n === 0
    ? "n/a (no scored run)"
    : e.n > 1
      ? `${fmt(m, e.mean)} [${fmt(m, e.lo)}, ${fmt(m, e.hi)}]`
      : `${fmt(m, e.mean)} (n=1)`;

/** The CI of a paired difference as a sentence reads it: none from one run (n=1), never a zero-width "95% CI". */
function diffCi(m: ReportMetric, d: Estimate): string {
  return d.n > 1 ? `95% CI ${fmtDiff(m, d.lo)} to ${fmtDiff(m, d.hi)}, n=${d.n} runs` : "n=1 run, so no CI";
}

/** MST against one control on one metric: paired per-run differences, % reduction and item wins. */
export interface Comparison {
  control: string;
  ran: boolean;
  mst: Estimate;
  other: Estimate;
  diff: Estimate;
  reduction: Estimate | null;
  wins: Estimate | null;
  /** Better with the paired CI excluding 0 / worse with it excluding 0 / neither. */
  verdict: "better" | "worse" | "inconclusive" | "not run" | "no scored pair";
}

export function compareArms<C>(
  view: SummaryView<C>,
  cond: string,
  metric: ReportMetric,
  arm: string,
  control: string,
  lowerScoreIsBetter: boolean,
): Comparison {
  const mine = new Map(view.runsOf(cond, arm).map((e) => [runKey(e), e]));
  const theirs = new Map(view.runsOf(cond, control).map((e) => [runKey(e), e]));
  const mst = estimate(
    [...mine.values()].map((e) => view.valueOf(e, metric.key)),
    rangeOf(metric),
  );
  const other = estimate(
    [...theirs.values()].map((e) => view.valueOf(e, metric.key)),
    rangeOf(metric),
  );
  const empty: Estimate = { mean: NaN, lo: NaN, hi: NaN, n: 0 };
  if (mine.size === 0 || theirs.size === 0)
    return { control, ran: false, mst, other, diff: empty, reduction: null, wins: null, verdict: "not run" };
  const a: number[] = [];
  const b: number[] = [];
  const itemsA: (number | null)[] = [];
  const itemsB: (number | null)[] = [];
  for (const [k, e] of mine) {
    const f = theirs.get(k);
    if (!f) continue;
    const x = view.valueOf(e, metric.key);
    const y = view.valueOf(f, metric.key);
    if (x !== null && y !== null) {
      a.push(x);
      b.push(y);
    }
    for (const id of Object.keys(e.perItem))
      if (id in f.perItem) {
        itemsA.push(e.perItem[id]);
        itemsB.push(f.perItem[id]);
      }
  }
  const diff = estimate(
    a.map((x, i) => x - b[i]),
    diffRange(metric),
  );
  let reduction: Estimate | null = null;
  if (a.length > 0 && b.some((x) => x !== 0) && b.reduce((s, x) => s + x, 0) !== 0)
    reduction = percentReductionCi(a, b, { paired: true, rng: new Rng(`summary/${cond}/${metric.key}/${control}`) });
  let wins: Estimate | null = null;
  if (metric.perItem && itemsA.some((x, i) => x !== null && itemsB[i] !== null))
    wins = pairedWinRate(itemsA, itemsB, { lowerIsBetter: lowerScoreIsBetter });
  const better = metric.lowerIsBetter ? diff.hi < 0 : diff.lo > 0;
  const worse = metric.lowerIsBetter ? diff.lo > 0 : diff.hi < 0;
  const verdict =
    diff.n === 0 ? "no scored pair" : diff.n > 1 && better ? "better" : diff.n > 1 && worse ? "worse" : "inconclusive";
  return { control, ran: true, mst, other, diff, reduction, wins, verdict };
}

function comparisonSentence(m: ReportMetric, c: Comparison, cond: Condition, many: boolean): string {
  const where = many ? ` (${cond.name})` : "";
  if (!c.ran)
    return `MST vs ${c.control}${where}: not run (the run has no ${c.control} evaluations), so no comparison.`;
  if (c.diff.n === 0)
    return `${m.title}${where}: MST vs ${c.control}: no pair of runs has both values scored, so no comparison.`;
  const dir = m.lowerIsBetter ? "lower" : "higher";
  const what =
    c.verdict === "better"
      ? `MST is ${dir} than ${c.control}`
      : c.verdict === "worse"
        ? `MST is worse than ${c.control}`
        : `MST and ${c.control} are not clearly apart`;
  const wins = c.wins ? `; MST wins ${fmt({ ...m, share: true }, c.wins.mean)} of paired items` : "";
  return (
    `${m.title}${where}: ${what}: ${fmtEst(m, c.mst)} vs ${fmtEst(m, c.other)}, paired difference ` +
    `${fmtDiff(m, c.diff.mean)} (${diffCi(m, c.diff)})${wins}.`
  );
}

/** Our number for one seed figure, and the verdict. */
function seedRow<C>(
  view: SummaryView<C>,
  def: ExperimentDefinition<C>,
  f: SeedFigure,
  lowerScoreIsBetter: boolean,
): SeedComparisonRow {
  const o = f.ours;
  if (!o)
    return {
      quantity: f.quantity,
      seed: f.seed,
      ours: "-",
      verdict: `Not comparable: ${f.note ?? "no matching measurement"}`,
    };
  const m = def.report.metrics.find((x) => x.key === o.metric) ?? {
    key: o.metric,
    title: o.metric,
    lowerIsBetter: false,
  };
  const note = f.note ? ` ${f.note}` : "";
  const missing = [o.arm, ...(o.vs ? [o.vs] : [])].filter((a) => view.runsOf(o.condition, a).length === 0);
  if (missing.length > 0)
    return {
      quantity: f.quantity,
      seed: f.seed,
      ours: "not run",
      verdict: `Not run: no ${missing.join(" or ")} evaluations in this run.`,
    };
  if (!o.vs || o.as === "value") {
    const label = o.label === "main" ? "main" : o.label;
    const e = estimate(
      view.runsOf(o.condition, o.arm).map((r) => view.valueOf(r, m.key, label)),
      rangeOf(m),
    );
    return { quantity: f.quantity, seed: f.seed, ours: fmtEst(m, e), verdict: `For reference.${note}` };
  }
  const c = compareArms(view, o.condition, m, o.arm, o.vs, lowerScoreIsBetter);
  let ours: string;
  if (o.as === "reduction" && c.reduction)
    ours = `${c.reduction.mean.toFixed(1)}% reduction [${c.reduction.lo.toFixed(1)}, ${c.reduction.hi.toFixed(1)}]`;
  else if (o.as === "wins" && c.wins) ours = `wins ${(100 * c.wins.mean).toFixed(1)}% of ${c.wins.n} paired items`;
  else ours = `${fmtEst(m, c.mst)} vs ${fmtEst(m, c.other)} (paired ${fmtDiff(m, c.diff.mean)})`;
  let verdict: string;
  if (!f.expect) verdict = `For reference.${note}`;
  else {
    const found = c.diff.n > 1 && (f.expect === "lower" ? c.diff.hi < 0 : c.diff.lo > 0);
    const opposite = c.diff.n > 1 && (f.expect === "lower" ? c.diff.lo > 0 : c.diff.hi < 0);
    verdict = found
      ? `Agrees: ${o.arm} is ${f.expect} than ${o.vs} with the paired CI excluding zero.${note}`
      : opposite
        ? `Differs: ${o.arm} is ${f.expect === "lower" ? "higher" : "lower"} than ${o.vs}.${note}`
        : `Inconclusive: the paired CI includes zero (n=${c.diff.n}).${note}`;
  }
  return { quantity: f.quantity, seed: f.seed, ours, verdict };
}

/** One job's result parsed by its kind's schema; a result that does not parse names its job. */
function parseResult<S extends z.ZodType>(schema: S, job: JobSpec, r: Json): z.infer<S> {
  const parsed = schema.safeParse(r);
  if (!parsed.success)
    throw new Error(
      `job ${job.id}: result.json does not match the ${job.kind} result schema: ${parsed.error.issues[0]?.message}`,
    );
  return parsed.data;
}

/** Parses every job result by its kind's schema (a result that does not parse names its job). */
function parseResults(jobs: JobSpec[], results: Record<string, Json>) {
  const bases: BaseResult[] = [];
  const trains: TrainResult[] = [];
  const evals: EvalResult[] = [];
  const baseEvals: EvalResult[] = [];
  const missing: string[] = [];
  for (const j of jobs) {
    const r = results[j.id];
    if (r === undefined) {
      missing.push(j.id);
      continue;
    }
    if (j.kind === "base") bases.push(parseResult(BaseResultSchema, j, r));
    else if (j.kind === "train") trains.push(parseResult(TrainResultSchema, j, r));
    else if (j.kind === "eval") evals.push(parseResult(EvalResultSchema, j, r));
    else baseEvals.push(parseResult(EvalResultSchema, j, r));
  }
  return { bases, trains, evals, baseEvals, missing };
}

/** The judge scored no answer of the whole run: nothing was measured (a failure of the work, exit 1). */
export class JudgeScoredNothingError extends Error {
  override name = "JudgeScoredNothingError";
}

export function summarizeExperiment<C>(
  def: ExperimentDefinition<C>,
  config: C,
  conditions: Condition[],
  arms: ArmName[],
  input: PlanInput,
  jobs: JobSpec[],
  results: Record<string, Json>,
  preset: string,
): TaskResults {
  const parts = parseResults(jobs, results);
  const view = makeView({ config, input, preset, arms, conditions, ...parts });
  const judge = def.evaluation.judge(config);
  const many = conditions.length > 1;
  const findings: string[] = [];
  // unscored answers are left out of every metric: say how many, and where none at all was scored. A run where the
  // judge scored nothing measured nothing (every answer off the judge's schema, a judge it cannot reach): it fails
  // here, exit 1, rather than write metrics over zero samples that read as results
  const evalJobs = [...parts.evals, ...parts.baseEvals];
  const judged = evalJobs.reduce((a, e) => a + e.labels.reduce((b, l) => b + l.n, 0), 0);
  const unscored = evalJobs.reduce((a, e) => a + e.labels.reduce((b, l) => b + l.unscored, 0), 0);
  if (judged > 0 && unscored === judged)
    throw new JudgeScoredNothingError(
      `the judge scored none of the ${judged} judged answers of the run (every evaluation, every label); ` +
        "samples.jsonl of each eval job holds the answers and why each went unscored",
    );
  if (unscored > 0) {
    const blind = evalJobs.flatMap((e) =>
      e.labels
        .filter((l) => l.n > 0 && l.unscored === l.n)
        .map((l) => `${e.arm}${e.arm === "base" ? "" : ` s${e.seed}`} b${e.base} at ${l.key}`),
    );
    findings.push(
      `${unscored} of ${judged} judged answers are unscored (the judge gave no usable score) and left out of the ` +
        `metrics${blind.length ? `; none scored for ${blind.slice(0, 4).join(", ")}${blind.length > 4 ? ", ..." : ""}` : ""}` +
        "; samples.jsonl of each eval job says why.",
    );
  }
  if (view.missing.length > 0)
    findings.push(`${view.missing.length} job(s) have no result and are left out: ${view.missing.join(", ")}.`);

  // arms are compared at the same number of training steps (baselines keep drifting with more steps)
  const steps = [...new Set(view.trains.map((t) => t.steps))];
  const trainer = trainerOf(def, config).toUpperCase();
  if (steps.length === 1)
    findings.push(
      `Every trained arm ran the same number of ${trainer} steps (${steps[0]}); arms are compared at that step count.`,
    );
  else if (steps.length > 1)
    findings.push(
      `Trained arms ran different numbers of ${trainer} steps (${steps.join(", ")}): compare them with care.`,
    );

  // bars: each metric at each arm's main label, plus the out-of-the-box base at the deployment label
  const bars: BarChart[] = def.report.metrics.map((m) => ({
    id: `bar-${m.key}`,
    title: `${m.title} at each arm's evaluation label`,
    metric: m.key,
    yLabel: m.yLabel ?? m.title,
    lowerIsBetter: m.lowerIsBetter,
    bars: conditions
      .flatMap((c) =>
        [...arms, "base"].map((arm) => ({
          arm,
          ...(many ? { group: c.name } : {}),
          ...estimate(
            view.runsOf(c.name, arm).map((e) => view.valueOf(e, m.key)),
            rangeOf(m),
          ),
        })),
      )
      .filter((b) => b.n > 0),
  }));

  // sweeps: every arm evaluated with labels, and the base, across the sweep labels
  const sweeps: SweepChart[] = [];
  for (const c of conditions)
    for (const m of def.report.metrics) {
      const axis = def.report.sweepAxis?.(config, c);
      const points: SweepChart["points"] = [];
      for (const arm of [...arms, "base"]) {
        const runs = view.runsOf(c.name, arm);
        const xs = [
          ...new Set(runs.flatMap((e) => e.labels.filter((l) => l.key.startsWith("sweep:")).map((l) => l.key))),
        ];
        for (const key of xs) {
          const x = runs[0].labels.find((l) => l.key === key)!.x ?? 0;
          points.push({
            arm,
            x,
            ...estimate(
              runs.map((e) => view.valueOf(e, m.key, key)),
              rangeOf(m),
            ),
          });
        }
      }
      if (points.length > 0)
        sweeps.push({
          id: `sweep-${c.name}-${m.key}`,
          title: `${m.title} across the label sweep${many ? ` (${c.name})` : ""}`,
          metric: m.key,
          xLabel: axis?.title ?? "label",
          yLabel: m.yLabel ?? m.title,
          ...(axis?.names ? { xLabels: axis.names } : {}),
          points,
        });
    }

  // MST against each control, every metric; the primary metric leads the findings
  const tables: Table[] = [];
  const rows: Table["rows"] = [];
  for (const c of conditions)
    for (const m of def.report.metrics.filter((x) => !x.signed))
      for (const control of CONTROLS) {
        if (!arms.includes(control) && control === "inoculation") continue;
        const cmp = compareArms(view, c.name, m, "mst", control, judge.lowerIsBetter);
        if (m.key === def.report.primary && arms.includes("mst")) findings.push(comparisonSentence(m, cmp, c, many));
        rows.push([
          c.name,
          m.title,
          control,
          fmtEst(m, cmp.mst),
          fmtEst(m, cmp.other),
          !cmp.ran
            ? "not run"
            : cmp.diff.n > 1
              ? `${fmtDiff(m, cmp.diff.mean)} [${fmtDiff(m, cmp.diff.lo)}, ${fmtDiff(m, cmp.diff.hi)}]`
              : `${fmtDiff(m, cmp.diff.mean)} (n=${cmp.diff.n}, no CI)`,
          // % change = minus the % reduction: -53.9% reads as the seed's "53.9% lower"
          !cmp.reduction
            ? "-"
            : cmp.reduction.n > 1
              ? `${(-cmp.reduction.mean).toFixed(1)}% [${(-cmp.reduction.hi).toFixed(1)}, ${(-cmp.reduction.lo).toFixed(1)}]`
              : `${(-cmp.reduction.mean).toFixed(1)}% (n=${cmp.reduction.n}, no CI)`,
          cmp.wins ? `${(100 * cmp.wins.mean).toFixed(1)}% of ${cmp.wins.n}` : "-",
          cmp.verdict,
        ]);
      }
  if (!arms.includes("mst")) findings.push("MST: not run (the run has no mst arm), so no comparison.");
  tables.push({
    title:
      "MST against each control (paired over base x seed runs; % change by paired bootstrap; wins over paired items)",
    columns: [
      "condition",
      "metric",
      "control",
      "MST",
      "control value",
      "paired difference [95% CI]",
      "% change vs control [95% CI]",
      "MST wins",
      "verdict",
    ],
    rows,
  });

  // the gate table: every base, pass or fail, with every number
  const gateKeys = [...new Set(view.bases.flatMap((b) => Object.keys(b.gate?.values ?? {})))];
  const infoKeys = [...new Set(view.bases.flatMap((b) => Object.keys(b.info)))];
  tables.push({
    title: "Base models and their gate (checked before any fine-tuning; every attempt counted)",
    columns: ["base", "source", "parameters", ...infoKeys, ...gateKeys, "gate", "attempts"],
    rows: view.bases.map((b) => [
      `${b.group === "main" ? "" : b.group + " "}b${b.base}`,
      b.source.kind === "checkpoint" ? b.source.path : "pretrained",
      b.parameters,
      ...infoKeys.map((k) => b.info[k] ?? null),
      ...gateKeys.map((k) => b.gate?.values[k] ?? null),
      b.gate === null ? "none" : b.gate.pass ? "pass" : `FAIL: ${b.gate.reasons.join("; ")}`,
      b.attempts.length,
    ]),
  });
  for (const b of view.bases)
    if (b.gate && !b.gate.pass)
      findings.push(
        `Base ${b.group} b${b.base} did not pass its gate (${b.gate.reasons.join("; ")}); its runs are kept and reported.`,
      );

  const curves: CurveSource[] = view.trains.map((t) => ({
    arm: t.arm,
    seed: `${many ? t.condition + " " : ""}b${t.base} s${t.seed}`,
    file: t.metricsFile,
    fields: def.report.curveFields ?? (t.kind === "sft" ? ["loss"] : ["reward_mean", "entropy"]),
  }));

  const samples: SampleRow[] = [];
  for (const c of conditions)
    for (const arm of [...arms, "base"]) {
      const e = view.runsOf(c.name, arm)[0];
      if (e)
        for (const s of e.samples)
          samples.push({
            arm: many ? `${arm} (${c.name})` : arm,
            seed: runKey(e),
            label: s.label,
            prompt: s.prompt,
            output: s.output,
            values: s.values,
          });
    }

  const primary = def.report.metrics.find((m) => m.key === def.report.primary)!;
  const headline: Record<string, number> = {};
  for (const arm of [...arms, "base"]) {
    const e = estimate(view.runsOf(conditions[0].name, arm).map((r) => view.valueOf(r, primary.key)));
    if (e.n > 0) headline[`${primary.key} ${arm}`] = e.mean;
  }
  const seedComparison = (def.report.seedFigures ?? []).map((f) => seedRow(view, def, f, judge.lowerIsBetter));
  const extra = def.report.extras?.(view) ?? {};
  return {
    task: def.name,
    preset,
    headline: { ...headline, ...(extra.headline ?? {}) },
    findings: [...findings, ...(extra.findings ?? [])],
    bars: [...bars.filter((b) => b.bars.length > 0), ...(extra.bars ?? [])],
    sweeps,
    curves,
    samples,
    seedComparison,
    tables: [...tables, ...(extra.tables ?? [])],
  };
}
