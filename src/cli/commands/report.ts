/** `mst report DIR`: regenerate report.html and summary.md of a run directory from its results.json. */
import type { Command } from "commander";

export function register(program: Command): void {
  program
    .command("report")
    .description("regenerate a run's report.html (self-contained, charts as inline SVG) and summary.md")
    .argument("<dir>", "run directory (holds results.json, spec.resolved.json, env.json, jobs/)")
    .addHelpText("after", "\nExample:\n  mst report runs/sycophancy-embedded-20261124-140000\n")
    .action(async (dir: string) => {
      // loaded here, not at startup: the report renderer (Vega) and the task registry cost ~0.4 s to import
      const { writeRunReport } = await import("../../run/run-report.js");
      const { html, markdown } = await writeRunReport(dir);
      console.log(`wrote ${html}`);
      console.log(`wrote ${markdown}`);
    });
}
