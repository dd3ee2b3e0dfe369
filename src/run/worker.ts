/**
 * Worker process entry: forked by the runner with MST_THREADS / OPENBLAS_NUM_THREADS already in its environment (so
 * BLAS reads them when it loads), runs exactly one job, writes result.json last (atomically) and exits.
 */
import { mkdirSync } from "node:fs";
import type { Json } from "../data/sample.js";
import type { JobContext } from "../experiment/task.js";
import type { RunJobMessage, WorkerMessage } from "./ipc.js";
import { jobDirOf, resultFileOf, writeJsonAtomic } from "./run-dir.js";
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
  const raw: Json = await task.runJob(msg.job, ctx);
  // checked before result.json is written: a later --resume trusts every result.json it finds
  const result = task.validateResult ? task.validateResult(msg.job, raw) : raw;
  writeJsonAtomic(resultFileOf(msg.runDir, msg.job.id), result);
  await send({ type: "done" });
}

// If the runner dies (kill -9), the IPC channel closes: stop at once rather than finish an orphaned job.
process.on("disconnect", () => process.exit(2));
process.once("message", (msg: RunJobMessage) => {
  runOne(msg).then(
    () => process.exit(0),
    async (e: unknown) => {
      const err = e instanceof Error ? e : new Error(String(e));
      process.stderr.write(`${err.stack ?? err.message}\n`);
      await send({ type: "error", message: err.message, stack: err.stack ?? "" });
      process.exit(1);
    },
  );
});
