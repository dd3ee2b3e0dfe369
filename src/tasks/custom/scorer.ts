/**
 * The custom task's scorers are the kit's stock scorers (src/experiment/scorers); this file adds the report metrics a
 * spec names.
 */
import { meanMetric, thresholdShareMetric, type Metric } from "../../eval/metric.js";
import type { MetricSpec } from "./config.js";

export {
  expectedOf,
  fillRubric,
  makeScorer,
  RUBRIC_PLACEHOLDER,
  ScorerModuleError,
  type ScoreItem,
  type Scorer,
} from "../../experiment/scorers/scorer.js";

/** The report's metrics over scores, by name. */
export function metricsOf(specs: readonly MetricSpec[]): Record<string, Metric> {
  return Object.fromEntries(
    specs.map((m) => [
      m.name,
      m.kind === "mean"
        ? meanMetric({ name: m.name, description: `mean score, Student-t 95% CI over items` })
        : thresholdShareMetric(m.name, (s) => s >= m.threshold, {
            description: `share of outputs scoring at least ${m.threshold}, Wilson 95% CI`,
          }),
    ]),
  );
}
