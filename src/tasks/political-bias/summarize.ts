/**
 * Turns the political-bias job results into the report: mean bias and signed lean per arm with 95% CIs over
 * (base, seed), % reduction and paired per-topic win rates of MST, PASS/PARTIAL/FAIL shares, every arm under every
 * label (Fig 1e), closing sentences side by side (Fig 1f), the base gate, the out-of-the-box base, judge agreement
 * and the seed's numbers beside ours, for every condition.
 */
import type { Json } from "../../data/sample.js";
import { meanCi, pairedWinRate, percentReduction, type Estimate } from "../../eval/stats.js";
import type {
  BarChart,
  CurveSource,
  JobSpec,
  PlanInput,
  SampleRow,
  SeedComparisonRow,
  SweepChart,
  Table,
  TaskResults,
} from "../../experiment/task.js";
import type { Condition, PoliticalBiasConfig } from "./config.js";
import type { LabelSummary } from "./evaluate.js";
import type { GateResult } from "./job-base.js";
import type { JudgeValidation } from "./judge-validation.js";
import { baseJobId, evalJobId, JUDGE_CHECK_ID, P_ARTICLES_ID, P_JUDGE_CHECK_ID, sftJobId } from "./plan.js";

const SWEEP_KEYS = ["none", "strong_left", "center_left", "unbiased", "center_right", "strong_right"];
const SWEEP_NAMES = ["no label", "strong left", "center left", "unbiased", "center right", "strong right"];

interface EvalResult {
  arm: string;
  base: number;
  seed: number;
  mainLabel: string;
  main: LabelSummary;
  topics: string[];
  perTopicBias: Array<number | null>;
  sweep: Record<string, LabelSummary>;
  closings: Array<{ topic: string; text: string; closing: string; bias: number | null; lean: number | null }>;
}

interface BaseResult {
  follow: number;
  base: number;
  steps: number;
  trainLoss: number;
  pretrainSeconds: number;
  gates: GateResult[];
  outOfBox: Record<string, LabelSummary>;
}

const f1 = (x: number | null | undefined): string =>
  x === null || x === undefined || !Number.isFinite(x) ? "n/a" : x.toFixed(1);
const f2 = (x: number | null | undefined): string =>
  x === null || x === undefined || !Number.isFinite(x) ? "n/a" : x.toFixed(2);
const pct = (x: number | null | undefined): string =>
  x === null || x === undefined || !Number.isFinite(x) ? "n/a" : `${(100 * x).toFixed(1)}%`;
const ci = (e: Estimate | null): string => (e ? `${f2(e.mean)} [${f2(e.lo)}, ${f2(e.hi)}]` : "n/a");

function est(values: number[]): Estimate | null {
  return values.length > 0 ? meanCi(values) : null;
}

/** Everything measured for one condition, computed once and read by the charts, tables and findings. */
interface ConditionStats {
  cond: Condition;
  evals: Record<string, EvalResult[]>;
  bias: Record<string, Estimate | null>;
  lean: Record<string, Estimate | null>;
  grades: Record<string, { pass: number; partial: number; fail: number; scored: number; unscored: number }>;
  perTopic: Record<string, Array<number | null>>;
  bases: BaseResult[];
  /** Optimizer steps of every finished SFT job of this condition. */
  sftSteps: number[];
}

function collect(cond: Condition, input: PlanInput, results: Record<string, Json>): ConditionStats {
  const evals: Record<string, EvalResult[]> = {};
  for (const arm of input.arms) {
    evals[arm] = [];
    for (const b of input.baseSeeds)
      for (const s of input.seeds) {
        const r = results[evalJobId(cond.name, arm, b, s)] as unknown as EvalResult | undefined;
        if (r) evals[arm].push(r);
      }
  }
  const bias: ConditionStats["bias"] = {};
  const lean: ConditionStats["lean"] = {};
  const grades: ConditionStats["grades"] = {};
  const perTopic: ConditionStats["perTopic"] = {};
  for (const [arm, rs] of Object.entries(evals)) {
    bias[arm] = est(rs.map((r) => r.main.meanBias).filter((x): x is number => x !== null));
    lean[arm] = est(rs.map((r) => r.main.meanLean).filter((x): x is number => x !== null));
    const g = { pass: 0, partial: 0, fail: 0, scored: 0, unscored: 0 };
    for (const r of rs) {
      g.pass += r.main.pass;
      g.partial += r.main.partial;
      g.fail += r.main.fail;
      g.scored += r.main.n - r.main.unscored;
      g.unscored += r.main.unscored;
    }
    grades[arm] = g;
    // Per topic: mean over (base, seed) of the per-topic mean bias, so every arm pairs on the same test topics.
    const nTopics = rs[0]?.perTopicBias.length ?? 0;
    perTopic[arm] = Array.from({ length: nTopics }, (_, i) => {
      const xs = rs.map((r) => r.perTopicBias[i]).filter((x): x is number => x !== null);
      return xs.length > 0 ? xs.reduce((a, x) => a + x, 0) / xs.length : null;
    });
  }
  const bases: BaseResult[] = [];
  for (const b of input.baseSeeds) {
    const r = results[baseJobId(cond.follow, b)] as unknown as BaseResult | undefined;
    if (r) bases.push(r);
  }
  const sftSteps: number[] = [];
  for (const arm of ["baseline", "mst", "shuffled"])
    for (const b of input.baseSeeds)
      for (const sd of input.seeds) {
        const r = results[sftJobId(cond.name, arm, b, sd)] as { steps?: number } | undefined;
        if (r?.steps !== undefined) sftSteps.push(r.steps);
      }
  return { cond, evals, bias, lean, grades, perTopic, bases, sftSteps };
}

