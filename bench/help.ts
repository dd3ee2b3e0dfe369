/** `--help` for the bench scripts: print the usage and exit before any work starts (a bench runs for minutes). */

/** Prints `usage` and exits 0 when the command line asks for help (`--help` or `-h`). Call it before any work. */
export function helpAndExit(usage: string): void {
  const argv = process.argv.slice(2);
  if (!argv.includes("--help") && !argv.includes("-h")) return;
  process.stdout.write(usage.trim() + "\n");
  process.exit(0);
}
