/**
 * `mst eval`: an experiment's evaluation of models served behind an OpenAI-compatible endpoint (vLLM with one LoRA per
 * arm, `mst serve --run`, Ollama...). An eval-only plan (one eval job per condition and arm, plus the base when it is
 * served) runs in this process through ProviderTextModel (retries, concurrency, cache) and the kit's evaluateModel
 * (the task's labels, judge and metrics), then the task's summary and report, in a run directory like `mst run`'s.
 */
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Json } from "../data/sample.js";
import { conditionsOf } from "../experiment/base-job.js";
import { armLabels, evaluateModel } from "../experiment/eval-job.js";
import type { Condition } from "../experiment/experiment.js";
import { evalBaseJobId, evalJobId } from "../experiment/jobs.js";
import type { JobContext, JobSpec, PlanInput, TaskResults } from "../experiment/task.js";
import { RESULTS_FORMAT } from "../experiment/results.js";
import type { ArmName } from "../monitor/arms-spec.js";
import { ProviderTextModel } from "../providers/provider-text-model.js";
import { collectEnv } from "./env.js";
import { autoProgress, type ProgressView } from "./progress.js";
import { writeRunReport } from "./run-report.js";
import { RUN_FILES, createRunDir, jobDirOf, resultFileOf, writeJsonAtomic } from "./run-dir.js";
import { appendRunLog } from "./scheduler.js";
import type { ResolvedSpec } from "./spec.js";
import { NotAKitTaskError, resolveKitTask } from "./task-module.js";

/** Bad input to an endpoint evaluation (a URL that is not one, an unknown model or condition, a refused key). */
export class EndpointEvalError extends Error {
  override name = "EndpointEvalError";
}

/** The endpoint cannot be reached or does not answer in time: a failure of the work, not of the input. */
export class EndpointUnreachableError extends Error {
  override name = "EndpointUnreachableError";
}

/** Defaults of the request policy (each a `mst eval` option). */
export const EVAL_REQUEST_DEFAULTS = { timeoutMs: 60_000, retries: 2, breakerFailures: 8 } as const;

export interface EndpointEvalOptions {
  /** Base URL of the OpenAI-compatible API, e.g. http://127.0.0.1:8000/v1. */
  endpoint: string;
  /** Served model name per arm ("base" for the out-of-the-box model); default: the arm's own name. */
  modelFor?: Record<string, string>;
  /** Env var holding the endpoint's bearer key. */
  apiKeyEnv?: string;
  /** Requests in flight per arm (the server batches them). Default 16. */
  concurrency?: number;
  /** Provider response cache directory (default: none). */
  cacheDir?: string;
  /** Conditions to evaluate (default: every condition of the spec). */
  conditions?: string[];
  /** Base seed and seed the evaluations are filed under (default: the spec's first): the served models' run. */
  baseSeed?: number;
  seed?: number;
  /** Evaluate the base too: true, false, or "auto" (when the endpoint lists its model). Default "auto". */
  base?: boolean | "auto";
  force?: boolean;
  progress?: ProgressView;
  /** Write report.html and summary.md (default true). */
  report?: boolean;
  /** fetch for the model listing (tests). */
  fetch?: typeof globalThis.fetch;
  /** Time limit of each request, the model listing included (default 60 s). */
  timeoutMs?: number;
  /** Retries after a failed request (default 2). */
  retries?: number;
  /** Failed requests in a row that stop the whole evaluation (default 8; 0 = never). */
  breakerFailures?: number;
  /** One-line notices while it works (a slow or failing endpoint); default: none. The CLI prints them on stderr. */
  notice?: (line: string) => void;
}

export interface EndpointEvalOutcome {
  runDir: string;
  results: TaskResults;
  /** Arm -> the served model name it was evaluated through. */
  models: Record<string, string>;
  seconds: number;
}

/** The model names an endpoint lists at GET /models (null when it has no such listing). */
async function listModels(
  endpoint: string,
  key: { name: string; value: string } | undefined,
  fetchFn: typeof globalThis.fetch,
  timeoutMs: number,
): Promise<string[] | null> {
  const url = `${endpoint.replace(/\/+$/, "")}/models`;
  let res: Response;
  let body: unknown;
  try {
    res = await fetchFn(url, {
      headers: key ? { Authorization: `Bearer ${key.value}` } : {},
      signal: AbortSignal.timeout(timeoutMs),
    });
    body = res.ok ? await res.json().catch(() => null) : null;
  } catch (e) {
    if ((e as Error).name === "TimeoutError")
      throw new EndpointUnreachableError(
        `${url}: no answer within ${timeoutMs / 1000} s (a hung server? raise --timeout if it is only slow)`,
      );
    const code = (e as { cause?: { code?: unknown } }).cause?.code;
    throw new EndpointUnreachableError(
      `cannot reach ${url} (${typeof code === "string" ? code : (e as Error).message}); is the server running?`,
    );
  }
  if (res.status === 401 || res.status === 403)
    throw new EndpointEvalError(
      key
        ? `${url}: HTTP ${res.status}: the endpoint refused the key in ${key.name}`
        : `${url}: HTTP ${res.status}: the endpoint wants a key (--api-key-env NAME)`,
    );
  const data = (body as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) return null;
  return data.map((m) => String((m as { id?: unknown } | null)?.id));
}

