/**
 * `mst export`: every train job of a spec (condition x base x seed x arm, built by the kit) and the evaluation sets,
 * in one engine's own format, plus its launch recipe, the reward glue and a manifest that `mst import` reads back.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { writeFileAtomic } from "../data/jsonl-write.js";
import { HeldOutLeakError, evalSets, heldOutLabelTexts, trainJobs } from "./export-data.js";
import { checkRewardUrl, prepareExportOut } from "./export-out.js";
import { loadExperiment, type LoadedExperiment } from "./load-experiment.js";
import { writeParquet } from "./parquet.js";
import { rewardModule } from "./python-glue.js";
import { recipeMarkdown } from "./recipe.js";
import { openaiTarget } from "./targets/openai.js";
import { openrlhfTarget } from "./targets/openrlhf.js";
import { TARGETS, type DataFile, type ExportContext, type ExportTarget, type TargetName } from "./targets/target.js";
import { trlTarget } from "./targets/trl.js";
import { verlTarget } from "./targets/verl.js";

export const EXPORT_FORMAT = "mst-export/1";
export const MANIFEST_FILE = "manifest.json";
export const DEFAULT_REWARD_URL = "http://127.0.0.1:5000/get_reward";

const BY_NAME: Record<TargetName, ExportTarget> = {
  trl: trlTarget,
  openrlhf: openrlhfTarget,
  verl: verlTarget,
  openai: openaiTarget,
};

export function targetOf(name: string): ExportTarget {
  if (!(TARGETS as readonly string[]).includes(name))
    throw new Error(`unknown export target "${name}"; known: ${TARGETS.join(", ")}`);
  return BY_NAME[name as TargetName];
}

export interface ExportOptions {
  spec: string;
  target: string;
  out: string;
  rewardUrl?: string;
  /** Replace the exported files in a non-empty `out` (never one holding the spec). */
  force?: boolean;
}

export interface ExportSummary {
  out: string;
  jobs: number;
  rows: number;
  evalSets: number;
  files: string[];
}

/** Writes a data file; returns its sha256 and the text used for the held-out scan. */
function writeData(dir: string, f: DataFile): { file: string; sha256: string; text: string } {
  const file = join(dir, f.path);
  mkdirSync(dirname(file), { recursive: true });
  if (f.kind === "jsonl") writeFileAtomic(file, f.rows.map((r) => JSON.stringify(r) + "\n").join(""));
  else writeParquet(file, f.columns, f.rows);
  const sha256 = createHash("sha256").update(readFileSync(file)).digest("hex");
  return { file, sha256, text: JSON.stringify(f.rows) };
}

export async function exportSpec(o: ExportOptions): Promise<ExportSummary> {
  checkRewardUrl(o.rewardUrl ?? DEFAULT_REWARD_URL);
  const x = await loadExperiment(o.spec);
  // the user's folder: refused when it holds anything (without --force) or holds the spec itself
  prepareExportOut(o.out, o.spec, o.force ?? false, MANIFEST_FILE);
  return exportExperiment(x, o);
}

/**
 * Exports a loaded experiment (what `mst export` writes for a spec file); `only`: just the train job with that id,
 * as a TRL-backed train job of `mst run` writes its own export in its job directory.
 */
export function exportExperiment(
  x: LoadedExperiment,
  o: Omit<ExportOptions, "spec"> & { only?: string },
): ExportSummary {
  const target = targetOf(o.target);
  const rewardUrl = checkRewardUrl(o.rewardUrl ?? DEFAULT_REWARD_URL);
  const table = x.def.train.kind === "rl" ? (x.def.train.python?.(x.config) ?? null) : null;
  const ctx: ExportContext = { x, table, rewardUrl };
  const jobs = trainJobs(x, o.only);
  const sets = evalSets(x);
  const files: string[] = [];
  const manifestJobs = [];
  for (const job of jobs) {
    const dir = join(o.out, "jobs", job.id);
    const w = writeData(dir, target.trainFile(job, ctx));
    // the file as written must not show a held-out label anywhere (rows were checked before formatting too)
    const texts = heldOutLabelTexts(
      x,
      job.condition,
      new Set(job.rows.map((r) => r.label).filter((l): l is string => l !== null)),
    );
    for (const t of texts)
      if (w.text.includes(JSON.stringify(t).slice(1, -1)))
        throw new HeldOutLeakError(`${w.file}: holds the held-out label ${JSON.stringify(t)}`);
    const side = join(dir, "mst-rows.jsonl");
    writeFileAtomic(
      side,
      job.rows
        .map(
          (r) =>
            JSON.stringify({ id: r.id, arm: r.arm, shown: r.label, shownMonitor: r.labelMonitor, monitor: r.monitor }) +
            "\n",
        )
        .join(""),
    );
    files.push(w.file, side);
    manifestJobs.push({
      id: job.id,
      condition: job.condition.name,
      arm: job.arm,
      base: job.base,
      seed: job.seed,
      kind: job.kind,
      rows: job.rows.length,
      file: join("jobs", job.id, target.trainFile(job, ctx).path),
      sha256: w.sha256,
    });
  }
  const manifestEval = [];
  for (const set of sets) {
    const f = target.evalFile(set, ctx);
    const w = writeData(join(o.out, "eval"), f);
    files.push(w.file);
    manifestEval.push({
      condition: set.condition,
      key: set.key,
      label: set.label,
      x: set.x,
      rows: set.rows.length,
      file: join("eval", f.path),
      sha256: w.sha256,
    });
  }
  const recipe = target.recipe(jobs, ctx);
  const extra = [...recipe.files];
  if (x.def.train.kind === "rl" && (target.name === "trl" || target.name === "verl"))
    extra.push({ path: "mst_reward.py", text: rewardModule({ task: x.def.name, table, url: ctx.rewardUrl }) });
  extra.push({ path: "RECIPE.md", text: recipeMarkdown(target.name, recipe) });
  // every job's launch command, in order, runnable as is from the export directory
  extra.push({
    path: "run.sh",
    text:
      [
        "#!/bin/sh",
        "# generated by mst export: one command per train job (see RECIPE.md)",
        "set -eu",
        'cd "$(dirname "$0")"',
        ...recipe.commands.map((c) => `echo "== ${c.job}"\n${c.command}`),
      ].join("\n") + "\n",
  });
  for (const f of extra) {
    writeFileAtomic(join(o.out, f.path), f.text);
    files.push(join(o.out, f.path));
  }
  const manifest = {
    format: EXPORT_FORMAT,
    task: x.def.name,
    kind: x.def.train.kind,
    target: target.name,
    engine: { name: recipe.engine, version: recipe.version },
    spec: x.resolved,
    rewardUrl: ctx.rewardUrl,
    rewardTable: table !== null,
    heldOutChecked: true,
    jobs: manifestJobs,
    eval: manifestEval,
    commands: recipe.commands,
  };
  writeFileSync(join(o.out, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + "\n");
  files.push(join(o.out, MANIFEST_FILE));
  return {
    out: o.out,
    jobs: jobs.length,
    rows: jobs.reduce((a, j) => a + j.rows.length, 0),
    evalSets: sets.length,
    files,
  };
}
