/** `mst serve-reward`: serve a spec's task reward over OpenRLHF's remote reward protocol (for OpenRLHF, verl or TRL runs). */
import { InvalidArgumentError, type Command } from "commander";
import { checkExposure } from "../exposure.js";

function port(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) > 65535) throw new InvalidArgumentError(`expected a port 0-65535, got "${v}"`);
  return Number(v);
}
function positive(v: string): number {
  if (!/^[1-9]\d*$/.test(v)) throw new InvalidArgumentError(`expected a positive integer, got "${v}"`);
  return Number(v);
}

interface Opts {
  spec: string;
  port: number;
  host: string;
  apiKeyEnv?: string;
  maxBody?: number;
  maxItems?: number;
  quiet?: boolean;
  keyOnNetwork: boolean;
}

export function register(program: Command): void {
  program
    .command("serve-reward")
    .description(
      "serve the spec's task reward over HTTP (OpenRLHF remote reward protocol: POST {query, prompts, labels})",
    )
    .requiredOption("--spec <file>", "experiment spec, YAML or JSON (the same one given to mst export)")
    .requiredOption("--port <n>", "port to listen on (0: any free port, printed)", port)
    .option("--host <addr>", "address to listen on", "127.0.0.1")
    .option(
      "--api-key-env <NAME>",
      "require 'Authorization: Bearer <token>' with the token in environment variable NAME",
    )
    .option("--max-body <bytes>", "largest request body (default 8 MiB)", positive)
    .option("--max-items <n>", "most rollouts per request (default 4096)", positive)
    .option("--quiet", "do not log one line per request")
    .option("--no-key-on-network", "allow a non-loopback --host without --api-key-env (anyone reachable may call it)")
    .addHelpText(
      "after",
      '\nRequest:  POST /get_reward {"query": [prompt+response...], "prompts": [...], "labels": [mst label JSON...]}\n' +
        'Response: {"rewards": [...], "scores": [...], "extra_logs": {...}}   (400 with {"error"} for a bad request)\n\n' +
        "Example:\n  mst serve-reward --spec examples/specs/sycophancy.yaml --port 5000\n",
    )
    .action(async (opts: Opts) => {
      const { loadExperiment } = await import("../../interop/load-experiment.js");
      const { createRewardServer } = await import("../../interop/reward-server.js");
      let apiKey: string | null = null;
      if (opts.apiKeyEnv !== undefined) {
        apiKey = process.env[opts.apiKeyEnv] ?? "";
        if (apiKey === "")
          throw new InvalidArgumentError(`--api-key-env ${opts.apiKeyEnv}: the environment variable is not set`);
      }
      checkExposure(opts.host, apiKey !== null, !opts.keyOnNetwork);
      const x = await loadExperiment(opts.spec);
      const s = createRewardServer({
        def: x.def,
        config: x.config,
        conditions: x.conditions,
        apiKey,
        limits: {
          ...(opts.maxBody ? { maxBodyBytes: opts.maxBody } : {}),
          ...(opts.maxItems ? { maxItems: opts.maxItems } : {}),
        },
        ...(opts.quiet ? {} : { log: (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`) }),
      });
      const bound = await s.listen(opts.port, opts.host);
      console.log(
        `serving the ${x.def.name} reward on http://${opts.host}:${bound}/get_reward${apiKey ? " (bearer token required)" : ""}`,
      );
      await new Promise<void>((resolve) => {
        const stop = () => void s.close().then(resolve);
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
      console.log(`stopped; answered ${JSON.stringify(s.counts)}`);
    });
}
