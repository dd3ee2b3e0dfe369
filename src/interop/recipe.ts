/** A launch recipe: the engine version it was written for, the hyperparameter mapping, and its rendering as Markdown. */
import type { LinearSchedule } from "../train/schedules.js";

/** One mst hyperparameter and what the target does with it. */
export interface Knob {
  /** mst's name, e.g. "ppo.entropy". */
  knob: string;
  /** mst's value, as text. */
  mst: string;
  /** The target's setting (flag, config key or code) that carries it, or "-" when none does. */
  target: string;
  /** exact: same meaning; approx: nearest setting (see note); unsupported: the target cannot express it. */
  status: "exact" | "approx" | "unsupported";
  /** What the recipe does instead, for approx and unsupported knobs. */
  note?: string;
}

export interface Recipe {
  /** Engine name and the version the recipe was written against (flags and keys were read from that source). */
  engine: string;
  version: string;
  /** Files beside the data (launch scripts, configs, Python glue), relative to the target directory. */
  files: { path: string; text: string }[];
  /** One launch command per train job, in job order (the job id is the directory name under jobs/). */
  commands: { job: string; command: string }[];
  knobs: Knob[];
  /** Extra paragraphs for RECIPE.md (what to run first, where the adapter lands). */
  notes: string[];
}

export const fmt = (v: unknown): string => (typeof v === "string" ? v : JSON.stringify(v));

/** The time-average of a linear schedule over training: what a constant setting uses for a scheduled knob. */
export function scheduleMean(s: LinearSchedule): number {
  return s.end + ((s.start - s.end) * s.fraction) / 2;
}

/** A scheduled knob as one constant: exact when the schedule is flat, else approx with the mean. */
export function scheduledKnob(knob: string, s: LinearSchedule, target: string): { value: number; knob: Knob } {
  const flat = s.start === s.end;
  const value = flat ? s.start : +scheduleMean(s).toPrecision(6);
  return {
    value,
    knob: {
      knob,
      mst: flat ? String(s.start) : `${s.start} -> ${s.end} over ${s.fraction * 100}% of training, then held`,
      target: `${target} = ${value}`,
      status: flat ? "exact" : "approx",
      ...(flat ? {} : { note: `no schedule in the target: held at the schedule's time-average ${value}` }),
    },
  };
}

const cell = (s: string): string => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** RECIPE.md: engine version, commands, notes and the knob table (every knob, unsupported ones with what is done instead). */
export function recipeMarkdown(target: string, r: Recipe): string {
  const lines = [
    `# ${target}: launch recipe (${r.engine} ${r.version})`,
    "",
    `Written against ${r.engine} ${r.version}; flags and config keys were read from that version's source.`,
    "",
    ...r.notes.flatMap((n) => [n, ""]),
    "## Commands (one per train job; run from this directory)",
    "",
    "```sh",
    ...r.commands.map((c) => c.command),
    "```",
    "",
    "## Hyperparameters",
    "",
    "| mst knob | mst value | target setting | status | what the recipe does |",
    "|---|---|---|---|---|",
    ...r.knobs.map(
      (k) => `| ${cell(k.knob)} | ${cell(k.mst)} | ${cell(k.target)} | ${k.status} | ${cell(k.note ?? "")} |`,
    ),
    "",
    "## Knobs the target cannot express",
    "",
    ...(r.knobs.filter((k) => k.status !== "exact").length === 0
      ? ["None."]
      : r.knobs.filter((k) => k.status !== "exact").map((k) => `- **${k.knob}** (${k.mst}): ${k.note ?? k.target}`)),
    "",
  ];
  return lines.join("\n");
}
