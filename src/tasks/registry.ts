/**
 * The registry of shipped tasks: task name -> Task. Adding a shipped task is one import and one line in `TASKS`; a
 * researcher's own task is a plug-in module instead (`mst run ./my-task.js`, loaded by src/run/task-module.ts).
 */
import type { Task } from "../experiment/task.js";
import { sycophancyTask } from "./sycophancy-addition/task.js";
import { politicalBiasTask } from "./political-bias/task.js";
import { codingTask } from "./coding-coverage/task.js";
import { customTask } from "./custom/task.js";

/** Every task `mst run <name>` knows. Keep it a plain map (one line per task). */
const TASKS: Record<string, Task<unknown>> = {
  sycophancy: sycophancyTask,
  "political-bias": politicalBiasTask,
  custom: customTask,
  "coding-coverage": codingTask,
};

/** Thrown for an unknown task name; the message lists the known ones. */
export class UnknownTaskError extends Error {
  override name = "UnknownTaskError";
  constructor(readonly taskName: string) {
    super(
      `unknown task "${taskName}"; known tasks: ${Object.keys(TASKS).sort().join(", ")} ` +
        "(or the path of a task module, e.g. ./my-task/task.js)",
    );
  }
}

/** The task registered under `name`; throws UnknownTaskError otherwise. */
export function getTask(name: string): Task {
  const t = Object.hasOwn(TASKS, name) ? TASKS[name] : undefined;
  if (!t) throw new UnknownTaskError(name);
  return t;
}

/** Names of all registered tasks, sorted. */
export function listTasks(): string[] {
  return Object.keys(TASKS).sort();
}
