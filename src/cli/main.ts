#!/usr/bin/env node
/** The `mst` command line: builds the commander program from one list of command registrations and runs it. */
import { readFileSync, realpathSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { Command } from "commander";
import { z } from "zod";
import { EXIT_CODES_HELP, exitCodeOf, reportCliError } from "./errors.js";

/**
 * Every command: a module in ./commands/ exporting `register(program)`. Adding a command is one line here (a dynamic
 * import, still type-checked), so engineers adding commands in parallel never edit the same line.
 */
const COMMANDS: Array<(program: Command) => void> = [
  // one line per command, in the order `mst --help` lists them
  (await import("./commands/arms.js")).register,
  (await import("./commands/run.js")).register,
  (await import("./commands/report.js")).register,
  (await import("./commands/runs.js")).register,
  (await import("./commands/compare.js")).register,
  (await import("./commands/export.js")).register,
  (await import("./commands/serve-reward.js")).register,
  (await import("./commands/import.js")).register,
  (await import("./commands/serve.js")).register,
  (await import("./commands/eval.js")).register,
  (await import("./commands/generate.js")).register,
  (await import("./commands/job.js")).register,
];

const DESCRIPTION =
  "Monitor Sensitive Training (MST), since renamed Evaluator Conditioned Training (ECT): every training sample " +
  "carries a monitor (evaluator) label saying how the sample is judged; at deployment a better monitor's label is " +
  "swapped in and the model generalises toward it. mst builds the labelled arms (baseline, mst, shuffled, " +
  "prompt-only, inoculation), trains them, evaluates across labels and writes reports.";

/** The package version, read from package.json next to dist/ (src/cli/main.ts compiles to dist/src/cli/main.js). */
function packageVersion(): string {
  try {
    const text = readFileSync(new URL("../../../package.json", import.meta.url), "utf8");
    return z.looseObject({ version: z.string() }).parse(JSON.parse(text)).version;
  } catch {
    return "0.0.0-unknown";
  }
}

/** The `mst` program with every command registered (exported so tests and wrappers can drive it in-process). */
export function createProgram(onUsageError: () => void = () => {}): Command {
  const program = new Command("mst")
    .description(DESCRIPTION)
    .version(packageVersion())
    .addHelpText("after", EXIT_CODES_HELP)
    // Usage errors read like our own: one line, "mst: error: ...". Subcommands inherit this setting.
    .configureOutput({
      outputError: (text, write) => {
        onUsageError();
        write(`mst: ${text}`);
      },
    })
    // commander throws instead of exiting, so every exit code is set in one place (main); inherited by subcommands
    .exitOverride();
  for (const register of COMMANDS) register(program);
  return program;
}

/** Runs the CLI; any error becomes one line on stderr and its exit code (0 success, 1 failure, 2 bad input). */
export async function main(argv: readonly string[] = process.argv): Promise<void> {
  let printed = false;
  try {
    await createProgram(() => (printed = true)).parseAsync([...argv]);
  } catch (e) {
    // commander has already printed its usage errors (and help / version, which exit 0)
    const code = exitCodeOf(e);
    const helpShown = ["commander.help", "commander.helpDisplayed", "commander.version"].includes(
      String((e as { code?: unknown }).code),
    );
    if (!printed && !helpShown) reportCliError(e);
    process.exitCode = code;
  }
}

// Run only when executed as the bin (also through npm's symlink), not when imported.
function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(entry)).href;
  } catch {
    return false;
  }
}
if (isEntryPoint()) await main();
