/** `mst eval`: evaluate models behind an OpenAI-compatible endpoint with a task's labels, judge and metrics; write a run directory. */
import { InvalidArgumentError, type Command } from "commander";

function positiveInt(value: string): number {
  if (!/^[1-9]\d*$/.test(value)) throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  return Number(value);
}

function nonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`expected a non-negative integer, got "${value}"`);
  return Number(value);
}

function positiveSeconds(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || !(n > 0))
    throw new InvalidArgumentError(`expected a positive number of seconds, got "${value}"`);
  return n;
}

/** ARM=NAME, repeatable. */
function modelFor(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = value.indexOf("=");
  if (at <= 0 || at === value.length - 1) throw new InvalidArgumentError(`--model-for takes ARM=NAME, got "${value}"`);
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

interface EvalCliOptions {
  spec?: string;
  run?: string;
  endpoint: string;
  modelFor?: Record<string, string>;
  out?: string;
  force?: boolean;
  apiKeyEnv?: string;
  concurrency?: number;
  cacheDir?: string;
  condition?: string[];
  baseSeed?: number;
  seed?: number;
  base?: boolean;
  timeout?: number;
  retries?: number;
  breaker?: number;
}

const HELP = `
Each arm of the spec is evaluated through the model the endpoint serves under the arm's name (or --model-for
ARM=NAME): at the arm's evaluation label (deployment or none, as mst run does) and across the label sweep, with the
task's judge and metrics. The base is evaluated too when the endpoint serves a model named "base" (or
--model-for base=NAME). The run directory holds results.json, report.html, and per arm jobs/eval-*/ with every judged
completion (samples.jsonl) and the provider's request counts (provider.json). A request that gets no answer within
--timeout is retried (--retries, with backoff); --breaker failed requests in a row stop the whole evaluation (exit 1)
instead of every item waiting out its retries. Failed requests are noted on stderr as they happen.

Examples:
  mst serve --run runs/x &                                   # then, in another shell:
  mst eval --run runs/x --endpoint http://127.0.0.1:8000/v1 --out runs/x-served
  vllm serve Qwen/Qwen2.5-0.5B-Instruct --enable-lora --lora-modules mst=./mst baseline=./baseline
  mst eval --spec examples/specs/sycophancy.yaml --endpoint http://127.0.0.1:8000/v1 --model-for base=Qwen/Qwen2.5-0.5B-Instruct
`;

export function register(program: Command): void {
  program
    .command("eval")
    .description(
      "evaluate models served behind an OpenAI-compatible endpoint (vLLM, mst serve, Ollama) with a task's metrics",
    )
    .option("--spec <file>", "experiment spec (YAML or JSON): the task, preset, overrides and arms")
    .option("--run <dir>", "take the spec from this run directory (e.g. the run `mst serve --run` serves)")
    .requiredOption("--endpoint <url>", "base URL of the API, e.g. http://127.0.0.1:8000/v1")
    .option("--model-for <arm=name>", "served model name of an arm (default: the arm's name; repeatable)", modelFor)
    .option("--out <dir>", "run directory (default: runs/<task>-<preset>-eval-<timestamp>)")
    .option("--force", "overwrite an existing run directory")
    .option("--api-key-env <name>", "environment variable holding the endpoint's key")
    .option("--concurrency <n>", "requests in flight per arm (default 16)", positiveInt)
    .option("--cache-dir <dir>", "cache answers on disk (a re-run asks nothing again)")
    .option("--condition <name>", "evaluate only this condition (repeatable; default: all)", collect)
    .option("--base-seed <n>", "base seed the results are filed under (default: the spec's first)", nonNegativeInt)
    .option("--seed <n>", "seed the results are filed under (default: the spec's first)", nonNegativeInt)
    .option("--no-base", "do not evaluate the base even when the endpoint serves it")
    .option(
      "--timeout <seconds>",
      "time limit of each request, the model listing included (default 60)",
      positiveSeconds,
    )
    .option("--retries <n>", "retries after a failed request (timeouts, 5xx, network; default 2)", nonNegativeInt)
    .option(
      "--breaker <n>",
      "stop the evaluation after this many failed requests in a row (default 8; 0 = never)",
      nonNegativeInt,
    )
    .addHelpText("after", HELP)
    .action(async (opts: EvalCliOptions) => {
      if ((opts.spec === undefined) === (opts.run === undefined))
        throw new InvalidArgumentError("give exactly one of --spec FILE or --run DIR");
      const [{ evaluateEndpoint }, specs, dirs] = await Promise.all([
        import("../../run/endpoint-eval.js"),
        import("../../run/spec.js"),
        import("../../run/run-dir.js"),
      ]);
      let resolved;
      let out: string | null = null;
      if (opts.run !== undefined) {
        const { join } = await import("node:path");
        resolved = dirs.readJsonFile(join(opts.run, dirs.RUN_FILES.spec), specs.ResolvedSpecSchema);
      } else {
        const r = await specs.resolveSpec({ spec: specs.loadSpecFile(opts.spec!) });
        resolved = r.resolved;
        out = r.out;
      }
      const runDir = opts.out ?? out ?? dirs.defaultRunDir(resolved.task, `${resolved.preset}-eval`);
      const o = await evaluateEndpoint(resolved, runDir, {
        endpoint: opts.endpoint,
        modelFor: opts.modelFor,
        apiKeyEnv: opts.apiKeyEnv,
        concurrency: opts.concurrency,
        cacheDir: opts.cacheDir,
        conditions: opts.condition,
        baseSeed: opts.baseSeed,
        seed: opts.seed,
        base: opts.base === false ? false : "auto",
        force: opts.force,
        ...(opts.timeout !== undefined ? { timeoutMs: Math.round(opts.timeout * 1000) } : {}),
        ...(opts.retries !== undefined ? { retries: opts.retries } : {}),
        ...(opts.breaker !== undefined ? { breakerFailures: opts.breaker } : {}),
        notice: (line) => process.stderr.write(`mst: ${line}\n`),
      });
      console.log(`finished: ${Object.keys(o.models).length} models evaluated in ${o.seconds.toFixed(1)}s`);
      for (const f of o.results.findings) console.log(`  - ${f}`);
      for (const [k, v] of Object.entries(o.results.headline))
        console.log(`  ${k}: ${Number.isFinite(v) ? +v.toPrecision(4) : v}`);
      console.log(`results: ${o.runDir}/results.json`);
      console.log(`report:  ${o.runDir}/report.html`);
    });
}
