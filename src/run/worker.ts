/**
 * Worker process entry: forked by the runner with MST_THREADS / OPENBLAS_NUM_THREADS already in its environment (so
 * BLAS reads them when it loads), runs exactly one job, writes result.json last (atomically) and exits.
 */
import { mkdirSync } from "node:fs";
import { describeZodError } from "../data/errors.js";
import type { Json } from "../data/sample.js";
import type { JobContext } from "../experiment/task.js";
import type { RunJobMessage, WorkerMessage } from "./ipc.js";
import { describeJobError } from "./job-error.js";
import { jobDirOf, resultFileOf, writeJsonAtomic } from "./run-dir.js";
import { watchParent } from "./parent-watch.js";
import { loadTask } from "./task-module.js";

function send(msg: WorkerMessage): Promise<void> {
  return new Promise((res) => {
    if (!process.send) return res();
    process.send(msg, undefined, {}, () => res());
  });
}

/** Progress is sent at most every 100 ms (and always at a phase's end) so IPC never dominates a tight loop. */
function throttledProgress(): JobContext<unknown>["progress"] {
  let last = 0;
  let lastPhase = "";
  return (phase, done, total) => {
    const now = Date.now();
    if (phase === lastPhase && done < total && now - last < 100) return;
    last = now;
    lastPhase = phase;
    void send({ type: "progress", phase, done, total });
  };
}

async function runOne(msg: RunJobMessage): Promise<void> {
  const task = await loadTask(msg.task);
  const jobDir = jobDirOf(msg.runDir, msg.job.id);
  mkdirSync(jobDir, { recursive: true });
  const ctx: JobContext<unknown> = {
    config: msg.config,
    runDir: msg.runDir,
    jobDir,
    jobDirOf: (id) => jobDirOf(msg.runDir, id),
    deps: msg.deps,
    progress: throttledProgress(),
    log: (line) => void send({ type: "log", line }),
    threads: msg.threads,
  };
  const result: Json = await task.runJob(msg.job, ctx);
  // A result the task's own schema rejects is a bug in the job: refuse to write it, so no resume ever trusts it.
  const schema = task.resultSchema?.(msg.job);
  if (schema !== undefined) {
    const r = schema.safeParse(result);
    if (!r.success) {
      const { field, message } = describeZodError(r.error);
      throw new Error(
        `job returned an invalid ${msg.job.kind} result (${field ? `field "${field}": ` : ""}${message})`,
      );
    }
  }
  writeJsonAtomic(resultFileOf(msg.runDir, msg.job.id), result);
  await send({ type: "done" });
}

// If the runner dies (kill -9), the IPC channel closes: stop at once rather than finish an orphaned job. The event
// needs a free event loop; the parent watcher stops a worker whose main thread is busy in a training step.
process.on("disconnect", () => process.exit(2));
watchParent(Number(process.env.MST_RUNNER_PID) || process.ppid);
process.once("message", (msg: RunJobMessage) => {
  runOne(msg).then(
    () => process.exit(0),
    async (e: unknown) => {
      const { err, resumable } = describeJobError(e, jobDirOf(msg.runDir, msg.job.id));
      process.stderr.write(`${(e instanceof Error && e.stack) || err.message}\n`);
      await send({ type: "error", message: err.message, stack: err.stack ?? "", resumable });
      process.exit(1);
    },
  );
});
