/** The experiment spec (YAML or JSON): strict zod schema, loading with line numbers, and resolution into a task config. */
import { readFileSync } from "node:fs";
import { dirname, resolve as resolvePath } from "node:path";
import { z } from "zod";
import { JsonSchema, type Json } from "../data/sample.js";
import { lineOf as lineOfPath, parseYaml } from "../data/config-file.js";
import { formatPath, issueMessage } from "../data/errors.js";
import { listTasks } from "../tasks/registry.js";
import { experimentOf } from "../experiment/define.js";
import type { Task } from "../experiment/task.js";
import { deepMerge, hasPath } from "./deep-merge.js";
import { SpecError } from "./errors.js";
import { ExecutorSpecSchema, type ExecutorKind, type ExecutorSpec } from "./executor-spec.js";
import { MAX_JOBS } from "./max-jobs.js";
import { TrainerSpecSchema } from "./trainer-spec.js";
import { TaskModuleError, loadTask, taskRefOf } from "./task-module.js";

/**
 * Task config key that `deployment:` in a spec sets. A task that supports a deployment-label override declares this
 * top-level key in its configSchema (the label value: a string such as "0%" or "unbiased", or a number).
 */
export const DEPLOYMENT_KEY = "deploymentLabel";
/** Task config key that `sweep:` in a spec sets: the list of labels evaluated in the label sweep. */
export const SWEEP_KEY = "sweepLabels";

const LabelValue = z.union([z.string(), z.number()]);
const SeedList = z.array(z.number().int().nonnegative()).min(1);

/** What a user writes. Every field is optional: `mst run <task>` alone uses the task's defaults. */
export const ExperimentSpecSchema = z
  .strictObject({
    task: z
      .string()
      .min(1)
      .optional()
      .describe(
        "Task name (e.g. sycophancy) or the path of a task module (relative to this file); the CLI argument wins if both are given",
      ),
    preset: z.string().min(1).optional().describe("Named preset of the task (default: the task's default preset)"),
    overrides: z
      .record(z.string(), JsonSchema)
      .default({})
      .describe("Task config fields deep-merged over the preset; validated by the task's own schema"),
    arms: z.array(z.string().min(1)).min(1).optional().describe("Arms to run (default: the task's default arms)"),
    seeds: SeedList.optional().describe("Fine-tuning seeds (default: the task's)"),
    baseSeeds: SeedList.optional().describe("Base-model seeds, each base shared by all arms (default: the task's)"),
    deployment: LabelValue.optional().describe(`Deployment label; sets the task config key "${DEPLOYMENT_KEY}"`),
    sweep: z.array(LabelValue).min(1).optional().describe(`Labels for the label sweep; sets "${SWEEP_KEY}"`),
    out: z.string().min(1).optional().describe("Run directory (default: runs/<task>-<preset>-<timestamp>)"),
    jobs: z
      .number()
      .int()
      .min(1)
      .max(MAX_JOBS)
      .optional()
      .describe(`Worker processes, 1 to ${MAX_JOBS} (default: number of cores)`),
    executor: ExecutorSpecSchema.optional().describe(
      "Where the jobs run (default: local worker processes); `mst run --executor slurm` picks slurm with these settings",
    ),
    trainer: TrainerSpecSchema.optional().describe(
      "Which engine trains the arms (default: embedded); trl runs each train job in TRL and imports its adapter",
    ),
  })
  .describe("An experiment spec");
export type ExperimentSpec = z.infer<typeof ExperimentSpecSchema>;

/** What a run directory stores as spec.resolved.json: enough to re-plan the run with no other input. */
export const ResolvedSpecSchema = z.strictObject({
  format: z.literal("mst-run-spec/1").describe("File format and version"),
  task: z.string().describe("Task name, or the absolute path of a plug-in task module"),
  preset: z.string().describe("Preset name"),
  arms: z.array(z.string()).describe("Arms in the run"),
  seeds: z.array(z.number().int()).describe("Fine-tuning seeds"),
  baseSeeds: z.array(z.number().int()).describe("Base-model seeds"),
  jobs: z.number().int().positive().nullable().describe("Worker processes asked for (null: number of cores)"),
  config: JsonSchema.describe("The fully resolved task config (preset + overrides, parsed by the task's schema)"),
  executor: ExecutorSpecSchema.optional().describe(
    "The executor and its settings; absent: local worker processes (a local run's file is as it always was)",
  ),
  trainer: TrainerSpecSchema.optional().describe("The training engine; absent: the embedded trainer"),
  source: z
    .strictObject({
      file: z.string().nullable().describe("Spec file the run came from, if any"),
      spec: JsonSchema.nullable().describe("The spec as written"),
    })
    .describe("Where the spec came from"),
});
export type ResolvedSpec = z.infer<typeof ResolvedSpecSchema>;

