/** `mst serve`: engine models (a checkpoint and its adapters, or a run directory's arms) behind an OpenAI-compatible API. */
import { InvalidArgumentError, type Command } from "commander";
import { checkExposure } from "../exposure.js";

function positiveInt(value: string): number {
  if (!/^[1-9]\d*$/.test(value)) throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  return Number(value);
}

function nonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`expected a non-negative integer, got "${value}"`);
  return Number(value);
}

/** NAME=DIR, repeatable. */
function adapterPair(value: string, previous: Array<[string, string]> = []): Array<[string, string]> {
  const at = value.indexOf("=");
  if (at <= 0 || at === value.length - 1) throw new InvalidArgumentError(`--adapter takes NAME=DIR, got "${value}"`);
  return [...previous, [value.slice(0, at), value.slice(at + 1)]];
}

interface ServeCliOptions {
  model?: string;
  adapter?: Array<[string, string]>;
  baseName?: string;
  run?: string;
  condition?: string;
  baseSeed?: number;
  seed?: number;
  host: string;
  port: number;
  apiKeyEnv?: string;
  maxBatch: number;
  batching: boolean;
  maxQueue: number;
  maxBodyBytes: number;
  maxTokens: number;
  maxN: number;
  context: number;
  quiet?: boolean;
  keyOnNetwork: boolean;
}

const HELP = `
Endpoints: GET /v1/models, POST /v1/chat/completions and /v1/completions (stream or not; temperature, top_p,
max_tokens, stop, n, seed, logprobs/top_logprobs; vLLM's ignore_eos and return_tokens_as_token_ids), GET /health.
Requests arriving while a batch decodes join it at the next step (continuous batching over the KV cache); a full
queue answers 429; SIGTERM (or Ctrl-C) stops taking requests, finishes the running ones and exits.

Examples:
  mst serve --run runs/sycophancy-micro-20261204-220000          # models: base, baseline, mst, shuffled, prompt-only
  mst serve --model ckpt/ --adapter mst=ckpt-mst/ --port 8001
  MST_KEY=secret mst serve --model ckpt/ --api-key-env MST_KEY --host 0.0.0.0   # beyond loopback: a key
`;

export function register(program: Command): void {
  program
    .command("serve")
    .description(
      "serve engine models (a checkpoint and LoRA adapters, or a run's arms) behind an OpenAI-compatible API",
    )
    .option("--model <dir>", "engine checkpoint directory (model.safetensors, config.json, tokenizer.json)")
    .option("--adapter <name=dir>", "a PEFT LoRA adapter on --model, served as NAME (repeatable)", adapterPair)
    .option("--base-name <name>", "name of --model itself", "base")
    .option("--run <dir>", "a run directory: each arm's adapter under the arm's name, plus the base as 'base'")
    .option("--condition <name>", "with --run: the condition whose models are served (default: the first)")
    .option("--base-seed <n>", "with --run: the base seed (default: the run's first)", nonNegativeInt)
    .option("--seed <n>", "with --run: the fine-tuning seed (default: the run's first)", nonNegativeInt)
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--port <n>", "port (0: any free port)", nonNegativeInt, 8000)
    .option("--api-key-env <name>", "require Authorization: Bearer <the value of this environment variable>")
    .option("--max-batch <n>", "sequences decoded together per model", positiveInt, 32)
    .option("--no-batching", "decode one sequence at a time (same as --max-batch 1)")
    .option("--max-queue <n>", "sequences waiting for a batch slot before requests get 429", positiveInt, 256)
    .option("--max-body-bytes <n>", "largest request body", positiveInt, 1 << 20)
    .option("--max-tokens <n>", "largest max_tokens a request may ask for", positiveInt, 4096)
    .option("--max-n <n>", "largest n", positiveInt, 16)
    .option(
      "--context <n>",
      "positions per sequence (prompt + completion), capped by the model's maxSeq",
      positiveInt,
      4096,
    )
    .option("--quiet", "no line per request on stderr")
    .option("--no-key-on-network", "allow a non-loopback --host without --api-key-env (anyone reachable may call it)")
    .addHelpText("after", HELP)
    .action(async (opts: ServeCliOptions) => {
      if ((opts.model === undefined) === (opts.run === undefined))
        throw new InvalidArgumentError("give exactly one of --model DIR or --run DIR");
      if (opts.run !== undefined && opts.adapter !== undefined)
        throw new InvalidArgumentError("--adapter goes with --model; --run serves the run's own adapters");
      let apiKey: string | undefined;
      if (opts.apiKeyEnv !== undefined) {
        apiKey = process.env[opts.apiKeyEnv];
        if (!apiKey)
          throw new InvalidArgumentError(`--api-key-env ${opts.apiKeyEnv}: that environment variable is not set`);
      }
      checkExposure(opts.host, apiKey !== undefined, !opts.keyOnNetwork);
      const { modelsFromDirs, modelsFromRun } = await import("../../serve/models.js");
      const { MstServer } = await import("../../serve/server.js");
      let models;
      if (opts.run !== undefined) {
        const r = await modelsFromRun(opts.run, {
          condition: opts.condition,
          baseSeed: opts.baseSeed,
          seed: opts.seed,
        });
        process.stderr.write(
          `mst serve: run ${opts.run} (task ${r.task}, condition ${r.condition}, base b${r.baseSeed}, seed s${r.seed})\n`,
        );
        models = r.models;
      } else models = await modelsFromDirs(opts.model!, opts.adapter ?? [], opts.baseName);
      const server = new MstServer(models, {
        host: opts.host,
        port: opts.port,
        apiKey,
        maxBatch: opts.batching ? opts.maxBatch : 1,
        maxQueue: opts.maxQueue,
        maxBodyBytes: opts.maxBodyBytes,
        maxTokens: opts.maxTokens,
        maxN: opts.maxN,
        context: opts.context,
        log: opts.quiet ? undefined : (line) => process.stderr.write(`${line}\n`),
      });
      const url = await server.listen();
      // one line on stdout with the URL, so scripts (and tests) can wait for it
      process.stdout.write(`mst serve: listening on ${url} (models: ${server.modelNames.join(", ")})\n`);
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          process.stderr.write(`mst serve: ${signal}: finishing running requests, taking no new ones\n`);
          void server.close().then(resolve);
        };
        process.once("SIGTERM", () => stop("SIGTERM"));
        process.once("SIGINT", () => stop("SIGINT"));
      });
      process.stderr.write("mst serve: stopped\n");
    });
}
