/** `mst job run <run-dir> <job-id>`: runs one job of a run here (what the slurm executor submits to each node). */
import type { Command } from "commander";

export function register(program: Command): void {
  const job = program
    .command("job")
    .description("run one job of a run directory (used by the slurm executor on the nodes)");
  job
    .command("run")
    .description(
      "run one job of a run in this process: re-plan it from spec.resolved.json, read its dependencies' results, write its result.json (error.json on failure)",
    )
    .argument("<run-dir>", "the run directory (on a shared filesystem when run on a cluster node)")
    .argument("<job-id>", "the job's id, e.g. train-mst-b0-s0 (the folder name under jobs/)")
    .action(async (runDir: string, jobId: string) => {
      const { resolve } = await import("node:path");
      const { runJobCommand } = await import("../../run/job-command.js");
      await runJobCommand(resolve(runDir), jobId);
    });
}
