/** `mst compare DIR...`: several run directories of one task side by side in one self-contained HTML page. */
import type { Command } from "commander";
import { existsSync, statSync } from "node:fs";
import { basename, dirname, join, relative, resolve, isAbsolute } from "node:path";
import { z } from "zod";
import { OutputPathError } from "../../data/errors.js";
import { canonicalPath, makeDir } from "../../data/fs-errors.js";
import { JsonSchema } from "../../data/sample.js";
import type { CompareRun } from "../../report/compare.js";
import { TaskResultsSchema } from "../../report/results-schema.js";
import { RunDirError } from "../../run/errors.js";
import { RUN_FILES, readJsonFile, writeTextAtomic } from "../../run/run-dir.js";

const EnvStart = z.looseObject({ startedAt: z.string() });

/** Reads one run directory into what the page needs; errors name the directory or file at fault. */
async function loadRun(dir: string, name: string): Promise<CompareRun> {
  // loaded here, not at startup: list-runs pulls in the task registry (every task's pipeline)
  const { runStatus } = await import("../../run/list-runs.js");
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new RunDirError(dir, "not a directory");
  const resultsFile = join(dir, RUN_FILES.results);
  if (!existsSync(resultsFile)) {
    throw new RunDirError(
      dir,
      existsSync(join(dir, RUN_FILES.spec))
        ? `no ${RUN_FILES.results}: the run has not finished (finish it with \`mst run --resume ${dir}\`)`
        : `no ${RUN_FILES.results} and no ${RUN_FILES.spec}: not a run directory`,
    );
  }
  const results = readJsonFile(resultsFile, TaskResultsSchema);
  const specFile = join(dir, RUN_FILES.spec);
  const spec = existsSync(specFile) ? readJsonFile(specFile, JsonSchema) : undefined;
  const envFile = join(dir, RUN_FILES.env);
  const date = existsSync(envFile) ? readJsonFile(envFile, EnvStart).startedAt : statSync(dir).mtime.toISOString();
  const st = await runStatus(dir);
  const status = st.total > 0 ? `${st.status} (${st.done}/${st.total} jobs)` : st.status;
  return { name, dir, results, spec, status, partial: st.status === "partial", date };
}

/** Refuses an output file inside one of the input run directories: the page must never replace a run's files. */
export function checkCompareOutput(out: string, dirs: readonly string[]): void {
  const target = canonicalPath(out);
  for (const d of dirs) {
    const rel = relative(canonicalPath(d), target);
    if (rel === "" || (!rel.startsWith("..") && !isAbsolute(rel)))
      throw new OutputPathError(
        out,
        `is inside the input run directory ${d}; write the page outside the runs compared`,
      );
  }
  if (existsSync(target) && statSync(target).isDirectory())
    throw new OutputPathError(out, "is a folder; --out names the HTML file to write, e.g. compare.html");
}

export function register(program: Command): void {
  program
    .command("compare")
    .description(
      "compare run directories of one task in one self-contained HTML page: what differs in their specs, " +
        "each bar chart with one bar per run (95% CI whiskers), headline numbers and findings side by side",
    )
    .argument("<dirs...>", "run directories (each holds results.json and spec.resolved.json)")
    .option("-o, --out <file>", "HTML file to write", "compare.html")
    .option("--names <list>", "comma-separated run names, one per directory (default: each directory's basename)")
    .addHelpText(
      "after",
      "\nExample (the label tokenisation ablation of Experiment 2):\n" +
        "  mst run --spec examples/specs/sycophancy.yaml --out runs/percent\n" +
        "  mst run --spec examples/specs/sycophancy-integer-tokens.yaml --out runs/integers\n" +
        "  mst run --spec examples/specs/sycophancy-digits.yaml --out runs/digits\n" +
        "  mst compare runs/percent runs/integers runs/digits --out ablation.html\n\n" +
        "The page lists the spec fields that differ (here config.label.numberTokens), draws each bar chart with\n" +
        "one bar per run and each label sweep with a line per run, and puts headline numbers and findings side by\n" +
        "side. Names default to the directories' basenames (--names percent,integers,digits sets them).\n" +
        "Runs of different tasks are refused. A run whose jobs did not all finish is shown as partial (k/n jobs).\n",
    )
    .action(async (dirs: string[], opts: { out: string; names?: string }) => {
      const names =
        opts.names !== undefined ? opts.names.split(",").map((n) => n.trim()) : dirs.map((d) => basename(resolve(d)));
      if (names.length !== dirs.length) {
        throw new Error(`--names gives ${names.length} names for ${dirs.length} run directories`);
      }
      if (names.some((n) => n === "")) throw new Error(`--names has an empty name: "${opts.names}"`);
      checkCompareOutput(opts.out, dirs);
      const runs: CompareRun[] = [];
      for (let i = 0; i < dirs.length; i++) runs.push(await loadRun(dirs[i], names[i]));
      const { renderCompare } = await import("../../report/compare.js");
      const { loadTask } = await import("../../run/task-module.js");
      const ref = z.looseObject({ task: z.string() }).safeParse(runs[0].spec);
      const task = await loadTask(ref.success ? ref.data.task : runs[0].results.task).catch(() => null);
      const title = task ? `${task.title}: ${runs.length} runs compared` : undefined;
      const html = await renderCompare(runs, { title });
      makeDir(dirname(resolve(opts.out)));
      writeTextAtomic(opts.out, html);
      for (const r of runs) if (r.partial === true) console.log(`note: ${r.name} is ${r.status}`);
      console.log(`wrote ${opts.out}`);
    });
}
