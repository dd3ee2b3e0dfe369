/**
 * The per-step metrics JSONL of a training run: one flushed line per step, and on resume the file is cut back to the
 * checkpoint's step so the log never holds duplicate or orphaned steps (those written after the checkpoint). The same
 * fields go to a TensorBoard event file beside it (rewritten from the kept lines on resume), for `tensorboard --logdir`.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { JsonlAppender, writeFileAtomic } from "../data/jsonl-write.js";
import { EventFileWriter } from "./tfevents.js";

/** One line of the metrics log: `step` plus named numbers (null where a quantity does not apply). */
export type StepMetrics = { step: number } & Record<string, number | null>;

export class MetricsLog {
  private constructor(
    private readonly out: JsonlAppender | null,
    private readonly events: EventFileWriter | null,
  ) {}

  /**
   * Opens `file` for a run starting after `fromStep` (0 for a fresh run: any old file is replaced; k on resume: lines
   * with step > k are dropped). `file` null gives a log that only forwards nothing (no output directory).
   */
  static open(file: string | null, fromStep: number): MetricsLog {
    if (file === null) return new MetricsLog(null, null);
    const kept: string[] = [];
    if (existsSync(file)) {
      if (fromStep > 0) {
        for (const line of readFileSync(file, "utf8").split("\n")) {
          if (line.trim() === "") continue;
          let rec: { step?: unknown };
          try {
            rec = JSON.parse(line) as { step?: unknown };
          } catch {
            break; // a torn last line from the crash: everything before it is whole
          }
          if (typeof rec.step === "number" && rec.step <= fromStep) kept.push(line + "\n");
        }
      }
      writeFileAtomic(file, kept.join(""));
    }
    const events = EventFileWriter.open(dirname(file));
    for (const line of kept) {
      const m = JSON.parse(line) as StepMetrics;
      events.scalars(m.step, m);
    }
    return new MetricsLog(JsonlAppender.open(file), events);
  }

  append(m: StepMetrics): void {
    this.out?.append(m);
    this.events?.scalars(m.step, m);
  }

  close(): void {
    this.out?.close();
    this.events?.close();
  }
}

/** Reads a metrics JSONL back (tests and reports). */
export function readMetrics(file: string): StepMetrics[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as StepMetrics);
}
