/**
 * A train job of `mst run` trained by TRL instead of the embedded trainer: the job writes, in its own directory, the
 * files `mst export --target trl` writes for it (data, trl.json, train_trl.py, the reward glue), runs train_trl.py in
 * the configured Python, and imports the adapter exactly as `mst import` does, so the kit's evaluation and the report
 * go on unchanged.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { ADAPTER_DIR, BASE_MODEL_DIR, baseJobId, type TrainResult } from "../experiment/jobs.js";
import type { JobSpec, Task } from "../experiment/task.js";
import type { ResolvedSpec } from "../run/spec.js";
import type { TrlTrainer } from "../run/trainer-spec.js";
import { bringAdapter } from "./adapter-io.js";
import { exportExperiment, MANIFEST_FILE } from "./export.js";
import { pickAdapter, trainResultOf } from "./import.js";
import { experimentOfRun } from "./load-experiment.js";

/** A TRL-backed train job that could not run; names the job and what to look at. */
export class TrlTrainError extends Error {
  override name = "TrlTrainError";
}

/** Folder of the job's own export, inside its job directory. */
export const TRL_EXPORT_DIR = "trl";

const ManifestJobSchema = z.looseObject({
  id: z.string(),
  condition: z.string(),
  arm: z.string(),
  base: z.int(),
  seed: z.int(),
  kind: z.enum(["sft", "rl"]),
  rows: z.int(),
});

export interface TrlTrainInput {
  resolved: ResolvedSpec;
  task: Task;
  job: JobSpec;
  runDir: string;
  jobDir: string;
  jobDirOf(id: string): string;
  trainer: TrlTrainer;
  log(line: string): void;
}

/** Runs the job in TRL; resolves with the train result the embedded trainer's evaluation reads. */
export async function runTrlTrainJob(input: TrlTrainInput): Promise<TrainResult> {
  const { job, trainer, log } = input;
  const x = await experimentOfRun(input.resolved, join(input.runDir, "spec.resolved.json"), "the TRL trainer");
  const out = join(input.jobDir, TRL_EXPORT_DIR);
  const summary = exportExperiment(x, { target: "trl", out, only: job.id, rewardUrl: trainer.rewardUrl });
  if (summary.jobs !== 1)
    throw new TrlTrainError(`job ${job.id}: not a train job of the experiment (nothing to export)`);
  if (x.def.train.kind === "rl" && (x.def.train.python?.(x.config) ?? null) === null && trainer.rewardUrl === undefined)
    throw new TrlTrainError(
      `job ${job.id}: task "${x.def.name}" computes its reward in TypeScript only: set trainer.rewardUrl to a running mst serve-reward`,
    );
  const manifest = z
    .looseObject({ jobs: z.array(ManifestJobSchema).length(1) })
    .parse(JSON.parse(readFileSync(join(out, MANIFEST_FILE), "utf8")));
  const mj = manifest.jobs[0];
  const cond = x.conditions.find((c) => c.name === mj.condition);
  if (cond === undefined) throw new TrlTrainError(`job ${job.id}: unknown condition ${mj.condition}`);
  const baseDir = input.jobDirOf(baseJobId(cond.base, mj.base));
  const checkpoint = x.def.base.checkpoint?.(x.config) ?? null;

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // trl.json names an embedded base as $MST_BASES/jobs/<base>/model: the run directory holds it
    MST_BASES: input.runDir,
    ...(trainer.maxSteps !== undefined ? { MST_TRL_MAX_STEPS: String(trainer.maxSteps) } : {}),
    ...(trainer.maxRows !== undefined ? { MST_TRL_MAX_ROWS: String(trainer.maxRows) } : {}),
  };
  log(`trl: ${trainer.python} train_trl.py jobs/${job.id} in ${out}`);
  await runPython(trainer.python, ["train_trl.py", join("jobs", job.id)], out, env, log, job.id);

  const adapter = pickAdapter(join(out, "jobs", job.id, "output"));
  if (adapter === null)
    throw new TrlTrainError(
      `job ${job.id}: TRL finished but left no adapter under ${join(out, "jobs", job.id, "output")}`,
    );
  const how = await bringAdapter(adapter, join(input.jobDir, ADAPTER_DIR), checkpoint ?? join(baseDir, BASE_MODEL_DIR));
  log(`trl: adapter ${adapter} ${how} against the base and imported`);
  return trainResultOf(out, { ...mj, arm: mj.arm as TrainResult["arm"] });
}

/** Runs the script, each output line to the job's log; rejects naming the job and the last lines when it fails. */
function runPython(
  python: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
  jobId: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    const tail: string[] = [];
    let partial = "";
    const onData = (b: Buffer) => {
      const text = partial + b.toString();
      const lines = text.split(/\r?\n|\r/);
      partial = lines.pop() ?? "";
      for (const l of lines) {
        if (l.trim() === "") continue;
        log(l);
        tail.push(l);
        if (tail.length > 8) tail.shift();
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("error", (e) =>
      reject(new TrlTrainError(`job ${jobId}: cannot run ${python} (trainer.python): ${e.message}`)),
    );
    child.on("close", (code, signal) => {
      if (partial.trim() !== "") log(partial);
      if (code === 0) return resolve();
      reject(
        new TrlTrainError(
          `job ${jobId}: ${python} train_trl.py ${signal ? `killed by ${signal}` : `exited with code ${code}`}\n  last lines:\n    ${tail.join("\n    ")}`,
        ),
      );
    });
  });
}