function winRate(st: ConditionStats, a: string, b: string): ReturnType<typeof pairedWinRate> | null {
  const x = st.perTopic[a];
  const y = st.perTopic[b];
  if (!x || !y || x.length === 0 || x.length !== y.length) return null;
  try {
    return pairedWinRate(x, y, { lowerIsBetter: true });
  } catch {
    return null;
  }
}

function reduction(st: ConditionStats, ref: string): number | null {
  const m = st.bias.mst?.mean;
  const r = st.bias[ref]?.mean;
  if (m === undefined || r === undefined || r === 0) return null;
  return percentReduction(m, r);
}

function sweepChart(st: ConditionStats, metric: "meanLean" | "meanBias"): SweepChart {
  const points: SweepChart["points"] = [];
  for (const [arm, rs] of Object.entries(st.evals))
    SWEEP_KEYS.forEach((k, x) => {
      const e = est(rs.map((r) => r.sweep[k]?.[metric]).filter((v): v is number => v !== null && v !== undefined));
      if (e) points.push({ arm, x, ...e });
    });
  const lean = metric === "meanLean";
  return {
    id: `sweep-${lean ? "lean" : "bias"}-${st.cond.name}`,
    title: `Fig 1e (${st.cond.name}): every arm under every label, ${lean ? "signed lean" : "bias"}`,
    metric: lean ? "mean_lean" : "mean_bias",
    xLabel: "evaluator label in the system turn",
    yLabel: lean ? "mean signed lean (-10 left .. +10 right)" : "mean bias (0-10)",
    xLabels: SWEEP_NAMES,
    points,
  };
}

function gateTable(stats: ConditionStats[]): Table {
  const rows: Table["rows"] = [];
  for (const st of stats)
    for (const b of st.bases) {
      const g = b.gates.find((x) => x.frame === st.cond.frame);
      if (!g) continue;
      rows.push([
        st.cond.name,
        `b${b.base}`,
        ...SWEEP_KEYS.map((k) => f1(g.lean[k])),
        g.monotone ? "yes" : "no",
        g.strongFar && g.mildClear ? "yes" : "no",
        g.deploymentBalanced ? "yes" : "no",
        g.pass ? "PASS" : "FAIL",
      ]);
    }
  return {
    title: "Base gate: mean signed lean of the pretrained base in the fine-tuning prompt format, by label",
    columns: ["condition", "base", ...SWEEP_NAMES, "monotone", "strong far / mild clear", "unbiased balanced", "gate"],
    rows,
  };
}

function armTable(st: ConditionStats): Table {
  const rows: Table["rows"] = Object.keys(st.evals).map((arm) => {
    const g = st.grades[arm];
    const n = Math.max(1, g.scored);
    return [
      arm,
      ci(st.bias[arm]),
      ci(st.lean[arm]),
      pct(g.pass / n),
      pct(g.partial / n),
      pct(g.fail / n),
      g.unscored,
      st.evals[arm].length,
    ];
  });
  return {
    title: `Condition ${st.cond.name}: arms at their evaluation label (baseline: no label; others: the unbiased evaluator)`,
    columns: ["arm", "mean bias [95% CI]", "mean signed lean [95% CI]", "PASS", "PARTIAL", "FAIL", "unscored", "runs"],
    rows,
  };
}

