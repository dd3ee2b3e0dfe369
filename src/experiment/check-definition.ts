/**
 * Checks a task definition's report before any work starts, naming the field: a report metric the judge does not
 * produce, a primary metric the report does not draw. Without it a run trained every job and then crashed in the
 * summary ("Cannot read properties of undefined"). (The trainer's options are check-trainer.ts's job.)
 */
import type { ExperimentDefinition } from "./experiment.js";

/** Thrown for a definition that cannot run; the message names the task and the field. */
export class TaskDefinitionError extends Error {
  override name = "TaskDefinitionError";
}

/** What can be checked without a config (at `defineExperiment`): the primary metric is one the report draws. */
export function checkDefinitionShape<C>(def: ExperimentDefinition<C>): void {
  const keys = def.report.metrics.map((m) => m.key);
  if (!keys.includes(def.report.primary))
    throw new TaskDefinitionError(
      `task "${def.name}": report.primary "${def.report.primary}" is not a key of report.metrics (${keys.join(", ") || "none"})`,
    );
}

/** What needs the config (before the plan runs): the judge produces every report metric. */
export function checkDefinition<C>(def: ExperimentDefinition<C>, config: C): void {
  checkDefinitionShape(def);
  const judge = def.evaluation.judge(config);
  const produced = Object.keys(judge.metrics);
  def.report.metrics.forEach((m, i) => {
    if (!produced.includes(m.key))
      throw new TaskDefinitionError(
        `task "${def.name}": report.metrics[${i}].key "${m.key}" is not a metric the judge "${judge.name}" produces ` +
          `(it produces: ${produced.join(", ") || "none"})`,
      );
  });
}
