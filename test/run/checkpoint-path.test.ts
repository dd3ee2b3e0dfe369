/**
 * A relative base.checkpoint is a path from the spec's folder (as every path in a spec is), not from the working
 * folder: resolved when the spec is loaded, stored absolute in spec.resolved.json, and written absolute into what
 * `mst export` produces, so the recipes work from the export folder.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportSpec } from "../../src/interop/export.js";
import { loadSpecFile, resolveSpec } from "../../src/run/spec.js";

const root = mkdtempSync(join(tmpdir(), "mst-ckpt-path-"));
test.after(() => rmSync(root, { recursive: true, force: true }));

function specAt(rel: string, checkpoint: string, task = "sycophancy", preset = "micro"): string {
  const file = join(root, rel);
  mkdirSync(join(file, ".."), { recursive: true });
  writeFileSync(
    file,
    `task: ${task}\npreset: ${preset}\narms: [mst]\nseeds: [0]\nbaseSeeds: [0]\noverrides:\n  base: { checkpoint: ${JSON.stringify(checkpoint)} }\n`,
  );
  return file;
}
const checkpointOf = async (file: string) =>
  ((await resolveSpec({ spec: loadSpecFile(file) })).resolved.config as { base: { checkpoint: string | null } }).base
    .checkpoint;

test("a relative base.checkpoint resolves from the spec's folder, whatever the working folder", async () => {
  // the test runs from the repository: a working-folder resolution would give <repo>/../models/qwen
  assert.equal(await checkpointOf(specAt("specs/exp.yaml", "../models/qwen")), join(root, "models", "qwen"));
  assert.equal(await checkpointOf(specAt("specs/deep/exp.yaml", "./qwen")), join(root, "specs", "deep", "qwen"));
  assert.equal(await checkpointOf(specAt("specs/abs.yaml", "/opt/models/qwen")), "/opt/models/qwen");
  assert.equal(
    await checkpointOf(specAt("specs/pb.yaml", "models/pb", "political-bias", "quick")),
    join(root, "specs", "models", "pb"),
  );
});

test("mst export writes the absolute checkpoint into its recipes and manifest, never the spec-relative text", async () => {
  const spec = specAt("specs/export.yaml", "../models/qwen");
  const want = join(root, "models", "qwen");
  for (const target of ["trl", "openrlhf", "verl"]) {
    const out = join(root, `export-${target}`);
    await exportSpec({ spec, target, out });
    // every recipe file (not the data), and the manifest without spec.source (the spec as written, kept as provenance)
    const files = readdirSync(out, { recursive: true })
      .map(String)
      .filter((f) => !/\.(jsonl|parquet)$/.test(f) && f !== "manifest.json" && statSync(join(out, f)).isFile());
    const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8")) as { spec: { source?: unknown } };
    delete manifest.spec.source;
    const texts = [...files.map((f) => readFileSync(join(out, f), "utf8")), JSON.stringify(manifest)].join("\n");
    assert.ok(texts.includes(want), `${target}: ${want} is not in the recipe`);
    assert.ok(!texts.includes("../models/qwen"), `${target}: the spec-relative path leaked into the recipe`);
  }
});
