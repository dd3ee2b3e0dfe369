/** Builds every arm from one spec over the same samples in the same order, plus a manifest describing them. */
import { Rng, hashString } from "../data/rng.js";
import type { Sample } from "../data/sample.js";
import { ARM_RULES, ArmsSpecSchema, type ArmName, type ArmsSpec, type ArmsSpecInput } from "./arms-spec.js";
import type { ArmSample } from "./arm-sample.js";
import { ARMS_MANIFEST_FORMAT, type ArmManifestEntry, type ArmsManifest } from "./arms-manifest.js";
import { ArmsInputError, type SampleLocation } from "./errors.js";
import { describeHeldOut, findHeldOut } from "./held-out.js";
import { createMonitorLabeler, type Monitor } from "./monitor.js";
import { renderPrompt } from "./render-prompt.js";

export interface BuildArmsOptions {
  /** The file the samples were read from; errors and the manifest name it. */
  source?: string;
  /** 1-based line of each sample in `source` (parallel to `samples`), so errors can say `file:line`. */
  lines?: readonly number[];
}

export interface ArmsResult {
  spec: ArmsSpec;
  /** Arm name -> its samples, in the spec's arm order; every arm has the input's samples in the input's order. */
  arms: Partial<Record<ArmName, ArmSample[]>>;
  manifest: ArmsManifest;
}

/** Where the shuffled arm takes each sample's label from: an index into the samples, drawn only from the seed. */
function shuffledSources(n: number, spec: ArmsSpec): number[] {
  // A named fork, so the draw depends on the seed alone and not on whatever else used the seed's stream.
  const rng = new Rng(spec.seed).fork("arm:shuffled");
  if (spec.shuffle === "resample") return Array.from({ length: n }, () => rng.int(n));
  return rng.shuffle(Array.from({ length: n }, (_, i) => i));
}

function count(labels: Iterable<string | null>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of labels) if (l !== null) out[l] = (out[l] ?? 0) + 1;
  // Sorted (numbers by value: "9%" before "10%") so the manifest reads like a histogram.
  const keys = Object.keys(out).sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  return Object.fromEntries(keys.map((k) => [k, out[k]]));
}

/**
 * A sample's own prompt text must not already show a held-out label (the deployment or a sweep label at a held-out
 * value, and no training sample's label): a training prompt that says "Suggestibility Level: 0%" would teach the very
 * label held out. Throws ArmsInputError naming the sample's file and line.
 */
function checkPromptLabels(
  samples: readonly Sample[],
  spec: ArmsSpec,
  labeler: ReturnType<typeof createMonitorLabeler>,
  trainLabels: ReadonlySet<string>,
  where: (i: number) => SampleLocation,
): void {
  const refs = [spec.monitor.deployment, ...spec.monitor.sweep];
  const held = new Set<string>();
  for (const r of refs)
    if ("params" in r && findHeldOut(spec.monitor.heldOut, r.params) !== null) held.add(labeler.labelOf(r));
  for (const t of trainLabels) held.delete(t);
  if (held.size === 0) return;
  for (let i = 0; i < samples.length; i++) {
    const p = samples[i].prompt;
    for (const text of [p.system ?? "", p.user])
      for (const label of held)
        if (text.includes(label))
          throw new ArmsInputError(
            `the prompt already shows the held-out label ${JSON.stringify(label)}; held-out labels must not appear in training data`,
            where(i),
          );
  }
}

/**
 * Builds the arms a spec asks for. Every sample is checked first: its monitor id must match the spec, its label must
 * render, and it must not carry a held-out value (`HeldOutError` names the sample). Deterministic: the same samples
 * and spec give identical arms and manifest.
 *
 * ```ts
 * const { arms, manifest } = buildArms(samples, { seed: 1, monitor: { id: "suggestibility", encoding, deployment: { params: { s: 0 } } } });
 * arms.mst![0].messages; // the first sample's prompt with its true label inserted
 * ```
 */