/** The endpoint as an http(s) URL, or EndpointEvalError naming the flag. */
function checkEndpoint(endpoint: string): void {
  let u: URL;
  try {
    u = new URL(endpoint);
  } catch {
    throw new EndpointEvalError(`--endpoint ${JSON.stringify(endpoint)}: not a URL (e.g. http://127.0.0.1:8000/v1)`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:")
    throw new EndpointEvalError(`--endpoint ${JSON.stringify(endpoint)}: must be http:// or https://`);
}

/**
 * Retry notices for one job: every retry goes to run.log; the user sees the first at once and then at most one line
 * every 10 s with the count since, so a failing endpoint is visible without a line per request.
 */
function retryNotice(
  who: string,
  notice: (line: string) => void,
  log: (line: string) => void,
): (error: string, attempt: number, delayMs: number) => void {
  let last = 0;
  let since = 0;
  return (error, attempt, delayMs) => {
    log(`${who}: request failed (${error}); retry ${attempt} in ${(delayMs / 1000).toFixed(1)} s`);
    since++;
    const now = Date.now();
    if (last !== 0 && now - last < 10_000) return;
    notice(`${who}: ${since} request(s) failed, retrying (last: ${error})`);
    last = now;
    since = 0;
  };
}

/** Evaluates the spec's arms through `opts.endpoint` into a new run directory `runDir`. */
export async function evaluateEndpoint(
  resolved: ResolvedSpec,
  runDir: string,
  opts: EndpointEvalOptions,
): Promise<EndpointEvalOutcome> {
  const t0 = Date.now();
  let task, def, config;
  try {
    ({ task, def, config } = await resolveKitTask(resolved.task, resolved.config, "mst eval"));
  } catch (e) {
    if (e instanceof NotAKitTaskError) throw new EndpointEvalError(e.message);
    throw e;
  }
  const all = conditionsOf(def, config);
  const conds: Condition[] = (opts.conditions ?? all.map((c) => c.name)).map((name) => {
    const c = all.find((x) => x.name === name);
    if (!c)
      throw new EndpointEvalError(
        `no condition "${name}" in task ${def.name} (it has ${all.map((x) => x.name).join(", ")})`,
      );
    return c;
  });
  const b = opts.baseSeed ?? resolved.baseSeeds[0];
  const s = opts.seed ?? resolved.seeds[0];
  checkEndpoint(opts.endpoint);
  const key = opts.apiKeyEnv ? process.env[opts.apiKeyEnv] : undefined;
  if (opts.apiKeyEnv && !key)
    throw new EndpointEvalError(`--api-key-env ${opts.apiKeyEnv}: that environment variable is not set`);
  const timeoutMs = opts.timeoutMs ?? EVAL_REQUEST_DEFAULTS.timeoutMs;
  const notice = opts.notice ?? (() => {});
  notice(`asking ${opts.endpoint} for its models (timeout ${timeoutMs / 1000} s)`);
  const listed = await listModels(
    opts.endpoint,
    opts.apiKeyEnv && key ? { name: opts.apiKeyEnv, value: key } : undefined,
    opts.fetch ?? globalThis.fetch,
    timeoutMs,
  );
  const modelFor = (arm: string) => opts.modelFor?.[arm] ?? arm;
  for (const arm of Object.keys(opts.modelFor ?? {}))
    if (arm !== "base" && !resolved.arms.includes(arm))
      throw new EndpointEvalError(
        `--model-for ${arm}=...: "${arm}" is not an arm of this spec (${resolved.arms.join(", ")}, base)`,
      );
  const withBase =
    opts.base === true ||
    opts.modelFor?.base !== undefined ||
    (opts.base !== false && listed?.includes(modelFor("base")) === true);
  const arms = [...resolved.arms, ...(withBase ? ["base"] : [])];
  if (listed !== null)
    for (const arm of arms)
      if (!listed.includes(modelFor(arm)))
        throw new EndpointEvalError(
          `${opts.endpoint} serves no model "${modelFor(arm)}" for arm ${arm} (it serves ${listed.join(", ")}); map it with --model-for ${arm}=NAME`,
        );

  // the eval-only plan: the kit's job ids and params, one base seed and seed (the served models' own)
  const plan: JobSpec[] = conds.flatMap((c) =>
    arms.map((arm): JobSpec =>
      arm === "base"
        ? {
            id: evalBaseJobId(c.name, b),
            kind: "eval-base",
            deps: [],
            params: { condition: c.name, base: b },
            title: `eval ${c.name} base`,
          }
        : {
            id: evalJobId(c.name, arm, b, s),
            kind: "eval",
            deps: [],
            params: { condition: c.name, arm, base: b, seed: s },
            title: `eval ${c.name} ${arm}`,
          },
    ),
  );
  const dir = resolve(runDir);
  createRunDir(dir, opts.force ?? false);
  const spec: ResolvedSpec = { ...resolved, seeds: [s], baseSeeds: [b] };
  writeJsonAtomic(join(dir, RUN_FILES.spec), spec);
  const models = Object.fromEntries(arms.map((a) => [a, modelFor(a)]));
  writeJsonAtomic(join(dir, RUN_FILES.endpoint), {
    endpoint: opts.endpoint,
    models,
    conditions: conds.map((c) => c.name),
    baseSeed: b,
    seed: s,
  });
  writeJsonAtomic(join(dir, RUN_FILES.env), collectEnv(1));
  const logFile = join(dir, RUN_FILES.log);
  const log = (line: string) => appendRunLog(logFile, line);
  log(`endpoint evaluation: task ${resolved.task}, preset ${resolved.preset}, ${opts.endpoint}`);

  const progress = opts.progress ?? autoProgress();
  const results: Record<string, Json> = {};
  progress.start(plan.length, 0, plan.length, 0);
  try {
    for (const job of plan) {
      const p = job.params as { condition: string; arm?: string };
      const arm = (p.arm ?? "base") as ArmName | "base";
      const cond = conds.find((c) => c.name === p.condition)!;
      const jobDir = jobDirOf(dir, job.id);
      mkdirSync(jobDir, { recursive: true });
      const model = new ProviderTextModel(
        {
          kind: "openai-compatible",
          model: modelFor(arm),
          baseURL: opts.endpoint,
          ...(opts.apiKeyEnv ? { apiKeyEnv: opts.apiKeyEnv } : {}),
          concurrency: opts.concurrency ?? 16,
          ...(opts.cacheDir ? { cacheDir: opts.cacheDir } : {}),
          timeoutMs,
          retries: opts.retries ?? EVAL_REQUEST_DEFAULTS.retries,
          breakerFailures: opts.breakerFailures ?? EVAL_REQUEST_DEFAULTS.breakerFailures,
        },
        { onRetry: retryNotice(`${job.id} (model ${modelFor(arm)})`, notice, log) },
      );
      const ctx: JobContext<unknown> = {
        config,
        runDir: dir,
        jobDir,
        jobDirOf: (id) => jobDirOf(dir, id),
        deps: {},
        progress: (phase, d, n) => progress.jobProgress(job, phase, d, n),
        log,
        threads: 1,
      };
      const started = Date.now();
      progress.jobStarted(job, 1);
      const { labels, main } = armLabels(def, config, cond, arm);
      const who = { arm, base: b, seed: arm === "base" ? null : s };
      const result = await evaluateModel(def, config, model, cond, labels, main, who, ctx);
      // checked as a worker checks a result before writing it
      const schema = task.resultSchema?.(job);
      const checked = (schema ? schema.parse(result) : result) as Json;
      writeJsonAtomic(join(jobDir, "provider.json"), { model: model.id, ...model.stats });
      writeJsonAtomic(resultFileOf(dir, job.id), checked);
      results[job.id] = checked;
      log(
        `${job.id}: ${model.stats.requests} requests, ${model.stats.retries} retries, ${model.stats.outputTokens} output tokens`,
      );
      for (const w of model.stats.warnings) log(`${job.id}: provider warning: ${w}`);
      progress.jobFinished(job, (Date.now() - started) / 1000);
    }
  } finally {
    progress.stop();
  }
  const input: PlanInput = { arms: resolved.arms, seeds: [s], baseSeeds: [b] };
  const summary = task.summarize(config, input, plan, results, resolved.preset);
  const where = Object.entries(models)
    .map(([a, m]) => (a === m ? a : `${a}=${m}`))
    .join(", ");
  const out: TaskResults = {
    format: RESULTS_FORMAT,
    ...summary,
    findings: [
      `Evaluated through ${opts.endpoint} (models: ${where}); no training or gate in this run.`,
      ...summary.findings,
    ],
  };
  writeJsonAtomic(join(dir, RUN_FILES.results), out);
  log("wrote results.json");
  if (opts.report ?? true) {
    await writeRunReport(dir);
    log("wrote report.html and summary.md");
  }
  return { runDir: dir, results: out, models, seconds: (Date.now() - t0) / 1000 };
}
