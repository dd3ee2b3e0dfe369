/** The README's promise "same seeds, same bytes": two runs of each shipped task's quick preset give identical results.json. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NoProgress } from "../../src/run/progress.js";
import { startRun } from "../../src/run/runner.js";
import { parseSpec, resolveSpec } from "../../src/run/spec.js";

for (const [task, preset] of [
  ["sycophancy", "micro"],
  ["political-bias", "quick"],
] as const) {
  test(`${task} (${preset}): two runs give byte-identical results.json, with no wall-clock time in it`, async (t) => {
    const root = mkdtempSync(join(tmpdir(), "mst-det-"));
    t.after(() => rmSync(root, { recursive: true, force: true }));
    const text = `task: ${task}\npreset: ${preset}\nseeds: [0]\nbaseSeeds: [0]\narms: [baseline, mst]\n`;
    const bytes: string[] = [];
    for (const name of ["a", "b"]) {
      const { resolved } = await resolveSpec({ spec: parseSpec(text, "det.yaml") });
      await startRun(resolved, join(root, name), { progress: new NoProgress(), report: false, jobs: 2 });
      bytes.push(readFileSync(join(root, name, "results.json"), "utf8"));
    }
    assert.equal(bytes[0], bytes[1]);
    assert.doesNotMatch(bytes[0], /"seconds"|"wall|_s"/, "no timings in results.json");
  });
}
