/**
 * Task references: a registered task name (`sycophancy`) or the path of an ES module that exports a Task built with
 * the experiment kit (a plug-in: `./my-task/task.js`). Every command resolves a task here: the runner, the worker,
 * `mst report` and `mst runs` through `loadTask`; export, import, serve-reward, `mst eval` and `mst serve --run`
 * through `resolveKitTask`, which also gives the kit definition for the config (custom's depends on its spec). A run
 * directory stores a plug-in as its absolute path, so it resumes from any cwd.
 */
import { existsSync, statSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { z } from "zod";
import type { Json } from "../data/sample.js";
import { experimentOf } from "../experiment/define.js";
import type { ExperimentDefinition } from "../experiment/experiment.js";
import type { Task } from "../experiment/task.js";
import { getTask } from "../tasks/registry.js";

/** A plug-in module that cannot be loaded or does not export a Task; the one-line message names the file. */
export class TaskModuleError extends Error {
  override name = "TaskModuleError";
  constructor(
    readonly file: string,
    readonly detail: string,
  ) {
    super(`${file}: ${detail}`);
  }
}

/** A reference is a path when it has a separator or a JS extension; registered names have neither. */
export function isTaskPath(ref: string): boolean {
  return ref.includes("/") || ref.includes("\\") || /\.[cm]?js$/.test(ref);
}

/** The stored form of a reference: a name as is, a path made absolute against `baseDir` (default: the cwd). */
export function taskRefOf(ref: string, baseDir = process.cwd()): string {
  return isTaskPath(ref) && !isAbsolute(ref) ? resolve(baseDir, ref) : ref;
}

const fn = z.custom<(...args: never[]) => unknown>((v) => typeof v === "function", "must be a function");
const names = z.array(z.string());

/** The shape of a Task as the runner uses it (a zod schema is anything with `safeParse` and `parse`). */
const TaskShapeSchema = z.looseObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "must be a filesystem-safe name"),
  title: z.string(),
  description: z.string(),
  configSchema: z.looseObject({ safeParse: fn, parse: fn }),
  presets: z.record(z.string(), z.unknown()),
  defaultPreset: z.string(),
  arms: z.looseObject({ supported: names, default: names }),
  defaultSeeds: z.looseObject({ seeds: z.array(z.int()), baseSeeds: z.array(z.int()) }),
  plan: fn,
  runJob: fn,
  summarize: fn,
  validateResult: fn.optional(),
});

/** Checks that `value` is shaped like a Task; throws naming the file and the first field at fault. */
export function checkTaskShape(value: unknown, file: string): Task {
  const hint = 'build it with defineExperiment from "monitor-sensitive-training/experiment"';
  const parsed = TaskShapeSchema.safeParse(value);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    const where = i.path.length > 0 ? `"${i.path.join(".")}" ` : "";
    throw new TaskModuleError(file, `the exported task is not an mst Task: ${where}${i.message} (${hint})`);
  }
  const t = value as Task;
  if (!Object.hasOwn(t.presets, t.defaultPreset))
    throw new TaskModuleError(file, `task "${t.name}": defaultPreset "${t.defaultPreset}" is not one of its presets`);
  return t;
}

/** Imports a plug-in module (absolute path) and returns its Task: the named export `task`, else the default export. */
async function importTask(file: string): Promise<Task> {
  if (!existsSync(file) || !statSync(file).isFile()) throw new TaskModuleError(file, "no such task module");
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new TaskModuleError(file, `cannot load the task module: ${msg.split("\n")[0]}`);
  }
  const value = mod.task ?? mod.default;
  if (value === undefined)
    throw new TaskModuleError(file, "exports no task: export the Task as `export default` or as `export const task`");
  return checkTaskShape(value, file);
}

/**
 * The task a reference names: a registered task, or a plug-in module (a relative path is resolved against `baseDir`,
 * default the cwd). Node's module cache makes loading the same plug-in twice free.
 */
export async function loadTask(ref: string, baseDir?: string): Promise<Task> {
  return isTaskPath(ref) ? importTask(taskRefOf(ref, baseDir)) : getTask(ref);
}

/** Thrown when a task was not built with the experiment kit (it has no arms, labels or reward to hand over). */
export class NotAKitTaskError extends Error {
  override name = "NotAKitTaskError";
}

/** A task with its parsed config and its kit definition for that config. */
export interface KitTask {
  task: Task;
  config: unknown;
  def: ExperimentDefinition<unknown>;
}

/**
 * The one resolver from a stored task reference (a name or a plug-in's path) and its resolved config to the task's
 * kit definition: what `mst export`, `mst import`, `mst serve-reward`, `mst eval` and `mst serve --run` work from.
 * `what` names the command for the error a task without a kit definition gets.
 */
export async function resolveKitTask(ref: string, config: Json, what: string): Promise<KitTask> {
  const task = await loadTask(ref);
  const parsed = task.configSchema.parse(config);
  const def = experimentOf(task, parsed);
  if (def === undefined)
    throw new NotAKitTaskError(
      `task "${task.name}" is not built with the experiment kit (defineExperiment), so ${what} cannot use it`,
    );
  return { task, config: parsed, def };
}
