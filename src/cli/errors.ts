/**
 * How the CLI prints a failure and which exit code it gets: one line naming what went wrong, no stack (set
 * MST_DEBUG=1 to see it). Exit codes: 0 success, 1 the work failed, 2 bad input (spec, flags, files).
 */

/** The exit codes `mst --help` documents. */
export const EXIT = { ok: 0, failed: 1, badInput: 2 } as const;

export const EXIT_CODES_HELP =
  "\nExit codes:\n" +
  "  0  success\n" +
  "  1  the work failed (a job, a provider, a full disk, a run directory in use by another process)\n" +
  "  2  bad input: a spec, flag or file that is wrong (fix it and run again)\n";

/**
 * Errors that mean the user's input is wrong, by class name (names, not classes, so this file imports nothing and
 * `mst --help` stays fast). Everything else is a failure of the work.
 */
const BAD_INPUT = new Set([
  "SpecError", // spec file: syntax, unknown keys, bad values
  "ConfigError", // arms spec and other YAML/JSON config files
  "JsonlError", // a samples file
  "UnknownTaskError",
  "TaskDefinitionError", // a task module whose definition cannot run (a report metric its judge does not produce)
  "RunDirExistsError", // --out names a non-empty folder without --force
  "NotARunDirError", // --force on something that is not a run directory
  "RunDirError", // a run directory named on the command line that is missing or damaged
  "CompareError",
  "ArmsInputError",
  "HeldOutError",
  "LabelError",
  "ProviderConfigError",
  "OutputPathError",
  "RunsFolderError",
  "CheckpointError", // a model or adapter directory that is missing, malformed, for another base, or not applied
  "NonFiniteWeightsError", // a tensor with NaN or an infinity, named with its file
  "BaseCheckpointError", // the spec's base.checkpoint cannot be used
  "AdapterImportError", // an adapter mst import cannot bring in
  "ExportInputError", // mst export: an output folder that would lose data, a reward URL that is not one
  "NotAKitTaskError", // export / serve-reward of a task that has no kit definition
  "ImportError", // mst import: not an export folder, a missing or refused adapter
  // a model directory, adapter, tokenizer or chat template named on the command line that cannot be used
  // (generate, serve); a job that fails on one reaches the CLI as JobFailedError instead
  "SafetensorsError",
  "TokenizerError",
  "ChatTemplateError",
  "ServeLoadError",
  "GenerateInputError", // mst generate: a --messages file, a model without a chat template, a prompt too long
  "GemmChoiceError", // MST_GEMM names no backend, or one this machine cannot run (native without a compiler, blas without one)
  "EndpointEvalError", // mst eval: an --endpoint that is not a URL, a model it does not serve, a refused key
]);

/** errno codes that mean a path is wrong rather than that the machine failed. */
const PATH_CODES = new Set(["ENOENT", "ENOTDIR", "EISDIR", "EACCES", "EPERM", "EROFS", "EEXIST"]);

/** The exit code for an error that reached the top of the CLI. */
export function exitCodeOf(e: unknown): number {
  if (!(e instanceof Error)) return EXIT.failed;
  // commander's usage errors (unknown option, bad option value, missing argument) and our own InvalidArgumentError
  const code = (e as { code?: unknown }).code;
  if (typeof code === "string" && code.startsWith("commander.")) {
    // help asked for (`--help`, `help run`) and --version succeed; help shown because no command was given is an error
    return (e as { exitCode?: unknown }).exitCode === 0 ? EXIT.ok : EXIT.badInput;
  }
  if (BAD_INPUT.has(e.name)) return EXIT.badInput;
  // a job that failed on bad input (its base checkpoint is broken, its samples file is malformed) is bad input too
  if (e.name === "JobFailedError" && BAD_INPUT.has(String((e as { causeName?: unknown }).causeName)))
    return EXIT.badInput;
  // A path the user gave that cannot be used (missing, a folder for a file or the reverse, no permission, read-only)
  // is bad input; a full disk or an I/O error is a failure of the work.
  if (e.name === "FileAccessError" && PATH_CODES.has(String((e as { code?: unknown }).code))) return EXIT.badInput;
  return EXIT.failed;
}

/** Writes `mst: <message>` (first line of the message only) to stderr; the full stack with MST_DEBUG=1. */
export function reportCliError(e: unknown): void {
  const message = e instanceof Error ? e.message : String(e);
  process.stderr.write(`mst: ${message.split("\n")[0]}\n`);
  if (process.env.MST_DEBUG && e instanceof Error && e.stack) process.stderr.write(e.stack + "\n");
}
