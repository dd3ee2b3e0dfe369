/** `mst import`: adapters trained by TRL, OpenRLHF or verl (from an `mst export` directory) into a run directory. */
import { InvalidArgumentError, type Command } from "commander";

const TARGETS = ["trl", "openrlhf", "verl", "openai"];

interface Opts {
  target: string;
  out: string;
  bases?: string;
  force?: boolean;
  partial?: boolean;
}

export function register(program: Command): void {
  program
    .command("import")
    .description(
      "bring adapters trained elsewhere (PEFT format) into a run directory; then mst run --resume evaluates them",
    )
    .argument("<dir>", "the mst export directory the engine trained in (manifest.json, jobs/<id>/output/)")
    .requiredOption("--target <name>", `engine: ${TARGETS.join(", ")}`, (v: string) => {
      if (!TARGETS.includes(v)) throw new InvalidArgumentError(`expected one of ${TARGETS.join(", ")}, got "${v}"`);
      return v;
    })
    .requiredOption("--out <dir>", "run directory to create")
    .option("--bases <run>", "a local run whose base jobs (embedded bases) are copied in and verify the adapters")
    .option("--force", "overwrite an existing run directory")
    .option("--partial", "import the jobs that have an adapter; the rest train locally on resume")
    .addHelpText(
      "after",
      "\nExample:\n  mst import --target openrlhf export/openrlhf --out runs/exp2-openrlhf\n  mst run --resume runs/exp2-openrlhf\n",
    )
    .action(async (dir: string, opts: Opts) => {
      const { importRuns } = await import("../../interop/import.js");
      const r = await importRuns({
        target: opts.target,
        dir,
        out: opts.out,
        ...(opts.bases ? { bases: opts.bases } : {}),
        force: opts.force ?? false,
        partial: opts.partial ?? false,
      });
      console.log(
        `imported ${r.imported.length} adapters into ${r.out} (${r.verified} loaded against their base)${r.missing.length ? `; ${r.missing.length} jobs left to train locally` : ""}`,
      );
      console.log(`next: mst run --resume ${r.out}`);
    });
}