function closingRows(st: ConditionStats): SampleRow[] {
  const out: SampleRow[] = [];
  for (const [arm, rs] of Object.entries(st.evals)) {
    const r = rs[0];
    if (!r) continue;
    for (const c of r.closings.slice(0, 2))
      out.push({
        arm,
        seed: `${st.cond.name} b${r.base} s${r.seed}`,
        label: r.mainLabel,
        prompt: `topic ${c.topic}`,
        output: `closing: ${c.closing}   |   article: ${c.text}`,
        values: { bias: c.bias, lean: c.lean },
      });
  }
  return out;
}

function outOfBox(st: ConditionStats): { bias: number | null; pass: number | null; lean: number | null } {
  const xs = st.bases.map((b) => b.outOfBox[st.cond.frame]).filter((x): x is LabelSummary => !!x);
  if (xs.length === 0) return { bias: null, pass: null, lean: null };
  let scored = 0;
  let pass = 0;
  let biasSum = 0;
  let leanSum = 0;
  for (const x of xs) {
    const n = x.n - x.unscored;
    scored += n;
    pass += x.pass;
    biasSum += (x.meanBias ?? 0) * n;
    leanSum += (x.meanLean ?? 0) * n;
  }
  return scored > 0
    ? { bias: biasSum / scored, pass: pass / scored, lean: leanSum / scored }
    : { bias: null, pass: null, lean: null };
}

function findingsFor(st: ConditionStats): string[] {
  const out: string[] = [];
  const n = st.cond.name;
  const b = st.bias;
  if (!b.mst || !b.baseline) {
    out.push(`${n}: MST or baseline evaluations are missing, so no comparison is possible.`);
    return out;
  }
  const rb = reduction(st, "baseline");
  const rs = reduction(st, "shuffled");
  const wb = winRate(st, "mst", "baseline");
  const ws = winRate(st, "mst", "shuffled");
  out.push(
    `${n}: MST mean bias ${f2(b.mst.mean)} vs baseline ${f2(b.baseline.mean)}` +
      (b.shuffled ? ` and shuffled ${f2(b.shuffled.mean)}` : "") +
      ` (0-10; 95% CIs over ${b.mst.n} base x seed runs). ` +
      (rb === null
        ? ""
        : `That is ${rb >= 0 ? "a reduction" : "an increase"} of ${Math.abs(rb).toFixed(1)}% vs baseline`) +
      (rs === null
        ? "."
        : ` and ${rs >= 0 ? "a reduction" : "an increase"} of ${Math.abs(rs).toFixed(1)}% vs shuffled.`),
  );
  if (wb || ws)
    out.push(
      `${n}: per test topic, MST has lower bias than baseline on ${pct(wb?.mean)} of ${wb?.n ?? 0} topics` +
        ` and than shuffled on ${pct(ws?.mean)} (ties count half).`,
    );
  const lm = st.lean.mst;
  if (lm) {
    // A sideways failure hides in bias magnitude alone: say which way MST leans when the CI over runs excludes 0.
    const side = lm.lo > 0 ? "right" : lm.hi < 0 ? "left" : null;
    out.push(
      `${n}: MST's signed lean at the unbiased label is ${f2(lm.mean)} [${f2(lm.lo)}, ${f2(lm.hi)}]` +
        (side === null
          ? " (the CI includes 0: no consistent lean to either side)."
          : ` (it leans ${side} consistently across runs: a sideways tilt).`),
    );
  }
  const po = b["prompt-only"];
  if (po) {
    // How much of MST's gain over the baseline the deployment label alone buys, without label training.
    const gap = b.baseline.mean - b.mst.mean;
    const share = gap !== 0 ? (b.baseline.mean - po.mean) / gap : NaN;
    out.push(
      `${n}: the prompt-only control (baseline model, unbiased label added at evaluation) has mean bias ${f2(po.mean)}` +
        (Number.isFinite(share) ? `, i.e. the label alone recovers ${pct(share)} of MST's reduction.` : "."),
    );
  }
  if (rb !== null && rb <= 0) out.push(`${n}: MST did NOT reduce bias against the baseline here.`);
  if (rs !== null && rs <= 0) out.push(`${n}: MST did NOT reduce bias against the shuffled control here.`);
  const steps = new Set(st.sftSteps);
  if (steps.size > 0)
    out.push(
      steps.size === 1
        ? `${n}: every arm was fine-tuned for the same number of steps (${[...steps][0]}), so arms are compared at equal training.`
        : `${n}: arms were fine-tuned for different step counts (${[...steps].join(", ")}): compare with care.`,
    );
  const gates = st.bases.map((x) => x.gates.find((g) => g.frame === st.cond.frame)).filter((g) => g !== undefined);
  const passed = gates.filter((g) => g!.pass).length;
  out.push(`${n}: ${passed} of ${gates.length} bases passed the gate in this condition's label frame.`);
  return out;
}

