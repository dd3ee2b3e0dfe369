/**
 * What `mst serve` serves: named models, each a loaded engine model with its tokenizer and prompt format. From
 * directories (`--model DIR --adapter NAME=DIR`: the checkpoint's chat template) or from a run directory (`--run DIR`:
 * every arm's adapter under the arm's name plus the base, through the kit's loadRuntime, so prompts tokenize exactly
 * as the run's evaluation tokenized them).
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { loadLora } from "../engine/checkpoint.js";
import { loadModelDir as readHfModelDir } from "../engine/hf/model-dir.js";
import type { LlamaModel } from "../engine/model.js";
import type { Tokenizer } from "../engine/tokenizer.js";
import { conditionsOf } from "../experiment/base-job.js";
import type { PromptFormat } from "../experiment/experiment.js";
import { ADAPTER_DIR, BASE_MODEL_DIR, baseJobId, trainJobId } from "../experiment/jobs.js";
import { trainedArmOf } from "../experiment/plan.js";
import { chatFormat, loadRuntime } from "../experiment/runtime.js";
import type { ArmName } from "../monitor/arms-spec.js";
import { RUN_FILES, jobDirOf, readJsonFile } from "../run/run-dir.js";
import { ResolvedSpecSchema } from "../run/spec.js";
import { NotAKitTaskError, resolveKitTask } from "../run/task-module.js";

export interface ServedModel {
  /** The name clients put in `model`. */
  name: string;
  /** Names sharing one loaded model (arms trained alike) share one object here, and so one batch. */
  model: LlamaModel;
  tokenizer: Tokenizer;
  /** How chat messages become token ids (the run's task format, or the checkpoint's chat template). */
  format: PromptFormat;
  /** Where it came from (a directory, or base + adapter), for /v1/models and logs. */
  source: string;
}

/** Raised when what `mst serve` was asked to load is missing or unusable; names the path. */
export class ServeLoadError extends Error {
  override name = "ServeLoadError";
}

/**
 * The one place a checkpoint (and optionally a PEFT LoRA adapter) is loaded for serving: the engine's Hugging Face
 * model-directory reader (Llama with Llama-3 rope scaling, Qwen2, shards), with the directory's stop ids.
 */
export async function loadModelDir(
  dir: string,
  adapterDir?: string,
): Promise<{ model: LlamaModel; tokenizer: Tokenizer; stopIds: number[] }> {
  if (!existsSync(dir)) throw new ServeLoadError(`${dir}: model directory not found`);
  const md = await readHfModelDir(dir);
  if (adapterDir !== undefined) {
    if (!existsSync(adapterDir)) throw new ServeLoadError(`${adapterDir}: adapter directory not found`);
    await loadLora(adapterDir, md.model);
  }
  return { model: md.model, tokenizer: md.tokenizer, stopIds: md.stopIds };
}

/** `--model DIR [--adapter NAME=DIR ...]`: the base under `baseName`, each adapter on its own copy of the base. */
export async function modelsFromDirs(
  modelDir: string,
  adapters: ReadonlyArray<[string, string]>,
  baseName = "base",
): Promise<ServedModel[]> {
  const names = [baseName, ...adapters.map(([n]) => n)];
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined)
    throw new ServeLoadError(`model name "${dup}" is given twice (each adapter needs its own name)`);
  const out: ServedModel[] = [];
  for (const [name, adapter] of [[baseName, undefined] as const, ...adapters]) {
    const { model, tokenizer, stopIds } = await loadModelDir(modelDir, adapter);
    out.push({
      name,
      model,
      tokenizer,
      format: chatFormat(tokenizer, stopIds),
      source: adapter ? `${modelDir} + ${adapter}` : modelDir,
    });
  }
  return out;
}

export interface RunChoice {
  /** Condition whose models are served (default: the run's first). */
  condition?: string;
  /** Base seed (default: the run's first). */
  baseSeed?: number;
  /** Fine-tuning seed (default: the run's first). */
  seed?: number;
}

/** What `--run DIR` resolved to: the task, the (base, seed) served, and the models. */
export interface RunModels {
  task: string;
  condition: string;
  baseSeed: number;
  seed: number;
  models: ServedModel[];
}

/**
 * `--run DIR`: each arm of a run directory under the arm's name (arms trained alike share their model: prompt-only is
 * the baseline's adapter), plus the base as "base", for one condition, base seed and seed.
 */
export async function modelsFromRun(runDir: string, choice: RunChoice = {}): Promise<RunModels> {
  const dir = resolve(runDir);
  const specFile = join(dir, RUN_FILES.spec);
  if (!existsSync(specFile)) throw new ServeLoadError(`${specFile}: missing (not a run directory)`);
  const spec = readJsonFile(specFile, ResolvedSpecSchema);
  let def, config;
  try {
    ({ def, config } = await resolveKitTask(spec.task, spec.config, "mst serve --run"));
  } catch (e) {
    if (e instanceof NotAKitTaskError)
      throw new ServeLoadError(`${dir}: ${e.message}; serve its checkpoint with --model DIR`);
    throw e;
  }
  const conditions = conditionsOf(def, config);
  const cond = choice.condition === undefined ? conditions[0] : conditions.find((c) => c.name === choice.condition);
  if (!cond)
    throw new ServeLoadError(
      `${dir}: no condition "${choice.condition}" (the run has ${conditions.map((c) => c.name).join(", ")})`,
    );
  const pick = (what: string, asked: number | undefined, have: number[]) => {
    if (asked === undefined) return have[0];
    if (!have.includes(asked))
      throw new ServeLoadError(`${dir}: no ${what} ${asked} in the run (it has ${have.join(", ")})`);
    return asked;
  };
  const b = pick("base seed", choice.baseSeed, spec.baseSeeds);
  const s = pick("seed", choice.seed, spec.seeds);
  const baseDir = jobDirOf(dir, baseJobId(cond.base, b));
  const models: ServedModel[] = [];
  const base = await loadRuntime(def.base, config, baseDir, BASE_MODEL_DIR);
  models.push({
    name: "base",
    model: base.model,
    tokenizer: base.tokenizer,
    format: base.format,
    source: join(baseDir, BASE_MODEL_DIR),
  });
  const loaded = new Map<ArmName, ServedModel>();
  for (const arm of spec.arms as ArmName[]) {
    const trained = trainedArmOf(arm);
    let m = loaded.get(trained);
    if (!m) {
      const adapter = join(jobDirOf(dir, trainJobId(cond.name, trained, b, s)), ADAPTER_DIR);
      if (!existsSync(adapter))
        throw new ServeLoadError(`${adapter}: missing (has the run's training job finished? mst run --resume ${dir})`);
      const rt = await loadRuntime(def.base, config, baseDir, BASE_MODEL_DIR, adapter);
      m = { name: trained, model: rt.model, tokenizer: rt.tokenizer, format: rt.format, source: adapter };
      loaded.set(trained, m);
    }
    models.push({ ...m, name: arm });
  }
  return { task: spec.task, condition: cond.name, baseSeed: b, seed: s, models };
}
