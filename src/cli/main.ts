#!/usr/bin/env node
/** The `mst` command line: builds the commander program from one list of command registrations and runs it. */
import { readFileSync, realpathSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { Command } from "commander";
import { z } from "zod";
import { reportCliError } from "./errors.js";

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
  (await import("./commands/generate.js")).register,
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
export function createProgram(): Command {
  const program = new Command("mst")
    .description(DESCRIPTION)
    .version(packageVersion())
    // Usage errors read like our own: one line, "mst: error: ...". Subcommands inherit this setting.
    .configureOutput({ outputError: (text, write) => write(`mst: ${text}`) });
  for (const register of COMMANDS) register(program);
  return program;
}

/** Runs the CLI; any error becomes one line on stderr and exit code 1. */
export async function main(argv: readonly string[] = process.argv): Promise<void> {
  try {
    await createProgram().parseAsync([...argv]);
  } catch (e) {
    reportCliError(e);
    process.exitCode = 1;
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