/** A parsed spec plus a way to find the line of any field in its file (for error messages). */
export interface LoadedSpec {
  file: string;
  spec: ExperimentSpec;
  lineOf(path: readonly PropertyKey[]): number | null;
}

/** Path of the first zod issue, with the unknown key itself appended (zod reports it at the parent). */
function issuePath(err: z.ZodError): { path: PropertyKey[]; message: string } {
  const first = err.issues[0];
  const path: PropertyKey[] = [...(first?.path ?? [])];
  let message = first ? issueMessage(first) : "invalid";
  if (first?.code === "unrecognized_keys" && first.keys.length > 0) {
    path.push(first.keys[0]);
    message = `unknown key "${first.keys[0]}"`;
  }
  if (err.issues.length > 1) message += ` (and ${err.issues.length - 1} more)`;
  return { path, message };
}

/** Parses spec text (YAML; JSON is valid YAML) and validates it; `file` is only used in messages. */
export function parseSpec(text: string, file: string): LoadedSpec {
  const y = parseYaml(text);
  if (!("doc" in y)) throw new SpecError(file, y.line, "", y.message);
  const { doc, lines } = y;
  const lineOf = (path: readonly PropertyKey[]): number | null => lineOfPath(doc, lines, path);
  const raw: unknown = y.value ?? {};
  const parsed = ExperimentSpecSchema.safeParse(raw);
  if (!parsed.success) {
    const { path, message } = issuePath(parsed.error);
    throw new SpecError(file, lineOf(path), formatPath(path), message);
  }
  return { file, spec: parsed.data, lineOf };
}

/** Reads and validates a spec file. */
export function loadSpecFile(file: string): LoadedSpec {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new SpecError(file, null, "", `cannot read spec: ${(e as Error).message}`);
  }
  return parseSpec(text, file);
}

/** Command-line choices; each wins over the same field in the spec file. */
export interface SpecCliOptions {
  /** Task name, or a task module's path (relative to the cwd). */
  task?: string;
  spec?: LoadedSpec;
  preset?: string;
  arms?: string[];
  seeds?: number[];
  baseSeeds?: number[];
  jobs?: number;
  /** `--executor`: the kind wins over the spec's; a spec's settings for that kind are kept. */
  executor?: ExecutorKind;
}

/**
 * Resolves a spec into the task config and the arms/seeds: preset deep-merged over nothing (the schema supplies the
 * defaults), then `overrides`, then `deployment`/`sweep`; the result is parsed by the task's own strict configSchema.
 * Errors name the spec path (`overrides.ppo.lr`), or the preset when the preset itself is at fault. A task module's path
 * is stored absolute (`task:` in a spec is relative to the spec file), so the run resumes from any cwd.
 */