function seedComparison(st: ConditionStats, judge: JudgeValidation | undefined): SeedComparisonRow[] {
  const rb = reduction(st, "baseline");
  const rs = reduction(st, "shuffled");
  const wb = winRate(st, "mst", "baseline");
  const ws = winRate(st, "mst", "shuffled");
  const share = (arm: string): number | null => {
    const g = st.grades[arm];
    return g && g.scored > 0 ? g.fail / g.scored : null;
  };
  const oob = outOfBox(st);
  const sameSign = (ours: number | null, seed: number): string =>
    ours === null ? "not measured" : Math.sign(ours) === Math.sign(seed) ? "same direction" : "opposite direction";
  const note =
    "synthetic world and a 100k-parameter model, not Llama-3.1-8B on real news: compare directions, not sizes";
  return [
    {
      quantity: "MST bias change vs baseline",
      seed: "-53.9%",
      ours: rb === null ? "n/a" : `${(-rb).toFixed(1)}%`,
      verdict: `${sameSign(rb, 53.9)}; ${note}.`,
    },
    {
      quantity: "topics where MST beats baseline",
      seed: "85% of 200",
      ours: wb ? `${pct(wb.mean)} of ${wb.n}` : "n/a",
      verdict: wb
        ? wb.mean > 0.5
          ? "MST wins the majority, as in the seed."
          : "MST does not win the majority, unlike the seed."
        : "not measured",
    },
    {
      quantity: "MST bias change vs shuffled",
      seed: "-41.8%",
      ours: rs === null ? "n/a" : `${(-rs).toFixed(1)}%`,
      verdict: `${sameSign(rs, 41.8)}; ${note}.`,
    },
    {
      quantity: "topics where MST beats shuffled",
      seed: "60.5% of 200",
      ours: ws ? `${pct(ws.mean)} of ${ws.n}` : "n/a",
      verdict: ws
        ? ws.mean > 0.5
          ? "MST wins the majority, as in the seed."
          : "MST does not win the majority, unlike the seed."
        : "not measured",
    },
    {
      quantity: "FAIL share baseline / shuffled / MST",
      seed: "27% / 23% / 0%",
      ours: `${pct(share("baseline"))} / ${pct(share("shuffled"))} / ${pct(share("mst"))}`,
      verdict: "Our FAIL threshold is the embedded judge's (bias > 6 of 10), not the LLM judge's.",
    },
    {
      quantity: "out-of-the-box base at the unbiased label: mean bias, PASS",
      seed: "2.25, 97.5%",
      ours: `${f2(oob.bias)}, ${pct(oob.pass)}`,
      verdict:
        "Our base is pretrained on balanced articles with stance statements, so it writes balanced text when asked; " +
        "the seed's base is an instruction-tuned LLM.",
    },
    {
      quantity: "judge sanity: strong profiles score above center ones",
      seed: "reported as a check",
      ours: judge ? `agreement ${pct(judge.profileAgreement)}, order ${pct(judge.orderAgreement)}` : "n/a",
      verdict: "Our judge is validated against the generator's ground truth.",
    },
  ];
}

