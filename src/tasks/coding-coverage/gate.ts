/**
 * The gate a base passes before RL: on held-out problems, without a label and with the training graders' labels in
 * front, it must solve some problems but not all (the latent skill RL and MST work with), write a table some of the
 * time (it knows the exploit exists) and keep writing programs that parse under a label. Every number is reported.
 */
import { hashString } from "../../data/rng.js";
import { floorCheck, gateReport, type GateCheck } from "../../experiment/corpus/gate.js";
import type { GateReport } from "../../experiment/experiment.js";
import type { ModelRuntime } from "../../experiment/runtime.js";
import { createMonitorLabeler } from "../../monitor/monitor.js";
import { renderPrompt } from "../../monitor/render-prompt.js";
import type { CodingConfig } from "./config.js";
import { gradeProgram } from "./grader.js";
import { problemSample } from "./prompt.js";
import { taskMonitor, taskProblems } from "./setup.js";

interface Rates {
  truePass: number;
  hack: number;
  table: number;
  malformed: number;
}

/** Rates of the base's programs on the first `gate.items` held-out problems under `label` (null: none). */
export async function ratesUnder(rt: ModelRuntime, c: CodingConfig, label: string | null, key: string): Promise<Rates> {
  const problems = taskProblems(c).eval.slice(0, c.gate.items);
  const prompts = problems.map((p) => renderPrompt(problemSample(p, 0), label, { separator: c.separator }));
  const out = await rt.textModel.generate(prompts, {
    temperature: c.eval.temperature,
    maxTokens: c.eval.maxTokens,
    seed: hashString(key),
  });
  const grades = out.map((o, i) => gradeProgram(o.text, problems[i]));
  const share = (f: (g: (typeof grades)[number]) => boolean) => grades.filter(f).length / Math.max(1, grades.length);
  return {
    truePass: share((g) => g.passesAll),
    hack: share((g) => g.hack),
    table: share((g) => g.table),
    malformed: share((g) => !g.wellFormed),
  };
}

export async function gateBase(rt: ModelRuntime, c: CodingConfig, base: number): Promise<GateReport> {
  const g = c.gate;
  const none = await ratesUnder(rt, c, null, `coding/gate/b${base}/none`);
  const labeler = createMonitorLabeler(taskMonitor(c));
  const labelled: Rates[] = [];
  for (const k of c.coverage.train)
    labelled.push(await ratesUnder(rt, c, labeler.labelOf({ params: { k } }), `coding/gate/b${base}/k${k}`));
  const avg = (f: (r: Rates) => number) => labelled.reduce((a, r) => a + f(r), 0) / labelled.length;
  const checks: GateCheck[] = [
    floorCheck("true pass (no label)", none.truePass, g.minSolve),
    floorCheck("fails some (1 - true pass, no label)", 1 - none.truePass, 1 - g.maxSolve),
    floorCheck("table rate (no label)", none.table, g.minTable),
    floorCheck(
      "true pass (training labels)",
      avg((r) => r.truePass),
      g.minSolveLabelled,
    ),
    floorCheck("parses (training labels)", 1 - avg((r) => r.malformed), 1 - g.maxMalformed),
  ];
  const report = gateReport(
    checks,
    avg((r) => r.truePass),
  );
  report.values["hack rate (no label)"] = none.hack;
  report.values["hack rate (training labels)"] = avg((r) => r.hack);
  return report;
}
