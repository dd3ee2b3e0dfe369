/**
 * `mst import`: adapters trained elsewhere from an `mst export` directory back into a run directory. Each train job
 * gets its adapter and a result.json, so `mst run --resume <run>` runs only the bases and the evaluations (the kit's
 * own, across the deployment label and the sweep) and writes the report.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { z } from "zod";
import { ADAPTER_DIR, baseJobId, type TrainResult } from "../experiment/jobs.js";
import { ArmNameSchema } from "../monitor/arms-spec.js";
import { withPath } from "../data/fs-errors.js";
import { NotARunDirError, RunDirExistsError } from "../run/errors.js";
import { RUN_FILES, createRunDir, isRunDir, jobDirOf, writeJsonAtomic } from "../run/run-dir.js";
import { assertUnlocked } from "../run/run-lock.js";
import { appendRunLog } from "../run/scheduler.js";
import { ResolvedSpecSchema } from "../run/spec.js";
import { NotAKitTaskError, resolveKitTask, type KitTask } from "../run/task-module.js";
import type { SftConfigInput } from "../train/sft-config.js";
import { bringAdapter } from "./adapter-io.js";
import { EXPORT_FORMAT, MANIFEST_FILE } from "./export.js";
import { TARGETS } from "./targets/target.js";

export class ImportError extends Error {
  override name = "ImportError";
}

const ManifestSchema = z.looseObject({
  format: z.literal(EXPORT_FORMAT),
  task: z.string(),
  kind: z.enum(["sft", "rl"]),
  target: z.enum(TARGETS),
  spec: ResolvedSpecSchema,
  jobs: z.array(
    z.looseObject({
      id: z.string(),
      condition: z.string(),
      arm: ArmNameSchema,
      base: z.int(),
      seed: z.int(),
      kind: z.enum(["sft", "rl"]),
      rows: z.int(),
    }),
  ),
});

/**
 * The train job's result for an adapter trained elsewhere from export `dir`: the job's identity, its rows, and how
 * many rows showed their true monitor (from the export's mst-rows.jsonl). Steps and losses are the engine's, not
 * known here.
 */
export function trainResultOf(
  dir: string,
  j: {
    id: string;
    condition: string;
    arm: TrainResult["arm"];
    base: number;
    seed: number;
    kind: "sft" | "rl";
    rows: number;
  },
): TrainResult {
  const rowsFile = join(dir, "jobs", j.id, "mst-rows.jsonl");
  const rows = withPath(rowsFile, "read", () => readFileSync(rowsFile, "utf8"))
    .split("\n")
    .filter((l) => l.trim() !== "");
  const matches = rows
    .map((l) => JSON.parse(l) as { shownMonitor: unknown; monitor: unknown })
    .filter((r) => r.shownMonitor !== null && JSON.stringify(r.shownMonitor) === JSON.stringify(r.monitor)).length;
  return {
    condition: j.condition,
    arm: j.arm,
    base: j.base,
    seed: j.seed,
    kind: j.kind,
    samples: j.rows,
    labelMatchesTrue: matches,
    steps: 0,
    final: null,
    metricsFile: join("jobs", j.id, "train", "metrics.jsonl"),
  };
}

/** Directories under `root` holding adapter_config.json. */
function adapterDirs(root: string): string[] {
  if (!existsSync(root)) return [];
  const out: string[] = [];
  const walk = (d: string, depth: number) => {
    if (depth > 8) return;
    const names = readdirSync(d);
    if (names.includes("adapter_config.json")) out.push(d);
    for (const n of names) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p, depth + 1);
    }
  };
  walk(root, 0);
  return out;
}

/** The step number a checkpoint path names (checkpoint-120, global_step_120), or -1. */
const stepOf = (p: string): number =>
  Math.max(-1, ...[...p.matchAll(/(?:checkpoint-|global_step_?)(\d+)/g)].map((m) => Number(m[1])));

/** The adapter to take from a job's output: output/adapter (the final save) first, else the newest checkpoint. */
export function pickAdapter(output: string): string | null {
  const dirs = adapterDirs(output);
  if (dirs.length === 0) return null;
  const final = dirs.find((d) => relative(output, d) === "adapter" || relative(output, d) === "");
  if (final) return final;
  return dirs.sort((a, b) => stepOf(b) - stepOf(a) || a.length - b.length)[0];
}

