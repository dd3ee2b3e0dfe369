/**
 * `mst run <task>`: resolve a spec (or the task's defaults), run its jobs on worker processes, write the report. The
 * task is a registered name or the path of a plug-in module (`mst run ./my-task/task.js`).
 */
import { InvalidArgumentError, type Command } from "commander";
import { MAX_JOBS } from "../../run/max-jobs.js";
import type { RunOutcome } from "../../run/runner.js";

/**
 * The runner, spec and task registry, imported only when `run` is the command (the registry loads every task's
 * pipeline, ~0.4 s), so `mst --help`, `mst arms` and `mst runs` start fast. Loaded by a preSubcommand hook, which
 * commander awaits before `run` parses its arguments or prints its help.
 */
interface RunDeps {
  runner: typeof import("../../run/runner.js");
  runDir: typeof import("../../run/run-dir.js");
  spec: typeof import("../../run/spec.js");
  registry: typeof import("../../tasks/registry.js");
}
let deps: RunDeps | null = null;

async function loadDeps(): Promise<RunDeps> {
  if (deps === null) {
    const [runner, runDir, spec, registry] = await Promise.all([
      import("../../run/runner.js"),
      import("../../run/run-dir.js"),
      import("../../run/spec.js"),
      import("../../tasks/registry.js"),
    ]);
    deps = { runner, runDir, spec, registry };
  }
  return deps;
}

function intList(flag: string) {
  return (value: string): number[] => {
    const parts = value.split(",").map((s) => s.trim());
    if (parts.some((p) => !/^\d+$/.test(p))) {
      throw new InvalidArgumentError(
        `${flag} takes comma-separated non-negative integers, e.g. 0,1,2 (got "${value}")`,
      );
    }
    return parts.map(Number);
  };
}

function jobCount(value: string): number {
  if (!/^[1-9]\d*$/.test(value) || Number(value) > MAX_JOBS)
    throw new InvalidArgumentError(`expected a whole number from 1 to ${MAX_JOBS}, got "${value}"`);
  return Number(value);
}

function executorKind(value: string): "local" | "slurm" {
  if (value !== "local" && value !== "slurm") throw new InvalidArgumentError(`expected local or slurm, got "${value}"`);
  return value;
}

function tasksHelp({ registry }: RunDeps): string {
  return registry
    .listTasks()
    .map((name) => {
      const t = registry.getTask(name);
      return `  ${name.padEnd(15)} ${t.title}\n  ${"".padEnd(15)} presets: ${Object.keys(t.presets).join(", ")} (default ${t.defaultPreset}); arms: ${t.arms.supported.join(", ")} (default ${t.arms.default.join(", ")})`;
    })
    .join("\n")
    .concat(
      `\n  ${"./my-task.js".padEnd(15)} a plug-in: an ES module exporting a Task built with "monitor-sensitive-training/experiment" (README: Your own task)`,
    );
}

const specHelp = ({ spec }: RunDeps): string => `
Spec file (YAML or JSON; every key optional, unknown keys are errors naming their path):
  task: sycophancy            # or give it as the argument; or a task module's path (relative to the spec file)
  preset: embedded            # a named config of the task
  overrides: { ... }          # task config fields, deep-merged over the preset, checked by the task's schema
  arms: [baseline, mst, shuffled]
  seeds: [0, 1, 2]            # fine-tuning seeds
  baseSeeds: [0, 1]           # base models, each shared by every arm and seed
  deployment: "0%"            # the deployment label (sets the task config key "${spec.DEPLOYMENT_KEY}")
  sweep: [0, 25, 50, 100]     # labels for the label sweep (sets "${spec.SWEEP_KEY}")
  out: runs/my-run            # run directory
  jobs: 2                     # worker processes
  executor: { kind: slurm, partition: gpu, time: "04:00:00", cpus: 8, mem: 32G, gres: "gpu:1" }  # or --executor slurm
Command-line options win over the spec. A killed run continues with --resume DIR: finished jobs are reused.

Examples:
  mst run sycophancy                                   # the task's defaults
  mst run ./examples/tasks/strict-grader/task.js       # a plug-in task module (exports a Task)
  mst run sycophancy --seeds 0,1,2 --arms baseline,mst --out runs/quick
  mst run --resume runs/sycophancy-embedded-20261124-140000
  mst run --spec examples/specs/sycophancy-checkpoint.yaml --executor slurm   # every job an sbatch job (README: Running on a cluster)

Tasks:
`;

