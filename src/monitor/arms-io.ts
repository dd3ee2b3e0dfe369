/** File side of arms: read samples from JSONL, load an arms spec file, write one JSONL per arm plus manifest.json. */
import { existsSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { loadConfigFile } from "../data/config-file.js";
import { ConfigError, OutputPathError, describeZodError } from "../data/errors.js";
import { canonicalPath, makeDir, withPath } from "../data/fs-errors.js";
import { readJsonlLocated } from "../data/jsonl.js";
import { writeFileAtomic, writeJsonl } from "../data/jsonl-write.js";
import { SampleSchema, type Sample } from "../data/sample.js";
import { ArmSampleSchema } from "./arm-sample.js";
import { ArmsSpecSchema, type ArmsSpec } from "./arms-spec.js";
import { buildArms, type ArmsResult } from "./arms.js";

/** Reads and validates a samples JSONL file; `lines[i]` is the line of `samples[i]` (for later error messages). */
export async function readSamples(file: string): Promise<{ samples: Sample[]; lines: number[] }> {
  const recs = await readJsonlLocated(file, SampleSchema);
  return { samples: recs.map((r) => r.value), lines: recs.map((r) => r.line) };
}

/** Loads an arms spec from a YAML or JSON file; errors name the file, line and field. */
export function loadArmsSpec(file: string): ArmsSpec {
  return loadConfigFile(file, ArmsSpecSchema);
}

/**
 * Writes `<dir>/<arm>.jsonl` for every arm and `<dir>/manifest.json` (last, so a manifest means a complete set).
 * Each file is written atomically; an existing manifest is removed first. Returns the paths written.
 */
export function writeArms(dir: string, result: ArmsResult): string[] {
  const manifest = join(dir, "manifest.json");
  makeDir(dir, "create output folder");
  // An old manifest must not vouch for a half-rewritten folder if this write is interrupted.
  withPath(manifest, "remove old manifest", () => rmSync(manifest, { force: true }));
  const written: string[] = [];
  for (const entry of result.manifest.arms) {
    const file = join(dir, entry.file);
    writeJsonl(file, result.arms[entry.name] ?? [], ArmSampleSchema);
    written.push(file);
  }
  writeFileAtomic(manifest, JSON.stringify(result.manifest, null, 2) + "\n");
  written.push(manifest);
  return written;
}

/**
 * Refuses an output folder that would lose data: a non-empty folder unless `force` (as `mst run` does), and, even
 * with `force`, any arm file or manifest.json that is one of the inputs (`mst arms --in d/mst.jsonl --out d`).
 */
export function checkArmsOutput(outDir: string, files: string[], inputs: string[], force: boolean): void {
  if (existsSync(outDir)) {
    if (!withPath(outDir, "use as output folder", () => statSync(outDir)).isDirectory())
      throw new OutputPathError(outDir, "is a file, not a folder; --out names the folder the arms are written to");
    const entries = withPath(outDir, "read output folder", () => readdirSync(outDir));
    if (entries.length > 0 && !force)
      throw new OutputPathError(
        outDir,
        `output folder is not empty (${entries.length} entr${entries.length === 1 ? "y" : "ies"}); ` +
          "pass --force to replace the arm files and manifest.json in it, or choose an empty folder",
      );
  }
  const inputSet = new Map(inputs.map((f) => [canonicalPath(f), f]));
  for (const f of files) {
    const input = inputSet.get(canonicalPath(join(outDir, f)));
    if (input !== undefined)
      throw new OutputPathError(
        join(outDir, f),
        `would overwrite the input ${input}; choose another --out (nothing was written)`,
      );
  }
}

/** Command-line overrides of an arms spec. */
export interface ArmsSpecOverrides {
  seed?: number | string;
  arms?: string[];
}

/** Applies overrides to a loaded spec and re-validates; a bad override throws `ConfigError` naming the option. */
export function overrideArmsSpec(spec: ArmsSpec, overrides: ArmsSpecOverrides): ArmsSpec {
  const merged = {
    ...spec,
    ...(overrides.seed !== undefined ? { seed: overrides.seed } : {}),
    ...(overrides.arms !== undefined ? { arms: overrides.arms } : {}),
  };
  const r = ArmsSpecSchema.safeParse(merged);
  if (r.success) return r.data;
  const { field, message } = describeZodError(r.error);
  throw new ConfigError(`--${field.split(/[.[]/)[0] || "spec"}`, field, message);
}

/** The whole `mst arms` job: read the spec and samples, build the arms, write them to `outDir`. */
export async function buildArmsFromFiles(
  specFile: string,
  samplesFile: string,
  outDir: string,
  overrides: ArmsSpecOverrides = {},
  options: { force?: boolean } = {},
): Promise<ArmsResult> {
  const spec = overrideArmsSpec(loadArmsSpec(specFile), overrides);
  const { samples, lines } = await readSamples(samplesFile);
  const result = buildArms(samples, spec, { source: samplesFile, lines });
  const files = [...result.manifest.arms.map((a) => a.file), "manifest.json"];
  checkArmsOutput(outDir, files, [specFile, samplesFile], options.force ?? false);
  writeArms(outDir, result);
  return result;
}
