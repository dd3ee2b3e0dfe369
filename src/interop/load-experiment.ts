/** An experiment spec file resolved to the task's kit definition and config (what export and serve-reward need). */
import { conditionsOf } from "../experiment/base-job.js";
import type { Condition, ExperimentDefinition } from "../experiment/experiment.js";
import { loadSpecFile, resolveSpec, type ResolvedSpec } from "../run/spec.js";
import { NotAKitTaskError, resolveKitTask } from "../run/task-module.js";

export { NotAKitTaskError };

export interface LoadedExperiment {
  resolved: ResolvedSpec;
  def: ExperimentDefinition<unknown>;
  config: unknown;
  conditions: Condition[];
  specFile: string;
}

/** Reads and resolves `file` exactly as `mst run --spec` does, then takes the task's kit definition for its config. */
export async function loadExperiment(file: string, what = "mst export"): Promise<LoadedExperiment> {
  const { resolved } = await resolveSpec({ spec: loadSpecFile(file) });
  return experimentOfRun(resolved, file, what);
}

/** The experiment of an already resolved spec (a run's spec.resolved.json, named `file` in errors). */
export async function experimentOfRun(resolved: ResolvedSpec, file: string, what: string): Promise<LoadedExperiment> {
  let k;
  try {
    k = await resolveKitTask(resolved.task, resolved.config, what);
  } catch (e) {
    if (e instanceof NotAKitTaskError) throw new NotAKitTaskError(`${file}: ${e.message}`);
    throw e;
  }
  return { resolved, def: k.def, config: k.config, conditions: conditionsOf(k.def, k.config), specFile: file };
}
