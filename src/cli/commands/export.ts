/** `mst export`: a spec's arms, seeds and evaluation sets in TRL, OpenRLHF, verl or OpenAI format, with a launch recipe. */
import { InvalidArgumentError, type Command } from "commander";

const TARGETS = ["trl", "openrlhf", "verl", "openai"];

export function register(program: Command): void {
  program
    .command("export")
    .description(
      "write a spec's training data (per arm and seed), evaluation sets and launch recipe for another engine",
    )
    .requiredOption("--spec <file>", "experiment spec, YAML or JSON (as for mst run)")
    .requiredOption("--target <name>", `engine format: ${TARGETS.join(", ")}`, (v: string) => {
      if (!TARGETS.includes(v)) throw new InvalidArgumentError(`expected one of ${TARGETS.join(", ")}, got "${v}"`);
      return v;
    })
    .requiredOption("--out <dir>", "output directory (jobs/<train-job-id>/, eval/, RECIPE.md, manifest.json)")
    .option("--reward-url <url>", "reward server URL the recipes call (default http://127.0.0.1:5000/get_reward)")
    .option("--force", "replace the exported files in a non-empty --out (never a folder holding the spec)")
    .addHelpText(
      "after",
      "\nExamples:\n  mst export --spec examples/specs/sycophancy.yaml --target openrlhf --out export/openrlhf\n  mst export --spec examples/specs/political-bias.yaml --target trl --out export/trl\n",
    )
    .action(async (opts: { spec: string; target: string; out: string; rewardUrl?: string; force?: boolean }) => {
      const { exportSpec } = await import("../../interop/export.js");
      const s = await exportSpec({
        spec: opts.spec,
        target: opts.target,
        out: opts.out,
        force: opts.force ?? false,
        ...(opts.rewardUrl !== undefined ? { rewardUrl: opts.rewardUrl } : {}),
      });
      console.log(`exported ${s.jobs} train jobs (${s.rows} rows) and ${s.evalSets} evaluation sets to ${s.out}`);
      console.log(`recipe: ${s.out}/RECIPE.md`);
    });
}
