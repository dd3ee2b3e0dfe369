/** `mst runs [DIR]`: list run directories with task, preset, status (complete / running / partial n/m / no results.json), date and headline. */
import type { Command } from "commander";
import type { RunStatus } from "../../run/list-runs.js";
import { relative } from "node:path";

/** How each status reads in the table (the JSON keeps the bare status and the counts). */
const STATUS_TEXT: Record<RunStatus["status"], (done: number, total: number) => string> = {
  complete: () => "complete",
  running: (d, t) => `running ${d}/${t}`,
  partial: (d, t) => `partial ${d}/${t}`,
  unsummarized: (d, t) => `jobs ${d}/${t}, no results.json`,
  unknown: () => "unknown",
};

const fmt = (v: number): string => (Number.isFinite(v) ? String(+v.toPrecision(3)) : "—");

export function register(program: Command): void {
  program
    .command("runs")
    .description("list run directories with their status and headline metrics")
    .argument("[dir]", "folder holding run directories", "runs")
    .option("--json", "print JSON instead of a table")
    .action(async (dir: string, opts: { json?: boolean }) => {
      // loaded here, not at startup: list-runs pulls in the task registry (every task's pipeline)
      const { listRuns } = await import("../../run/list-runs.js");
      const runs = await listRuns(dir, (path, why) => process.stderr.write(`mst: skipped ${path}: ${why}\n`));
      if (opts.json) {
        console.log(JSON.stringify(runs, null, 2));
        return;
      }
      if (runs.length === 0) {
        console.log(`no run directories under ${dir}`);
        return;
      }
      const rows = runs.map((r) => [
        relative(process.cwd(), r.dir) || r.dir,
        r.task,
        r.preset,
        STATUS_TEXT[r.status](r.done, r.total),
        r.date.replace("T", " ").slice(0, 16),
        Object.entries(r.headline)
          .map(([k, v]) => `${k}=${fmt(v)}`)
          .join("  ") || (r.problem ? `(${r.problem})` : ""),
      ]);
      const head = ["run", "task", "preset", "status", "date (UTC)", "headline"];
      const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
      const line = (cells: string[]) =>
        cells.map((c, i) => (i < cells.length - 1 ? c.padEnd(widths[i]) : c)).join("  ");
      console.log(line(head));
      for (const r of rows) console.log(line(r));
    });
}
