/** Messages between the runner and its worker processes (JSON over the fork IPC channel). */
import type { Json } from "../data/sample.js";
import type { JobSpec } from "../experiment/task.js";

/** Runner -> worker: run this one job. */
export interface RunJobMessage {
  type: "run";
  /** Task reference: a registered name or a plug-in module's absolute path (spec.resolved.json's `task`). */
  task: string;
  job: JobSpec;
  config: Json;
  runDir: string;
  deps: Record<string, Json>;
  threads: number;
}

/** Worker -> runner. */
export type WorkerMessage =
  | { type: "progress"; phase: string; done: number; total: number }
  | { type: "log"; line: string }
  | { type: "done" }
  /** `resumable`: the failure came from outside the job (disk, network, a provider), so a resume can succeed. */
  /** `name`: the error's class name, so the CLI can tell bad input (exit 2) from a failure of the work (exit 1). */
  | { type: "error"; message: string; stack: string; resumable: boolean; name?: string };