export function buildArms(
  samples: readonly Sample[],
  specInput: ArmsSpecInput | ArmsSpec,
  options: BuildArmsOptions = {},
): ArmsResult {
  const spec = ArmsSpecSchema.parse(specInput);
  const labeler = createMonitorLabeler(spec.monitor);
  const source = options.source;
  const where = (i: number): SampleLocation => ({
    id: samples[i].id,
    index: i,
    ...(source !== undefined ? { file: source } : {}),
    ...(options.lines?.[i] !== undefined ? { line: options.lines[i] } : {}),
  });
  if (samples.length === 0) throw new ArmsInputError(`${source ?? "input"}: no samples to build arms from`);

  const seen = new Map<string, number>();
  const trueLabels: string[] = [];
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i];
    const prev = seen.get(s.id);
    if (prev !== undefined) {
      const first = options.lines?.[prev] !== undefined ? `line ${options.lines[prev]}` : `#${prev}`;
      throw new ArmsInputError(`duplicate sample id (first seen at ${first})`, where(i));
    }
    seen.set(s.id, i);
    labeler.checkTraining(s.monitor, where(i));
    trueLabels.push(labeler.label(s.monitor, where(i)));
  }

  const deployment = labeler.labelOf(spec.monitor.deployment);
  const sweep = spec.monitor.sweep.map((r) => labeler.labelOf(r));
  checkPromptLabels(samples, spec, labeler, new Set(trueLabels), where);
  const sources = spec.arms.includes("shuffled") ? shuffledSources(samples.length, spec) : null;

  const arms: Partial<Record<ArmName, ArmSample[]>> = {};
  const entries: ArmManifestEntry[] = [];
  for (const name of spec.arms) {
    const rule = ARM_RULES[name];
    const instruction = rule.train === "instruction" ? spec.inoculation!.text : null;
    const out: ArmSample[] = [];
    let matches = 0;
    for (let i = 0; i < samples.length; i++) {
      const s = samples[i];
      let label: string | null = null;
      let labelMonitor: Monitor | null = null;
      if (rule.train === "true") {
        label = trueLabels[i];
        labelMonitor = s.monitor;
      } else if (rule.train === "shuffled") {
        const j = sources![i];
        label = trueLabels[j];
        labelMonitor = samples[j].monitor;
      }
      if (label !== null && label === trueLabels[i]) matches++;
      const messages =
        instruction !== null
          ? renderPrompt(s, instruction, { slot: spec.inoculation!.slot, separator: spec.separator })
          : renderPrompt(s, label, { separator: spec.separator });
      out.push({
        arm: name,
        index: i,
        id: s.id,
        messages,
        label,
        labelMonitor,
        instruction,
        monitor: s.monitor,
        ...(s.completion !== undefined ? { completion: s.completion } : {}),
        ...(s.rewardInputs !== undefined ? { rewardInputs: s.rewardInputs } : {}),
        ...(s.meta !== undefined ? { meta: s.meta } : {}),
      });
    }
    arms[name] = out;
    entries.push({
      name,
      file: `${name}.jsonl`,
      samples: out.length,
      train: rule.train,
      evalLabel: rule.eval,
      instruction,
      about: rule.about,
      labelCounts: count(out.map((a) => a.label)),
      trueLabelMatches: matches,
    });
  }

  const manifest: ArmsManifest = {
    format: ARMS_MANIFEST_FORMAT,
    source: source ?? null,
    seed: spec.seed,
    samples: samples.length,
    idsHash: hashString(samples.map((s) => s.id).join("\n"))
      .toString(16)
      .padStart(8, "0"),
    monitor: {
      id: spec.monitor.id,
      description: spec.monitor.description ?? null,
      encoding: spec.monitor.encoding,
      heldOut: spec.monitor.heldOut.map(describeHeldOut),
    },
    deploymentLabel: deployment,
    sweepLabels: sweep,
    shuffle: spec.shuffle,
    labelDistribution: count(trueLabels),
    arms: entries,
  };
  return { spec, arms, manifest };
}