/**
 * verl's SFT trainer (fsdp_sft_trainer) saves FSDP shards, not a PEFT adapter: such jobs are refused with what to do;
 * an adapter from verl's model merger carries lora_alpha 0 (the merger does not know it), which is named too.
 */
function checkVerlSft(
  o: ImportOptions,
  found: { j: { id: string }; src: string | null }[],
  missing: string[],
  sft: SftConfigInput | null,
): void {
  if (missing.length > 0 && !o.partial) {
    const out = join(o.dir, "jobs", missing[0], "output");
    const shards = existsSync(out) ? readdirSync(out).filter((n) => n.startsWith("global_step_")) : [];
    throw new ImportError(
      `verl SFT: no PEFT adapter under jobs/<id>/output for ${missing.length} job(s) (${missing.slice(0, 2).join(", ")}${missing.length > 2 ? ", ..." : ""}): ` +
        `verl.trainer.fsdp_sft_trainer saves FSDP shards${shards.length > 0 ? ` (${join(out, shards.sort().at(-1)!)})` : ""}, not an adapter. ` +
        "Run `python3 -m verl.model_merger merge --backend fsdp --local_dir <global_step_N> --target_dir jobs/<id>/output/merged` " +
        "and set lora_alpha in merged/lora_adapter/adapter_config.json, or export SFT with --target trl or openrlhf",
    );
  }
  const alpha = sft?.lora?.alpha ?? null;
  for (const { src } of found) {
    if (src === null) continue;
    let cfg: { lora_alpha?: unknown } = {};
    try {
      cfg = JSON.parse(readFileSync(join(src, "adapter_config.json"), "utf8")) as { lora_alpha?: unknown };
    } catch {
      continue; // bringAdapter names an unreadable config
    }
    if (cfg.lora_alpha === 0)
      throw new ImportError(
        `${join(src, "adapter_config.json")}: lora_alpha is 0 (verl's model merger does not record it): set it to ${alpha ?? "the spec's LoRA alpha"}`,
      );
  }
}

export interface ImportOptions {
  target: string;
  /** The `mst export` directory the engine ran in. */
  dir: string;
  /** Run directory to create. */
  out: string;
  /** A finished local run whose base jobs (embedded bases) are copied in and used to verify adapters. */
  bases?: string;
  force?: boolean;
  /** Import the jobs that have an adapter and leave the others to train locally on resume. */
  partial?: boolean;
}

