/** An experiment spec file resolved to the task's kit definition and config (what export and serve-reward need). */
import { loadSpecFile, resolveSpec, type ResolvedSpec } from "../run/spec.js";
import type { Condition, ExperimentDefinition } from "../experiment/experiment.js";
import { conditionsOf } from "../experiment/base-job.js";
import type { Task } from "../experiment/task.js";

/** Thrown when a spec's task was not built with the experiment kit (it has no definition to export). */
export class NotAKitTaskError extends Error {
  override name = "NotAKitTaskError";
}

export interface LoadedExperiment {
  resolved: ResolvedSpec;
  def: ExperimentDefinition<unknown>;
  config: unknown;
  conditions: Condition[];
  specFile: string;
}

/** Reads and resolves `file` exactly as `mst run --spec` does, then takes the task's kit definition. */
export async function loadExperiment(file: string): Promise<LoadedExperiment> {
  const { resolved, task } = await resolveSpec({ spec: loadSpecFile(file) });
  return experimentOf(resolved, task, file);
}

/** The experiment of an already resolved spec (a run's spec.resolved.json); `file` names it in errors. */
export function experimentOf(resolved: ResolvedSpec, task: Task, file: string): LoadedExperiment {
  const def = task.experiment;
  if (def === undefined)
    throw new NotAKitTaskError(
      `${file}: task "${task.name}" is not built with the experiment kit, so it has no arms to export`,
    );
  const config = task.configSchema.parse(resolved.config);
  return { resolved, def, config, conditions: conditionsOf(def, config), specFile: file };
}
