/**
 * Stops a worker process whose runner is gone. The IPC 'disconnect' event needs the event loop, which a training step
 * holds for seconds to minutes, so after a kill -9 of `mst run` its workers went on training (one of them while a
 * --resume re-ran the same job). A thread of its own polls the parent pid instead: once the worker has been
 * re-parented (its runner died), it kills its own process, whatever the main thread is doing.
 */
import { Worker } from "node:worker_threads";

/** The watcher thread's code (CommonJS, run with `eval`): it needs nothing but the process object. */
const WATCHER = `
const { workerData } = require("node:worker_threads");
setInterval(() => {
  // the runner's pid is gone from our parentage: it died (a clean exit disconnects us first and we exit on our own)
  if (process.ppid !== workerData.parent) process.kill(process.pid, "SIGKILL");
}, workerData.intervalMs);
`;

/**
 * Starts the watcher for `parent` (default: this process's parent now). It never keeps the process alive on its own
 * and is checked every `intervalMs`; the job directory it leaves behind is partial, which a resume clears.
 */
export function watchParent(parent: number = process.ppid, intervalMs = 200): void {
  const w = new Worker(WATCHER, { eval: true, workerData: { parent, intervalMs } });
  w.unref();
}
