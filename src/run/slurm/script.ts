/** The batch script the slurm executor submits for one job: its resources as #SBATCH lines, then `mst job run`. */
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import type { JobSpec } from "../../experiment/task.js";
import { type SlurmExecutor, resourcesFor } from "../executor-spec.js";
import { JOB_FILES, jobDirOf } from "../run-dir.js";

/** The mst CLI entry of this installation (dist/src/cli/main.js), run on the node by this node binary by default. */
export const MST_MAIN = fileURLToPath(new URL("../../cli/main.js", import.meta.url));

/** Single-quotes a word for bash. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The prefix of every SLURM job name of a run: `mst-<8 hex>-`, the hex from the run directory and its spec, so a
 * resume finds its own jobs in the queue (and never another run's, nor those of an earlier spec in the same folder).
 */
export function jobNamePrefix(runDir: string, specText: string): string {
  const h = createHash("sha256").update(runDir).update("\0").update(specText).digest("hex");
  return `mst-${h.slice(0, 8)}-`;
}

export interface ScriptInput {
  exec: SlurmExecutor;
  job: JobSpec;
  runDir: string;
  /** SLURM job name (the run's prefix + the job id). */
  name: string;
  /** MST_GEMM for the job, as the local workers would get it. */
  gemm?: string;
}

/** The script's text; options the user listed in sbatchArgs go on sbatch's command line (they win over #SBATCH). */
export function batchScript(input: ScriptInput): string {
  const { exec, job, runDir, name } = input;
  const r = resourcesFor(exec, job.kind);
  const dir = jobDirOf(runDir, job.id);
  const opts: string[] = [
    `--job-name=${name}`,
    `--output=${dir}/${JOB_FILES.log}`,
    "--open-mode=append",
    `--chdir=${runDir}`,
    "--ntasks=1",
    `--cpus-per-task=${r.cpus}`,
  ];
  if (r.partition !== undefined) opts.push(`--partition=${r.partition}`);
  if (r.account !== undefined) opts.push(`--account=${r.account}`);
  if (r.time !== undefined) opts.push(`--time=${r.time}`);
  if (r.mem !== undefined) opts.push(`--mem=${r.mem}`);
  if (r.gres !== undefined) opts.push(`--gres=${r.gres}`);
  const mst = exec.mst ?? [process.execPath, MST_MAIN];
  const lines = [
    "#!/bin/bash",
    `# mst job ${job.id} (${job.title}) of the run in ${runDir}; written by mst run --executor slurm`,
    ...opts.map((o) => `#SBATCH ${o}`),
    "set -e",
  ];
  if (exec.setup !== undefined && exec.setup.trim() !== "") lines.push("# executor.setup", exec.setup.trimEnd());
  lines.push(
    // the job's BLAS threads follow its CPUs, as a local worker's follow its share of the cores
    `export MST_THREADS="\${SLURM_CPUS_PER_TASK:-${r.cpus}}"`,
    'export OPENBLAS_NUM_THREADS="$MST_THREADS"',
    ...(input.gemm !== undefined ? [`export MST_GEMM=${shellQuote(input.gemm)}`] : []),
    `exec ${[...mst, "job", "run", runDir, job.id].map(shellQuote).join(" ")}`,
    "",
  );
  return lines.join("\n");
}

/** sbatch's command-line options for one submission: the user's extra options and the dependency edges. */
export function sbatchArgs(exec: SlurmExecutor, job: JobSpec, afterOk: string[]): string[] {
  const args = [...(resourcesFor(exec, job.kind).sbatchArgs ?? [])];
  if (afterOk.length > 0) args.push(`--dependency=afterok:${afterOk.join(":")}`, "--kill-on-invalid-dep=yes");
  return args;
}
