/** How the CLI prints a failure: one line naming what went wrong, no stack (set MST_DEBUG=1 to see it). */

/** Writes `mst: <message>` (first line of the message only) to stderr; the full stack with MST_DEBUG=1. */
export function reportCliError(e: unknown): void {
  const message = e instanceof Error ? e.message : String(e);
  process.stderr.write(`mst: ${message.split("\n")[0]}\n`);
  if (process.env.MST_DEBUG && e instanceof Error && e.stack) process.stderr.write(e.stack + "\n");
}
