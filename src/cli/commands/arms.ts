/** `mst arms`: turn a samples JSONL and an arms spec into one JSONL per arm plus manifest.json. */
import type { Command } from "commander";
import { ARM_NAMES, buildArmsFromFiles } from "../../monitor/index.js";

const HELP = `
Every arm holds the same samples in the same order; only the label in the prompt differs:
  baseline     no label
  mst          each sample's true monitor label
  shuffled     a label drawn from the training labels independently of the sample (seeded)
  prompt-only  trained like baseline, marked to be evaluated with the deployment label
  inoculation  a fixed instruction added to every training prompt

A non-empty --out folder is refused unless --force; an input file is never written over, even with --force.
The spec (YAML or JSON) names the monitor's label encoding, held-out values, deployment label, arms and seed.
Each input line is a sample: { id, prompt: { system?, user, labelSlot? }, completion? | rewardInputs?, monitor: { id, params }, meta? }.

Example:
  mst arms --spec examples/arms/spec.yaml --in examples/arms/samples.jsonl --out out/arms
`;

export function register(program: Command): void {
  program
    .command("arms")
    .description(`build labelled arms (${ARM_NAMES.join(", ")}) from one spec over one set of samples`)
    .requiredOption("--spec <file>", "arms spec, YAML or JSON")
    .requiredOption("--in <file>", "samples, one JSON object per line")
    .requiredOption("--out <dir>", "output folder: <arm>.jsonl per arm and manifest.json")
    .option("--arms <list>", "comma-separated arms, overriding the spec's `arms`")
    .option("--seed <seed>", "seed, overriding the spec's `seed` (an integer or a string)")
    .option("--force", "write into a non-empty --out folder (arm files and manifest.json there are replaced)")
    .addHelpText("after", HELP)
    .action(async (opts: { spec: string; in: string; out: string; arms?: string; seed?: string; force?: boolean }) => {
      const seed = opts.seed === undefined ? undefined : /^-?\d+$/.test(opts.seed) ? Number(opts.seed) : opts.seed;
      const arms = opts.arms?.split(",").map((a) => a.trim());
      const { manifest } = await buildArmsFromFiles(
        opts.spec,
        opts.in,
        opts.out,
        { seed, arms },
        { force: opts.force },
      );
      const labels = Object.keys(manifest.labelDistribution).length;
      console.log(`read ${manifest.samples} samples from ${opts.in} (${labels} distinct training labels)`);
      for (const a of manifest.arms) {
        const evalAt = a.evalLabel === "deployment" ? "deployment label" : "no label";
        console.log(
          `  ${a.file.padEnd(22)} ${String(a.samples).padStart(6)} samples  train: ${a.train}, eval: ${evalAt}`,
        );
      }
      console.log(`deployment label: ${JSON.stringify(manifest.deploymentLabel)}`);
      console.log(`wrote ${manifest.arms.length} arms and manifest.json to ${opts.out}`);
    });
}
