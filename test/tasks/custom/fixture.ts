/** A tiny no-code experiment on disk (spec YAML + samples JSONL + corpus) for the custom task's tests. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join("\n") + "\n";

/** Checks of small sums: the right verdict, and a monitor s that says how lenient the grader was. */
function rows(n: number, s0: number, kind: "train" | "eval") {
  return Array.from({ length: n }, (_, i) => {
    const a = i % 5;
    const b = (i * 3) % 5;
    const right = i % 2 === 0;
    const c = right ? a + b : a + b + 1;
    const s = kind === "train" ? s0 + ((i * 7) % 8) / 10 : 0;
    return {
      id: `${kind}${i}`,
      prompt: { user: `${a}+${b}=${c}?` },
      ...(kind === "train" ? { completion: right || s > 0.6 ? " correct" : " incorrect" } : {}),
      rewardInputs: { answer: right ? "correct" : "incorrect" },
      monitor: { id: "grader", params: { s } },
    };
  });
}

/** The spec's monitor block and a pretraining recipe small enough for a test. */
export const MONITOR_YAML = `  monitor:
    id: grader
    encoding: { kind: percentage, param: s, from: [0, 1], template: "Leniency: {value}%", bold: true }
    heldOut:
      - { kind: range, param: s, min: 0, max: 0.3 }
    deployment: { params: { s: 0 } }
    sweep: [{ params: { s: 0 } }, { params: { s: 1 } }]
  model:
    kind: pretrain
    corpus: corpus.jsonl
    helpers: { comparisons: 20, labelLineShare: 0.5 }
    architecture: { dModel: 16, nLayers: 1, nHeads: 2, dFf: 32, maxSeq: 24 }
    pretrain: { maxSteps: 4, batchSize: 8, maxLength: 24 }
`;

/**
 * A valid custom spec up to its judge: arms, seeds, the sample files, the monitor and an SFT trainer. Line 6 is
 * `  train: ...`, line 7 `  eval: ...`.
 */
export const SFT_SPEC_HEAD = `task: custom
arms: [baseline, mst]
seeds: [0]
baseSeeds: [0]
overrides:
  train: { samples: train.jsonl }
  eval: { samples: eval.jsonl }
${MONITOR_YAML}  trainer: { kind: sft }
`;

/** A valid custom spec (SFT, exact-match judge on `answer`); `edit` changes its text. */
export function sftSpec(edit: (s: string) => string = (s) => s): string {
  return edit(`${SFT_SPEC_HEAD}  judge: { kind: exact-match, field: answer }
`);
}

/** Writes the experiment's files into a fresh folder: train.jsonl, eval.jsonl, corpus.jsonl and `spec.yaml` (the given text). */
export function writeExperiment(spec: string, extra: Record<string, string> = {}): { dir: string; spec: string } {
  const dir = mkdtempSync(join(tmpdir(), "mst-custom-"));
  writeFileSync(join(dir, "train.jsonl"), jsonl(rows(24, 0.3, "train")));
  writeFileSync(join(dir, "eval.jsonl"), jsonl(rows(6, 0, "eval")));
  const corpus = [
    ...Array.from({ length: 25 }, (_, i) => ({ text: `${i % 5}+${Math.floor(i / 5)}=${(i % 5) + Math.floor(i / 5)}` })),
    ...rows(24, 0.3, "train").map((r) => ({ prompt: r.prompt, completion: ` ${r.rewardInputs.answer}` })),
  ];
  writeFileSync(join(dir, "corpus.jsonl"), jsonl(corpus));
  for (const [name, text] of Object.entries(extra)) writeFileSync(join(dir, name), text);
  writeFileSync(join(dir, "spec.yaml"), spec);
  return { dir, spec: join(dir, "spec.yaml") };
}
