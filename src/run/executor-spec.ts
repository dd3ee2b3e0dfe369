/** Which executor runs a run's job graph: `local` worker processes (the default) or `slurm` (one sbatch job per job). */
import { z } from "zod";

/** SLURM's time formats: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS (what sbatch --time takes). */
const SLURM_TIME = /^(\d+|\d+:\d{2}|\d+:\d{2}:\d{2}|\d+-\d+|\d+-\d+:\d{2}|\d+-\d+:\d{2}:\d{2}|UNLIMITED|INFINITE)$/;

/** The sbatch resources of a job; each field left out is left to the cluster's (or the partition's) default. */
export const SlurmResourcesSchema = z.strictObject({
  partition: z.string().min(1).optional().describe("sbatch --partition (default: the cluster's default partition)"),
  account: z.string().min(1).optional().describe("sbatch --account (default: the user's default account)"),
  time: z
    .string()
    .regex(SLURM_TIME, 'a SLURM time limit: minutes, "HH:MM:SS" or "D-HH:MM:SS"')
    .optional()
    .describe('sbatch --time, e.g. "04:00:00" or "1-00:00:00" (default: the partition\'s limit)'),
  cpus: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe("sbatch --cpus-per-task; the job's BLAS threads (MST_THREADS) follow it (default 1)"),
  mem: z
    .string()
    .regex(/^\d+[KMGT]?$/, 'a SLURM memory size such as "16G" or "4000M"')
    .optional()
    .describe('sbatch --mem, e.g. "16G" (default: the partition\'s)'),
  gres: z.string().min(1).optional().describe('sbatch --gres, e.g. "gpu:1" (default: none)'),
  sbatchArgs: z
    .array(z.string().min(1))
    .optional()
    .describe('Further sbatch options, passed as written, e.g. ["--qos=high", "--constraint=a100"]'),
});
export type SlurmResources = z.infer<typeof SlurmResourcesSchema>;

/**
 * `executor:` in a spec: the kind, and the slurm executor's settings. The settings may sit beside `kind: local`, so
 * one spec runs locally by default and on the cluster with `mst run --executor slurm`.
 */
export const ExecutorSpecSchema = SlurmResourcesSchema.extend({
  kind: z
    .enum(["local", "slurm"])
    .default("local")
    .describe("local: worker processes on this machine (default); slurm: one sbatch job per job of the graph"),
  kinds: z
    .record(z.string().min(1), SlurmResourcesSchema)
    .optional()
    .describe(
      'Resources per job kind (e.g. train: { gres: "gpu:1", time: "12:00:00" }), each field over the ones above',
    ),
  setup: z
    .string()
    .optional()
    .describe(
      'Shell lines every batch script runs before the job, e.g. "module load cuda; source ~/venvs/trl/bin/activate"',
    ),
  mst: z
    .array(z.string().min(1))
    .min(1)
    .optional()
    .describe(
      "The command that runs mst on a node (default: this node binary and this mst, which must be on the shared filesystem)",
    ),
  pollSeconds: z
    .number()
    .positive()
    .max(600)
    .optional()
    .describe("Seconds between two looks at the queue (squeue) while following the jobs (default 10)"),
}).describe("Where the jobs run: local worker processes, or one sbatch job each on a SLURM cluster");
export type ExecutorSpec = z.infer<typeof ExecutorSpecSchema>;
/** The settings of a run that the slurm executor runs. */
export type SlurmExecutor = ExecutorSpec & { kind: "slurm" };

export const EXECUTOR_KINDS = ["local", "slurm"] as const;
export type ExecutorKind = (typeof EXECUTOR_KINDS)[number];

/** Defaults of the settings above that mst itself applies (the others are left to the cluster). */
export const SLURM_DEFAULTS = { cpus: 1, pollSeconds: 10 } as const;

/** The resources of one job: the executor's, then its kind's entry in `kinds` field by field. */
export function resourcesFor(exec: SlurmExecutor, kind: string): SlurmResources & { cpus: number } {
  const base: SlurmResources = {
    partition: exec.partition,
    account: exec.account,
    time: exec.time,
    cpus: exec.cpus,
    mem: exec.mem,
    gres: exec.gres,
    sbatchArgs: exec.sbatchArgs,
  };
  const over = exec.kinds?.[kind] ?? {};
  const merged: SlurmResources = { ...base };
  for (const [k, v] of Object.entries(over)) if (v !== undefined) (merged as Record<string, unknown>)[k] = v;
  return { ...merged, cpus: merged.cpus ?? SLURM_DEFAULTS.cpus };
}
