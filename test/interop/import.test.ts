/**
 * `mst import`: adapters "trained elsewhere" come back into a run directory the kit's eval reads. Round trip: a micro
 * run trains its arms here; its adapters are placed where the exported TRL/verl jobs would write theirs; `mst import`
 * builds a new run directory from the export (bases copied, adapters loaded against them and re-saved); `mst run
 * --resume` then evaluates them, and every evaluation equals the original run's.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { exportSpec } from "../../src/interop/export.js";
import { ImportError, importRuns, pickAdapter } from "../../src/interop/import.js";
import { NoProgress } from "../../src/run/progress.js";
import { resumeRun, startRun } from "../../src/run/runner.js";
import { loadSpecFile, resolveSpec } from "../../src/run/spec.js";
import { SYC_MICRO, specFile, tempDir } from "./helpers.js";

const JOBS = ["train-baseline-b0-s0", "train-mst-b0-s0", "train-shuffled-b0-s0"];

test(
  "adapters from an export directory come back into a run that evaluates exactly like the original",
  { timeout: 600_000 },
  async () => {
    const dir = tempDir("import");
    const spec = specFile(dir, "syc.yaml", SYC_MICRO);
    const runA = join(dir, "runA");
    const { resolved } = await resolveSpec({ spec: loadSpecFile(spec) });
    await startRun(resolved, runA, { progress: new NoProgress(), report: false, jobs: 2 });

    const exp = join(dir, "export");
    await exportSpec({ spec, target: "verl", out: exp });
    // where an engine leaves adapters: verl checkpoints (newest global_step wins) ...
    for (const id of JOBS) {
      const out = join(exp, "jobs", id, "output");
      cpSync(join(runA, "jobs", id, "adapter"), join(out, "global_step_3", "actor", "lora_adapter"), {
        recursive: true,
      });
      // ... an older checkpoint that must not be picked: another job's adapter
      cpSync(
        join(runA, "jobs", JOBS[(JOBS.indexOf(id) + 1) % 3], "adapter"),
        join(out, "global_step_1", "actor", "lora_adapter"),
        { recursive: true },
      );
    }
    assert.match(pickAdapter(join(exp, "jobs", JOBS[0], "output"))!, /global_step_3/);

    await assert.rejects(importRuns({ target: "trl", dir: exp, out: join(dir, "x") }), /exported for verl/);
    await assert.rejects(importRuns({ target: "openai", dir: exp, out: join(dir, "x") }), ImportError);

    const runB = join(dir, "runB");
    const r = await importRuns({ target: "verl", dir: exp, out: runB, bases: runA });
    assert.deepEqual(r.imported, JOBS);
    assert.equal(r.verified, 3);
    for (const id of JOBS) {
      assert.ok(existsSync(join(runB, "jobs", id, "adapter", "adapter_model.safetensors")));
      // trained in runA on runA's base, imported onto --bases runA: both name that base (not null)
      for (const run of [runA, runB]) {
        const ac = JSON.parse(readFileSync(join(run, "jobs", id, "adapter", "adapter_config.json"), "utf8")) as {
          base_model_name_or_path: unknown;
        };
        assert.equal(ac.base_model_name_or_path, resolve(runA, "jobs", "base-b0", "model"), `${run} ${id}`);
      }
    }

    const outcome = await resumeRun(runB, { progress: new NoProgress(), report: false, jobs: 2 });
    // only the evaluations ran: 3 arms + prompt-only + the base's; bases and train jobs were imported
    assert.equal(outcome.ran, 5);
    for (const id of ["eval-baseline-b0-s0", "eval-mst-b0-s0", "eval-shuffled-b0-s0", "eval-prompt-only-b0-s0"]) {
      const a = JSON.parse(readFileSync(join(runA, "jobs", id, "result.json"), "utf8"));
      const b = JSON.parse(readFileSync(join(runB, "jobs", id, "result.json"), "utf8"));
      assert.deepEqual(b, a, id);
    }
    const results = JSON.parse(readFileSync(join(runB, "results.json"), "utf8"));
    assert.equal(results.task, "sycophancy");
  },
);

test("a job without an adapter is an error naming it, unless --partial", async () => {
  const dir = tempDir("import-missing");
  const spec = specFile(dir, "syc.yaml", SYC_MICRO);
  const exp = join(dir, "export");
  await exportSpec({ spec, target: "trl", out: exp });
  await assert.rejects(
    importRuns({ target: "trl", dir: exp, out: join(dir, "run") }),
    /no adapter .* for 3 job\(s\): train-baseline-b0-s0/,
  );
  mkdirSync(join(exp, "jobs", JOBS[1], "output"), { recursive: true });
  const r = await importRuns({ target: "trl", dir: exp, out: join(dir, "run2"), partial: true });
  assert.deepEqual(r.imported, []);
  assert.deepEqual(r.missing, JOBS);
  assert.ok(existsSync(join(dir, "run2", "spec.resolved.json")));
});