export async function importRuns(
  o: ImportOptions,
): Promise<{ out: string; imported: string[]; missing: string[]; verified: number }> {
  if (o.target === "openai")
    throw new ImportError("openai: fine-tuning returns a hosted model id, not weights; there is no adapter to import");
  const mfile = join(o.dir, MANIFEST_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(mfile, "utf8"));
  } catch (e) {
    throw new ImportError(`${mfile}: not an mst export (${(e as Error).message})`);
  }
  const mp = ManifestSchema.safeParse(raw);
  if (!mp.success)
    throw new ImportError(`${mfile}: ${mp.error.issues[0]?.path.join(".")}: ${mp.error.issues[0]?.message}`);
  const m = mp.data;
  if (m.target !== o.target) throw new ImportError(`${mfile}: exported for ${m.target}, not ${o.target}`);
  let task, def, config;
  try {
    ({ task, def, config } = await resolveKitTask(m.spec.task, m.spec.config, "mst import"));
  } catch (e) {
    if (e instanceof NotAKitTaskError) throw new ImportError(`${mfile}: ${e.message}`);
    throw e;
  }
  if (def.train.kind !== m.kind)
    throw new ImportError(
      `${mfile}: exported as ${m.kind} but task ${def.name} trains by ${def.train.kind} for this config`,
    );
  const checkpoint = def.base.checkpoint?.(config) ?? null;
  const conds = def.conditions?.(config) ?? [{ name: "main", base: "main" }];

  const found = m.jobs.map((j) => ({ j, src: pickAdapter(join(o.dir, "jobs", j.id, "output")) }));
  const missing = found.filter((f) => f.src === null).map((f) => f.j.id);
  if (m.target === "verl" && m.kind === "sft")
    checkVerlSft(o, found, missing, def.train.kind === "sft" ? def.train.sft(config) : null);
  if (missing.length > 0 && !o.partial)
    throw new ImportError(
      `no adapter (adapter_config.json) under jobs/<id>/output for ${missing.length} job(s): ${missing.slice(0, 4).join(", ")}${missing.length > 4 ? ", ..." : ""} (use --partial to import the others)`,
    );

  // Everything is built in a staging folder beside --out and renamed into place only when every adapter was taken:
  // an import refused half way (one bad adapter), or killed, leaves no run directory a --resume would trust (it would
  // train the refused arms locally and report them beside the imported ones), and a --force import keeps the old run.
  checkOut(o.out, o.force ?? false);
  const stage = join(dirname(resolve(o.out)), `.${basename(resolve(o.out))}.import-${process.pid}.tmp`);
  withPath(stage, "clear staging folder", () => rmSync(stage, { recursive: true, force: true }));
  try {
    const r = await importInto(stage, o, m, mfile, found, missing, { task, conds, checkpoint });
    checkOut(o.out, o.force ?? false);
    if (existsSync(o.out))
      withPath(o.out, "replace run directory", () => rmSync(o.out, { recursive: true, force: true }));
    withPath(o.out, "move the import into place", () => renameSync(stage, o.out));
    return { ...r, out: o.out };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/** Refuses an --out that is not empty (without --force), not a run directory, or in use by a run (with its pid). */
function checkOut(out: string, force: boolean): void {
  if (!existsSync(out)) return;
  if (!withPath(out, "use as run directory", () => statSync(out)).isDirectory())
    throw new NotARunDirError(out, "it is a file, not a directory");
  if (readdirSync(out).length === 0) return;
  if (!force) throw new RunDirExistsError(out, isRunDir(out));
  if (!isRunDir(out)) throw new NotARunDirError(out, "it holds other files and no spec.resolved.json");
  assertUnlocked(out);
}

type Found = { j: z.infer<typeof ManifestSchema>["jobs"][number]; src: string | null };

/** Builds the run directory in `out` (the staging folder); throws on the first adapter that cannot be taken. */
async function importInto(
  out: string,
  o: ImportOptions,
  m: z.infer<typeof ManifestSchema>,
  mfile: string,
  found: Found[],
  missing: string[],
  k: {
    task: KitTask["task"];
    conds: Array<{ name: string; base: string }>;
    checkpoint: string | null;
  },
): Promise<{ out: string; imported: string[]; missing: string[]; verified: number }> {
  const { task, conds, checkpoint } = k;
  createRunDir(out, false);
  writeJsonAtomic(join(out, RUN_FILES.spec), {
    ...m.spec,
    source: { file: m.spec.source.file, spec: m.spec.source.spec },
  });
  const log = join(out, RUN_FILES.log);
  appendRunLog(log, `import: ${o.target} adapters from ${o.dir}`);
  if (o.bases !== undefined)
    for (const c of conds)
      for (const b of m.spec.baseSeeds) {
        const id = baseJobId(c.base, b);
        const src = jobDirOf(o.bases, id);
        if (!existsSync(join(src, "result.json")))
          throw new ImportError(`${src}: base job not finished in --bases ${o.bases}`);
        if (!existsSync(jobDirOf(out, id))) cpSync(src, jobDirOf(out, id), { recursive: true });
      }
  const imported: string[] = [];
  let verified = 0;
  for (const { j, src } of found) {
    if (src === null) continue;
    const dir = jobDirOf(out, j.id);
    mkdirSync(dir, { recursive: true });
    const cond = conds.find((c) => c.name === j.condition);
    if (!cond) throw new ImportError(`${mfile}: job ${j.id} names unknown condition ${j.condition}`);
    const base =
      checkpoint ?? (o.bases !== undefined ? join(jobDirOf(o.bases, baseJobId(cond.base, j.base)), "model") : null);
    if ((await bringAdapter(src, join(dir, ADAPTER_DIR), base)) === "verified") verified++;
    const result = trainResultOf(o.dir, j);
    // checked as the worker checks a result before writing it: a later --resume trusts this file
    const schema = task.resultSchema?.({ id: j.id, kind: "train", deps: [], params: {}, title: j.id });
    writeJsonAtomic(join(dir, "result.json"), schema ? schema.parse(result) : result);
    appendRunLog(log, `imported ${j.id} from ${src}`);
    imported.push(j.id);
  }
  if (missing.length > 0)
    appendRunLog(
      log,
      `partial import (--partial): ${missing.length} train job(s) had no adapter and train locally on --resume: ${missing.join(", ")}`,
    );
  return { out, imported, missing, verified };
}