export function summarizePoliticalBias(
  config: PoliticalBiasConfig,
  input: PlanInput,
  jobs: JobSpec[],
  results: Record<string, Json>,
  preset: string,
): TaskResults {
  const stats = config.conditions.map((c) => collect(c, input, results));
  const judge = results[JUDGE_CHECK_ID] as unknown as JudgeValidation | undefined;
  const findings: string[] = [];
  const headline: Record<string, number> = {};
  const bars: BarChart[] = [
    {
      id: "bias",
      title: "Mean bias at the evaluation label",
      metric: "mean_bias",
      yLabel: "mean bias (0-10)",
      lowerIsBetter: true,
      bars: [],
    },
    {
      id: "lean",
      title: "Mean signed lean at the evaluation label",
      metric: "mean_lean",
      yLabel: "signed lean (-10 left .. +10 right)",
      bars: [],
    },
  ];
  const tables: Table[] = [];
  const samples: SampleRow[] = [];
  const sweeps: SweepChart[] = [];
  for (const st of stats) {
    for (const arm of Object.keys(st.evals)) {
      const e = st.bias[arm];
      const l = st.lean[arm];
      if (e) bars[0].bars.push({ arm, group: st.cond.name, ...e });
      if (l) bars[1].bars.push({ arm, group: st.cond.name, ...l });
      if (e) headline[`bias ${arm} (${st.cond.name})`] = e.mean;
    }
    const rb = reduction(st, "baseline");
    if (rb !== null) headline[`% bias reduction mst vs baseline (${st.cond.name})`] = rb;
    const rs = reduction(st, "shuffled");
    if (rs !== null) headline[`% bias reduction mst vs shuffled (${st.cond.name})`] = rs;
    if (st.cond.about) findings.push(`${st.cond.name}: ${st.cond.about}.`);
    findings.push(...findingsFor(st));
    sweeps.push(sweepChart(st, "meanLean"), sweepChart(st, "meanBias"));
    tables.push(armTable(st));
    const wins: Table["rows"] = [];
    for (const ref of ["baseline", "shuffled", "prompt-only"]) {
      const w = winRate(st, "mst", ref);
      if (w) wins.push([`mst vs ${ref}`, pct(w.mean), `[${pct(w.lo)}, ${pct(w.hi)}]`, w.wins, w.ties, w.losses, w.n]);
    }
    tables.push({
      title: `Condition ${st.cond.name}: per-topic paired win rates (lower mean bias wins; ties half)`,
      columns: ["pair", "MST win rate", "95% CI (Wilson)", "wins", "ties", "losses", "topics"],
      rows: wins,
    });
    const oob = outOfBox(st);
    tables.push({
      title: `Condition ${st.cond.name}: out-of-the-box base under the unbiased label (test topics)`,
      columns: ["mean bias", "mean signed lean", "PASS share", "bases"],
      rows: [[f2(oob.bias), f2(oob.lean), pct(oob.pass), st.bases.length]],
    });
    samples.push(...closingRows(st));
  }
  tables.unshift(gateTable(stats));
  if (judge) {
    tables.push({
      title: "Embedded judge vs the generator's ground truth (fresh generator articles)",
      columns: ["profile", "mean bias", "mean lean", "PASS", "PARTIAL", "FAIL"],
      rows: Object.entries(judge.byProfile).map(([p, v]) => [
        p,
        f2(v.meanBias),
        f2(v.meanLean),
        pct(v.pass),
        pct(v.partial),
        pct(v.fail),
      ]),
    });
    findings.push(
      `Judge check: on ${judge.n} generator articles the judge's profile (side + PASS/PARTIAL/FAIL) matches the one written ` +
        `${pct(judge.profileAgreement)} of the time; strong > center > balanced in ${pct(judge.orderAgreement)} of pairs; ` +
        `it reproduces the generator's own lean exactly in ${pct(judge.exactAgreement)}.`,
    );
    headline["judge profile agreement"] = judge.profileAgreement;
  }
  const pCheck = results[P_JUDGE_CHECK_ID] as
    { strongAboveCenter: boolean; strongMean: number; centerMean: number } | undefined;
  if (pCheck)
    findings.push(
      `LLM judge check on training articles: strong profiles ${f2(pCheck.strongMean)} vs center ${f2(pCheck.centerMean)} ` +
        `(${pCheck.strongAboveCenter ? "strong above center, as it should be" : "NOT above center: the judge is suspect"}).`,
    );
  const pArticles = results[P_ARTICLES_ID] as { articles: number; armsDir: string } | undefined;
  if (pArticles)
    findings.push(
      `Provider mode: ${pArticles.articles} training articles written by the LLM; arm files for an external SFT trainer ` +
        `are in ${pArticles.armsDir} (fine-tune there with the paper preset, serve each arm, list it in provider.evalModels).`,
    );
  const curves: CurveSource[] = jobs
    .filter((j) => j.kind === "sft" && results[j.id] !== undefined)
    .map((j) => ({
      arm: String(j.params.arm),
      seed: `${j.params.condition} b${j.params.base} s${j.params.seed}`,
      file: `jobs/${j.id}/train/metrics.jsonl`,
      fields: ["loss"],
    }));
  const missing = jobs.filter((j) => results[j.id] === undefined).map((j) => j.id);
  if (missing.length > 0) findings.push(`${missing.length} job(s) have no result: ${missing.slice(0, 8).join(", ")}.`);
  return {
    task: "political-bias",
    preset,
    headline,
    findings,
    bars,
    sweeps,
    curves,
    samples,
    seedComparison: stats.flatMap((st) =>
      seedComparison(st, judge).map((r) => ({ ...r, quantity: `${r.quantity} (${st.cond.name})` })),
    ),
    tables,
  };
}
