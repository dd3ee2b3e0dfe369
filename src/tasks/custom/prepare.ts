/**
 * Checks a custom experiment before anything runs: paths resolved from the spec's folder and present, the monitor's
 * labels renderable, every sample valid (held-out values kept out of training, one completion per SFT sample, the
 * exact-match field on every sample it scores). Each problem is reported through `ctx.fail` at its spec key (file,
 * line and key), with the JSONL file and line of a bad sample in the message.
 */
import { existsSync, statSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import type { ConfigContext } from "../../experiment/task.js";
import { comparisonDocs } from "../../experiment/corpus/comparisons.js";
import { labelShapedLines } from "../../experiment/corpus/label-line.js";
import { buildArms } from "../../monitor/arms.js";
import { createMonitorLabeler } from "../../monitor/monitor.js";
import type { CustomConfig, ScorerConfig } from "./config.js";
import { readCorpus, readSamplesSync } from "./files.js";
import { monitorOf } from "./monitor.js";
import { stanceWordingsOf } from "./base.js";
import { Rng } from "../../data/rng.js";
import { expectedOf } from "./scorer.js";

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Runs `f`, turning any error into a spec error at `path`. */
function at<T>(ctx: ConfigContext, path: PropertyKey[], f: () => T): T {
  try {
    return f();
  } catch (e) {
    return ctx.fail(path, message(e));
  }
}

/** An absolute path from the spec's folder; `kind` says what must be there. */
function located(ctx: ConfigContext, path: PropertyKey[], p: string, kind: "file" | "dir" | "any"): string {
  const abs = isAbsolute(p) ? p : resolve(ctx.dir, p);
  if (kind === "any") return abs;
  if (!existsSync(abs)) ctx.fail(path, `${kind === "dir" ? "directory" : "file"} not found: ${abs}`);
  const isDir = statSync(abs).isDirectory();
  if (kind === "file" && isDir) ctx.fail(path, `${abs} is a directory, not a file`);
  if (kind === "dir" && !isDir) ctx.fail(path, `${abs} is not a directory`);
  return abs;
}

function scorerPaths(ctx: ConfigContext, key: PropertyKey[], s: ScorerConfig): ScorerConfig {
  if (s.kind === "module") return { ...s, path: located(ctx, [...key, "path"], s.path, "file") };
  if (s.kind === "llm" && s.provider.cacheDir !== undefined)
    return {
      ...s,
      provider: { ...s.provider, cacheDir: located(ctx, [...key, "provider", "cacheDir"], s.provider.cacheDir, "any") },
    };
  return s;
}

/** Every sample of `file` must carry the exact-match field its scorer reads. */
function checkField(ctx: ConfigContext, key: PropertyKey[], s: ScorerConfig, file: string): void {
  if (s.kind !== "exact-match") return;
  const { values, lines } = readSamplesSync(file);
  values.forEach((x, i) => {
    if (expectedOf({ rewardInputs: x.rewardInputs ?? null, meta: x.meta ?? null }, s.field) === null)
      ctx.fail([...key, "field"], `${file}:${lines[i]}: sample "${x.id}" has no "${s.field}" in rewardInputs or meta`);
  });
}

export function prepareCustomConfig(c: CustomConfig, ctx: ConfigContext): CustomConfig {
  const out: CustomConfig = structuredClone(c);
  out.train.samples = located(ctx, ["train", "samples"], c.train.samples, "file");
  out.eval.samples = located(ctx, ["eval", "samples"], c.eval.samples, "file");
  if (c.model.kind === "pretrain")
    out.model = { ...c.model, corpus: located(ctx, ["model", "corpus"], c.model.corpus, "file") };
  else {
    const dir = located(ctx, ["model", "path"], c.model.path, "dir");
    if (!existsSync(join(dir, "config.json")))
      ctx.fail(["model", "path"], `${dir} has no config.json: not a Hugging Face checkpoint directory`);
    out.model = { ...c.model, path: dir };
  }
  if (c.trainer.kind === "rl")
    out.trainer = { ...c.trainer, reward: scorerPaths(ctx, ["trainer", "reward"], c.trainer.reward) };
  out.judge = scorerPaths(ctx, ["judge"], c.judge);

  // the monitor: its labels render, the spec's deployment/sweep included
  const spec = at(ctx, ["monitor"], () => monitorOf(out));
  const labeler = createMonitorLabeler(spec);
  at(ctx, c.deploymentLabel !== undefined ? ["deploymentLabel"] : ["monitor", "deployment"], () =>
    labeler.labelOf(spec.deployment),
  );
  spec.sweep.forEach((ref, i) =>
    at(ctx, c.sweepLabels !== undefined ? ["sweepLabels", i] : ["monitor", "sweep", i], () => labeler.labelOf(ref)),
  );

  // training samples: the arms build (monitor id, label, held-out values, duplicate ids), naming file:line
  const train = at(ctx, ["train", "samples"], () => readSamplesSync(out.train.samples));
  at(ctx, ["train", "samples"], () =>
    buildArms(
      train.values,
      { monitor: spec, arms: ["mst"], separator: c.separator },
      { source: out.train.samples, lines: train.lines },
    ),
  );
  if (out.trainer.kind === "sft")
    train.values.forEach((s, i) => {
      if (s.completion === undefined)
        ctx.fail(
          ["trainer", "kind"],
          `${out.train.samples}:${train.lines[i]}: sample "${s.id}" has no completion; SFT trains on completions`,
        );
    });
  else checkField(ctx, ["trainer", "reward"], out.trainer.reward, out.train.samples);

  // evaluation samples: same monitor, distinct ids, the judge's field
  const ev = at(ctx, ["eval", "samples"], () => readSamplesSync(out.eval.samples));
  const ids = new Set<string>();
  ev.values.forEach((s, i) => {
    const where = `${out.eval.samples}:${ev.lines[i]}: sample "${s.id}"`;
    if (s.monitor.id !== spec.id)
      ctx.fail(["eval", "samples"], `${where}: monitor id "${s.monitor.id}" is not the spec's monitor "${spec.id}"`);
    if (ids.has(s.id)) ctx.fail(["eval", "samples"], `${where}: the id is used twice`);
    ids.add(s.id);
  });
  checkField(ctx, ["judge"], out.judge, out.eval.samples);

  // the corpus and the helpers it asks for
  if (out.model.kind === "pretrain") {
    const m = out.model;
    const docs = at(ctx, ["model", "corpus"], () => readCorpus(m.corpus));
    if (m.helpers.comparisons > 0)
      at(ctx, ["model", "helpers", "comparisons"], () => comparisonDocs(spec, 1, new Rng(0)));
    if (m.helpers.labelLineShare > 0)
      at(ctx, ["model", "helpers", "labelLineShare"], () => labelShapedLines(spec, m.helpers.fillers));
    const wordings = stanceWordingsOf(m, spec);
    for (const d of docs)
      if (d.kind === "prompt" && d.stance !== undefined && !Object.hasOwn(wordings, d.stance))
        ctx.fail(
          ["model", "helpers", "stanceWordings"],
          `${m.corpus}:${d.line}: no wording for stance "${d.stance}" (have: ${Object.keys(wordings).join(", ") || "none"})`,
        );
  }
  return out;
}
