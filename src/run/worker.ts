/**
 * Worker process entry: forked by the runner with MST_THREADS / OPENBLAS_NUM_THREADS already in its environment (so
 * BLAS reads them when it loads), runs exactly one job, writes result.json last (atomically) and exits.
 */
import type { ProgressFn } from "../experiment/task.js";
import type { RunJobMessage, WorkerMessage } from "./ipc.js";
import { describeJobError } from "./job-error.js";
import { execJob } from "./job-exec.js";
import { jobDirOf } from "./run-dir.js";
import { watchParent } from "./parent-watch.js";

function send(msg: WorkerMessage): Promise<void> {
  return new Promise((res) => {
    if (!process.send) return res();
    process.send(msg, undefined, {}, () => res());
  });
}

/** Progress is sent at most every 100 ms (and always at a phase's end) so IPC never dominates a tight loop. */
function throttledProgress(): ProgressFn {
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
  await execJob({
    task: msg.task,
    job: msg.job,
    config: msg.config,
    runDir: msg.runDir,
    deps: msg.deps,
    threads: msg.threads,
    progress: throttledProgress(),
    log: (line) => void send({ type: "log", line }),
  });
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
      await send({ type: "error", message: err.message, stack: err.stack ?? "", resumable, name: err.name });
      process.exit(1);
    },
  );
});
