/**
 * `mst job run <run-dir> <job-id>` (what a cluster node runs): re-plans the job from spec.resolved.json, reads its
 * dependencies' results, writes the same result.json a local worker wrote; a failure leaves error.json; an unknown
 * job or a missing dependency is named.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { NoProgress } from "../../src/run/progress.js";
import { startRun } from "../../src/run/runner.js";
import { parseSpec, resolveSpec } from "../../src/run/spec.js";
import { TOY_TASK } from "../fixtures/toy-task.js";

const MST = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

const mstJob = (...args: string[]) =>
  spawnSync(process.execPath, [MST, "job", "run", ...args], {
    encoding: "utf8",
    env: { ...process.env, MST_THREADS: "1" },
  });

test("mst job run re-runs one job of a run to the same result, and names what is wrong", async (t) => {
  const root = mkdtempSync(join(tmpdir(), "mst-job-run-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const dir = join(root, "run");
  const text = `task: ${JSON.stringify(TOY_TASK)}\npreset: quick\narms: [baseline, mst]\nseeds: [0]\n`;
  const { resolved } = await resolveSpec({ spec: parseSpec(text, "toy.yaml") });
  await startRun(resolved, dir, { progress: new NoProgress(), report: false, jobs: 2 });

  const id = "train-mst-b0-s0";
  const result = join(dir, "jobs", id, "result.json");
  const before = readFileSync(result, "utf8");
  const metrics = readFileSync(join(dir, "jobs", id, "metrics.jsonl"), "utf8");
  rmSync(result);
  writeFileSync(join(dir, "jobs", id, "leftover.tmp"), "partial");
  const r = mstJob(dir, id);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /mst job run: train-mst-b0-s0 \(train mst b0 s0\) .*1 thread/);
  assert.equal(readFileSync(result, "utf8"), before, "the same result as the local worker's");
  assert.equal(readFileSync(join(dir, "jobs", id, "metrics.jsonl"), "utf8"), metrics);
  assert.ok(!existsSync(join(dir, "jobs", id, "leftover.tmp")), "an earlier attempt's files are cleared");
  assert.ok(existsSync(join(dir, "jobs", id, "progress.json")));

  const unknown = mstJob(dir, "train-nope-b0-s0");
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /spec\.resolved\.json: the run's plan has no job "train-nope-b0-s0"/);

  rmSync(join(dir, "jobs", "base-b0", "result.json"));
  const noDep = mstJob(dir, id);
  assert.notEqual(noDep.status, 0);
  assert.match(
    noDep.stderr,
    /base-b0[/\\]result\.json: job train-mst-b0-s0 needs the result of job base-b0, which has none/,
  );
});

test("mst job run uses the run's matrix-product backend when MST_GEMM is unset, as the local workers did", async (t) => {
  const root = mkdtempSync(join(tmpdir(), "mst-job-run-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const dir = join(root, "run");
  const text = `task: ${JSON.stringify(TOY_TASK)}\npreset: quick\narms: [mst]\nseeds: [0]\noverrides: { gemm: typescript }\n`;
  const { resolved } = await resolveSpec({ spec: parseSpec(text, "toy.yaml") });
  const saved = process.env.MST_GEMM;
  delete process.env.MST_GEMM;
  t.after(() => (saved === undefined ? delete process.env.MST_GEMM : (process.env.MST_GEMM = saved)));
  await startRun(resolved, dir, { progress: new NoProgress(), report: false, jobs: 1 });
  const result = join(dir, "jobs", "base-b0", "result.json");
  assert.equal(JSON.parse(readFileSync(result, "utf8")).gemm, "typescript", "the local worker's backend");
  const before = readFileSync(result, "utf8");
  rmSync(result);
  const { MST_GEMM: _unset, ...env } = process.env;
  const r = spawnSync(process.execPath, [MST, "job", "run", dir, "base-b0"], { encoding: "utf8", env });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(result, "utf8"), before);
  // set by the user (or the slurm script), MST_GEMM wins, as it does for a local run
  const wasm = spawnSync(process.execPath, [MST, "job", "run", dir, "base-b0"], {
    encoding: "utf8",
    env: { ...env, MST_GEMM: "wasm" },
  });
  assert.equal(wasm.status, 0, wasm.stderr);
  assert.equal(JSON.parse(readFileSync(result, "utf8")).gemm, "wasm");
  const bad = spawnSync(process.execPath, [MST, "job", "run", dir, "base-b0"], {
    encoding: "utf8",
    env: { ...env, MST_GEMM: "fastest" },
  });
  assert.equal(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /MST_GEMM=fastest: expected one of/);
  // and `mst run` refuses it before it makes the run directory
  const specFile = join(root, "toy.yaml");
  writeFileSync(specFile, text);
  const fresh = join(root, "never");
  const run = spawnSync(process.execPath, [MST, "run", "--spec", specFile, "--out", fresh], {
    encoding: "utf8",
    env: { ...env, MST_GEMM: "fastest" },
  });
  assert.equal(run.status, 2, run.stderr);
  assert.match(run.stderr, /MST_GEMM=fastest: expected one of/);
  assert.ok(!existsSync(fresh));
});

test("a job that fails under mst job run leaves error.json with its message and whether a resume can help", async (t) => {
  const root = mkdtempSync(join(tmpdir(), "mst-job-run-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const dir = join(root, "run");
  const text = `task: ${JSON.stringify(TOY_TASK)}\npreset: quick\narms: [mst]\nseeds: [0]\noverrides: { failJob: eval-mst-b0-s0 }\n`;
  const { resolved } = await resolveSpec({ spec: parseSpec(text, "toy.yaml") });
  await assert.rejects(startRun(resolved, dir, { progress: new NoProgress(), report: false, jobs: 1 }));
  const r = mstJob(dir, "eval-mst-b0-s0");
  assert.equal(r.status, 1);
  const err = JSON.parse(readFileSync(join(dir, "jobs", "eval-mst-b0-s0", "error.json"), "utf8"));
  assert.match(err.message, /toy job eval-mst-b0-s0 failed on purpose/);
  assert.equal(err.resumable, false);
});