export async function resolveSpec(
  opts: SpecCliOptions,
): Promise<{ resolved: ResolvedSpec; task: Task; out: string | null }> {
  const loaded = opts.spec;
  const spec: ExperimentSpec = loaded?.spec ?? { overrides: {} };
  const file = loaded?.file ?? "<command line>";
  const lineOf = loaded?.lineOf ?? (() => null);
  const fail = (path: PropertyKey[], detail: string): never => {
    throw new SpecError(file, lineOf(path), formatPath(path), detail);
  };

  const cliRef = opts.task !== undefined ? taskRefOf(opts.task) : undefined;
  const specRef = spec.task !== undefined ? taskRefOf(spec.task, loaded ? dirname(loaded.file) : undefined) : undefined;
  if (cliRef && specRef && cliRef !== specRef) {
    fail(["task"], `spec says task "${spec.task}" but the command line says "${opts.task}"`);
  }
  const taskRef = cliRef ?? specRef;
  if (!taskRef) fail(["task"], `no task given; known tasks: ${listTasks().join(", ")} (or the path of a task module)`);
  let task: Task;
  try {
    task = await loadTask(taskRef as string);
  } catch (e) {
    // a module that cannot be loaded names its own file; a bad name in a spec names the spec's line
    if (specRef && !cliRef && !(e instanceof TaskModuleError)) fail(["task"], (e as Error).message);
    throw e;
  }

  const preset = opts.preset ?? spec.preset ?? task.defaultPreset;
  if (!(preset in task.presets)) {
    fail(["preset"], `task "${task.name}" has no preset "${preset}"; known: ${Object.keys(task.presets).join(", ")}`);
  }

  const arms = opts.arms ?? spec.arms ?? task.arms.default;
  arms.forEach((a, i) => {
    if (!task.arms.supported.includes(a)) {
      fail(["arms", i], `unknown arm "${a}" for task "${task.name}"; supported: ${task.arms.supported.join(", ")}`);
    }
  });
  if (new Set(arms).size !== arms.length) fail(["arms"], "an arm is listed twice");
  const seeds = opts.seeds ?? spec.seeds ?? task.defaultSeeds.seeds;
  const baseSeeds = opts.baseSeeds ?? spec.baseSeeds ?? task.defaultSeeds.baseSeeds;
  if (new Set(seeds).size !== seeds.length) fail(["seeds"], "a seed is listed twice");
  if (new Set(baseSeeds).size !== baseSeeds.length) fail(["baseSeeds"], "a seed is listed twice");

  let merged: Json = deepMerge({}, task.presets[preset]);
  merged = deepMerge(merged, spec.overrides);
  const extra: { [key: string]: Json } = {};
  if (spec.deployment !== undefined) extra[DEPLOYMENT_KEY] = spec.deployment;
  if (spec.sweep !== undefined) extra[SWEEP_KEY] = spec.sweep;
  merged = deepMerge(merged, extra);

  const parsed = task.configSchema.safeParse(merged);
  if (!parsed.success) {
    const { path, message } = issuePath(parsed.error);
    const top = path[0];
    const unsupported = parsed.error.issues[0]?.code === "unrecognized_keys" && path.length === 1;
    if (top === DEPLOYMENT_KEY && spec.deployment !== undefined) {
      fail(
        ["deployment"],
        unsupported
          ? `task "${task.name}" does not take a deployment-label override (its config has no "${DEPLOYMENT_KEY}" key)`
          : `task "${task.name}": ${message}`,
      );
    } else if (top === SWEEP_KEY && spec.sweep !== undefined && unsupported) {
      fail(["sweep"], `task "${task.name}" does not take a label sweep (its config has no "${SWEEP_KEY}" key)`);
    } else if (top === SWEEP_KEY && spec.sweep !== undefined) {
      fail(["sweep", ...path.slice(1)], `task "${task.name}": ${message}`);
    } else if (path.length > 0 && hasPath(spec.overrides, path)) {
      fail(["overrides", ...path], message);
    } else if (path.length > 0 && !hasPath(merged, path) && hasPath(spec.overrides, path.slice(0, -1))) {
      // a required key left out: named at its place under overrides (the line of its parent)
      fail(["overrides", ...path], `required key "${String(path[path.length - 1])}" is missing`);
    } else {
      fail([], `preset "${preset}" of task "${task.name}" is invalid at ${formatPath(path)}: ${message}`);
    }
  }

  let config = parsed.data;
  if (task.prepareConfig) {
    // problems the task finds (files, samples) are named at their spec key, like schema errors
    const specPath = (path: readonly PropertyKey[]): PropertyKey[] =>
      path[0] === DEPLOYMENT_KEY && spec.deployment !== undefined
        ? ["deployment"]
        : path[0] === SWEEP_KEY && spec.sweep !== undefined
          ? ["sweep", ...path.slice(1)]
          : ["overrides", ...path];
    config = task.prepareConfig(config, {
      dir: loaded ? dirname(resolvePath(loaded.file)) : process.cwd(),
      file: loaded?.file ?? null,
      fail: (path, detail) => fail(specPath(path), detail),
    });
  }

  if (spec.trainer?.engine === "trl" && experimentOf(task, config) === undefined)
    fail(["trainer"], `task "${task.name}" is not built with the experiment kit: only the kit's train jobs run in TRL`);
  const executor = resolveExecutor(spec.executor, opts.executor);
  const resolved: ResolvedSpec = {
    format: "mst-run-spec/1",
    task: taskRef as string,
    preset,
    arms,
    seeds,
    baseSeeds,
    jobs: opts.jobs ?? spec.jobs ?? null,
    config: config as Json,
    source: { file: loaded ? loaded.file : null, spec: loaded ? (spec as unknown as Json) : null },
    // a local run's spec.resolved.json is what it always was: no executor key
    ...(executor.kind === "local" ? {} : { executor }),
    ...(spec.trainer === undefined || spec.trainer.engine === "embedded" ? {} : { trainer: spec.trainer }),
  };
  return { resolved, task, out: spec.out ?? null };
}

/**
 * The executor a run uses: the command line's kind, else the spec's, else local; the spec's slurm settings either way
 * (a spec may carry them beside `kind: local`, so `--executor slurm` is the one change between laptop and cluster).
 */
function resolveExecutor(fromSpec: ExecutorSpec | undefined, fromCli: ExecutorKind | undefined): ExecutorSpec {
  return { ...(fromSpec ?? {}), kind: fromCli ?? fromSpec?.kind ?? "local" };
}
