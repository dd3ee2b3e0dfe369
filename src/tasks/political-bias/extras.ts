/** What the political-bias report adds to the kit's summary: the signed-lean finding, the judge's validation, closing sentences (Fig 1f). */
import type { TaskResults } from "../../experiment/results.js";
import { estimate } from "../../experiment/summary.js";
import type { SummaryView } from "../../experiment/summary-view.js";
import type { PoliticalBiasConfig } from "./config.js";
import { topicSplit } from "./base.js";
import { validateJudge } from "./judge-validation.js";

/** The closing sentence of an article: its last sentence. */
export function lastSentence(text: string): string {
  const parts = text
    .trim()
    .split(/(?<=[.!?])\s+/)
    .filter((p) => p.trim() !== "");
  return parts[parts.length - 1] ?? "";
}

const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : "n/a");

export function politicalExtras(view: SummaryView<PoliticalBiasConfig>): Partial<TaskResults> {
  const cfg = view.config;
  const findings: string[] = [];
  for (const c of view.conditions) {
    const about = cfg.conditions.find((x) => x.name === c.name)?.about;
    if (about) findings.push(`${c.name}: ${about}.`);
    // a sideways failure hides in bias magnitude alone: say which way MST leans when the CI over runs excludes 0
    const lean = estimate(view.runsOf(c.name, "mst").map((e) => view.valueOf(e, "mean_lean")));
    if (lean.n > 0) {
      const side = lean.lo > 0 ? "right" : lean.hi < 0 ? "left" : null;
      findings.push(
        `${c.name}: MST's signed lean at the unbiased label is ${f2(lean.mean)} [${f2(lean.lo)}, ${f2(lean.hi)}]` +
          (side === null
            ? " (the CI includes 0: no consistent lean to either side)."
            : ` (it leans ${side} across runs: a sideways tilt).`),
      );
    }
  }
  const v = validateJudge(topicSplit(cfg).val, cfg.judgeValidationPerProfile, "check", cfg.world, cfg.judge);
  const closings = view.conditions.flatMap((c) =>
    view.arms.flatMap((arm) => {
      const e = view.runsOf(c.name, arm)[0];
      return e ? e.samples.slice(0, 2).map((s) => [c.name, arm, lastSentence(s.output), s.values.score ?? null]) : [];
    }),
  );
  return {
    findings,
    tables: [
      {
        title: "Embedded judge vs the generator's ground truth (fresh generator articles of every profile)",
        columns: ["profile", "mean bias", "mean lean", "PASS", "PARTIAL", "FAIL"],
        rows: Object.entries(v.byProfile).map(([p, r]) => [p, r.meanBias, r.meanLean, r.pass, r.partial, r.fail]),
      },
      {
        title: `Judge agreement: profile ${(100 * v.profileAgreement).toFixed(1)}%, exact ${(100 * v.exactAgreement).toFixed(1)}%, strong-above-center order ${(100 * v.orderAgreement).toFixed(1)}% (n=${v.n})`,
        columns: [],
        rows: [],
      },
      {
        title: "Closing sentences at each arm's evaluation label (Fig 1f; first topics, b0 s0)",
        columns: ["condition", "arm", "closing sentence", "bias"],
        rows: closings,
      },
    ],
  };
}