interface RunCliOptions {
  spec?: string;
  preset?: string;
  out?: string;
  jobs?: number;
  force?: boolean;
  resume?: string;
  executor?: "local" | "slurm";
  seeds?: number[];
  baseSeeds?: number[];
  arms?: string;
  dryRun?: boolean;
}

function printOutcome(o: RunOutcome): void {
  console.log(`finished: ${o.ran} jobs run, ${o.reused} reused, ${o.seconds.toFixed(1)}s`);
  for (const f of o.results.findings) console.log(`  - ${f}`);
  for (const [k, v] of Object.entries(o.results.headline))
    console.log(`  ${k}: ${Number.isFinite(v) ? +v.toPrecision(4) : v}`);
  console.log(`results: ${o.runDir}/results.json`);
  console.log(`report:  ${o.runDir}/report.html`);
}

export function register(program: Command): void {
  program.hook("preSubcommand", async (_program, sub) => {
    if (sub.name() === "run") await loadDeps();
  });
  program
    .command("run")
    .description("run an experiment (arms x seeds) and write a run directory with results.json and report.html")
    .argument(
      "[task]",
      "task to run (listed under Tasks below), or the path of a task module (./my-task.js); not needed with --spec naming one, or --resume",
    )
    .option("--spec <file>", "experiment spec, YAML or JSON (see below)")
    .option("--preset <name>", "task preset (default: the task's default preset)")
    .option("--out <dir>", "run directory (default: runs/<task>-<preset>-<timestamp>)")
    .option(
      "--jobs <n>",
      `worker processes at once, 1 to ${MAX_JOBS} (default: number of cores); each gets cores/n BLAS threads`,
      jobCount,
    )
    .option("--force", "overwrite an existing run directory (deleted first; only ever an mst run directory)")
    .option("--resume <dir>", "continue a killed or failed run, reusing every finished job")
    .option(
      "--executor <kind>",
      "where the jobs run: local (worker processes, the default) or slurm (one sbatch job each; settings under executor: in the spec)",
      executorKind,
    )
    .option("--seeds <list>", "fine-tuning seeds, comma-separated, e.g. 0,1,2", intList("--seeds"))
    .option("--base-seeds <list>", "base-model seeds, comma-separated, e.g. 0,1", intList("--base-seeds"))
    .option("--arms <list>", "arms, comma-separated, e.g. baseline,mst,shuffled")
    .option(
      "--dry-run",
      "check the spec and print the jobs it would run (with --resume: which are left); write nothing",
    )
    // `mst help run` prints help without running hooks, so the modules may not be loaded: point to `run --help`
    .addHelpText("after", () =>
      deps === null ? "\nThe spec file format and the tasks: mst run --help\n" : specHelp(deps) + tasksHelp(deps),
    )
    .action(async (taskArg: string | undefined, opts: RunCliOptions) => {
      const { runner, runDir: dirs, spec: specs } = await loadDeps();
      if (opts.resume !== undefined) {
        const extra = (["spec", "preset", "out", "force", "seeds", "baseSeeds", "arms", "executor"] as const).filter(
          (k) => opts[k] !== undefined,
        );
        if (taskArg !== undefined || extra.length > 0) {
          throw new InvalidArgumentError(
            `--resume continues a run exactly as it was specified; it takes only --jobs and --dry-run (got ${[...(taskArg ? ["a task"] : []), ...extra.map((k) => `--${k}`)].join(", ")})`,
          );
        }
        if (opts.dryRun) {
          const { previewResume, previewLines } = await import("../../run/dry-run.js");
          for (const line of previewLines(await previewResume(opts.resume))) console.log(line);
          return;
        }
        printOutcome(await runner.resumeRun(opts.resume, { jobs: opts.jobs }));
        return;
      }
      const spec = opts.spec !== undefined ? specs.loadSpecFile(opts.spec) : undefined;
      const { resolved, task, out } = await specs.resolveSpec({
        task: taskArg,
        spec,
        preset: opts.preset,
        arms: opts.arms?.split(",").map((a) => a.trim()),
        seeds: opts.seeds,
        baseSeeds: opts.baseSeeds,
        jobs: opts.jobs,
        executor: opts.executor,
      });
      const runDir = opts.out ?? out ?? dirs.defaultRunDir(task.name, resolved.preset);
      if (opts.dryRun) {
        const { previewRun, previewLines } = await import("../../run/dry-run.js");
        for (const line of previewLines(await previewRun(resolved, runDir))) console.log(line);
        return;
      }
      printOutcome(await runner.startRun(resolved, runDir, { force: opts.force ?? false, jobs: opts.jobs }));
    });
}
