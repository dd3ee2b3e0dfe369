/** Reads the training-curve JSONL files a task names in `curves`, tolerating bad lines (counted, not fatal). */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { CurveSource } from "../experiment/results.js";

export interface CurvePoint {
  arm: string;
  seed: string;
  field: string;
  step: number;
  value: number;
}

export interface CurveData {
  points: CurvePoint[];
  /** Problems found while reading (missing files, unparsable lines), shown in the report. */
  problems: string[];
}

/** At most this many points per (arm, seed, field) series: enough to see the shape, small enough for inline SVG. */
export const MAX_POINTS_PER_SERIES = 300;

/** Loads every curve file relative to `runDir`, downsampling long series evenly (always keeping the last step). */
export function loadCurves(runDir: string, sources: CurveSource[]): CurveData {
  const points: CurvePoint[] = [];
  const problems: string[] = [];
  for (const src of sources) {
    const file = join(runDir, src.file);
    if (!existsSync(file)) {
      problems.push(`${src.file}: missing (arm ${src.arm}, seed ${src.seed})`);
      continue;
    }
    const rows: Array<Record<string, unknown>> = [];
    let bad = 0;
    readFileSync(file, "utf8")
      .split("\n")
      .forEach((line) => {
        if (!line.trim()) return;
        try {
          const v: unknown = JSON.parse(line);
          if (typeof v === "object" && v !== null && typeof (v as { step?: unknown }).step === "number") {
            rows.push(v as Record<string, unknown>);
          } else bad++;
        } catch {
          bad++;
        }
      });
    if (bad > 0) problems.push(`${src.file}: ${bad} line(s) without a numeric "step" skipped`);
    const stride = Math.max(1, Math.ceil(rows.length / MAX_POINTS_PER_SERIES));
    for (const field of src.fields) {
      for (let i = 0; i < rows.length; i++) {
        if (i % stride !== 0 && i !== rows.length - 1) continue;
        const value = rows[i][field];
        if (typeof value === "number" && Number.isFinite(value)) {
          points.push({ arm: src.arm, seed: src.seed, field, step: rows[i].step as number, value });
        }
      }
    }
  }
  return { points, problems };
}
