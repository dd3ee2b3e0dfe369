/** Runner: refuses to overwrite, a failing job stops the run naming the job (log kept), fix + resume completes. */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { JobFailedError, NotARunDirError, RunDirExistsError } from "../../src/run/errors.js";
import { listRuns } from "../../src/run/list-runs.js";
import { NoProgress } from "../../src/run/progress.js";
import { resumeRun, startRun } from "../../src/run/runner.js";
import { checkPlan, threadsFor } from "../../src/run/scheduler.js";
import { parseSpec, resolveSpec, type ResolvedSpec } from "../../src/run/spec.js";
import { TOY_TASK } from "../fixtures/toy-task.js";

const quiet = { progress: new NoProgress(), report: false, jobs: 2 };

async function toySpec(extra = "", seeds = "[0]"): Promise<ResolvedSpec> {
  const text = `task: ${JSON.stringify(TOY_TASK)}\npreset: quick\narms: [baseline, mst]\nseeds: ${seeds}\n${extra}`;
  return (await resolveSpec({ spec: parseSpec(text, "test.yaml") })).resolved;
}

/** A fresh temp directory, removed when test `t` ends. */
function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "mst-run-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test("refuses to overwrite an existing run directory without force; force replaces only a run directory", async (t) => {
  const root = tempDir(t);
  const dir = join(root, "run");
  mkdirSync(dir);
  writeFileSync(join(dir, "precious.txt"), "keep me");
  await assert.rejects(startRun(await toySpec(), dir, quiet), (e: unknown) => {
    assert.ok(e instanceof RunDirExistsError);
    assert.match(e.message, /not an empty folder nor an mst run directory/);
    return true;
  });
  // --force never deletes a folder that is not a run directory
  await assert.rejects(startRun(await toySpec(), dir, { ...quiet, force: true }), (e: unknown) => {
    assert.ok(e instanceof NotARunDirError);
    assert.match(e.message, /run[/\\]?: not an mst run directory .*nothing was touched/);
    return true;
  });
  assert.equal(readFileSync(join(dir, "precious.txt"), "utf8"), "keep me");
  rmSync(join(dir, "precious.txt"));
  await startRun(await toySpec(), dir, quiet);
  await assert.rejects(startRun(await toySpec(), dir, quiet), /already exists; pass --force/);
  const out = await startRun(await toySpec(), dir, { ...quiet, force: true });
  assert.equal(out.ran, 5);
  assert.ok(existsSync(join(dir, "results.json")));
  assert.ok(existsSync(join(dir, "env.json")));
  assert.ok(!existsSync(join(dir, "run.lock")), "the lock is released when the run ends");
  const env = JSON.parse(readFileSync(join(dir, "env.json"), "utf8")) as Record<string, unknown>;
  assert.equal(env.node, process.version);
  assert.equal(typeof env.blas, "string");
  const gemm = env.gemm as { backend: string; reason: string };
  assert.equal(gemm.backend, env.blas);
  assert.equal(typeof gemm.reason, "string");
});

test("a failing job stops the run naming the job; its log is kept; fix + resume reuses finished jobs", async (t) => {
  const root = tempDir(t);
  const dir = join(root, "run");
  const spec = await toySpec("overrides: { failJob: eval-mst-b0-s0 }\n");
  await assert.rejects(startRun(spec, dir, quiet), (e: unknown) => {
    assert.ok(e instanceof JobFailedError);
    assert.equal(e.jobId, "eval-mst-b0-s0");
    assert.match(e.message.split("\n")[0], /job eval-mst-b0-s0 failed: toy job eval-mst-b0-s0 failed on purpose/);
    // the job failed on its own config: resuming cannot help, so the message does not suggest it
    assert.match(e.message.split("\n")[0], /resuming would fail the same way/);
    assert.doesNotMatch(e.message, /--resume/);
    return true;
  });
  const log = readFileSync(join(dir, "jobs", "eval-mst-b0-s0", "log.txt"), "utf8");
  assert.match(log, /failed on purpose/);
  assert.match(log, /at runToyJob|runJob/); // the stack trace landed in the job's log
  assert.ok(existsSync(join(dir, "jobs", "train-mst-b0-s0", "result.json")));
  assert.ok(!existsSync(join(dir, "results.json")));
  const listed = await listRuns(root);
  assert.equal(listed.length, 1);
  assert.equal(listed[0].status, "partial");
  assert.equal(listed[0].total, 5);

  // "Fix" the run (turn the failure off in the stored spec) and resume: only the unfinished jobs run.
  const specFile = join(dir, "spec.resolved.json");
  const stored = JSON.parse(readFileSync(specFile, "utf8")) as { config: Record<string, unknown> };
  stored.config.failJob = null;
  writeFileSync(specFile, JSON.stringify(stored, null, 2));
  const done = listed[0].done;
  const out = await resumeRun(dir, quiet);
  assert.equal(out.reused, done);
  assert.equal(out.ran, 5 - done);
  assert.equal((await listRuns(root))[0].status, "complete");
  assert.ok(Object.keys(out.results.headline).length > 0);
});

test("resume of a directory that is not a run names the missing file", async (t) => {
  const dir = tempDir(t);
  await assert.rejects(resumeRun(dir, quiet), /spec\.resolved\.json: missing: not a run directory/);
});

test("plan checks: duplicate ids, unknown deps and cycles are rejected; threads share the cores", () => {
  const j = (id: string, deps: string[] = []) => ({ id, kind: "k", deps, params: {}, title: id });
  assert.deepEqual(
    checkPlan([j("b", ["a"]), j("a")]).map((x) => x.id),
    ["a", "b"],
  );
  assert.throws(() => checkPlan([j("a"), j("a")]), /duplicate job id "a"/);
  assert.throws(() => checkPlan([j("a", ["zz"])]), /depends on unknown job "zz"/);
  assert.throws(() => checkPlan([j("a", ["b"]), j("b", ["a"])]), /dependency cycle/);
  assert.throws(() => checkPlan([j("../x")]), /not filesystem-safe/);
  assert.equal(threadsFor(2, 1), 2);
  assert.equal(threadsFor(2, 2), 1);
  assert.equal(threadsFor(8, 3), 2);
  assert.equal(threadsFor(2, 5), 1);
});

test("workers get BLAS threads in their environment: cores / --jobs for every job, whatever else is runnable", async (t) => {
  const dir = join(tempDir(t), "run");
  await startRun(await toySpec("", "[0, 1]"), dir, quiet);
  const env = (id: string) =>
    JSON.parse(readFileSync(join(dir, "jobs", id, "worker-env.json"), "utf8")) as Record<string, unknown>;
  const cores = availableParallelism();
  // The same share for the base job (alone at the start), the train jobs (four runnable at once) and the last eval
  // job: a count that followed what is runnable would depend on timing, and OpenBLAS's Haswell/Zen kernels give
  // different numbers with different thread counts.
  const share = threadsFor(cores, 2);
  const jobIds = ["base-b0", "train-mst-b0-s0", "train-baseline-b0-s1", "eval-mst-b0-s1", "eval-baseline-b0-s0"];
  for (const id of jobIds) {
    assert.deepEqual(env(id), { threads: share, MST_THREADS: String(share), OPENBLAS_NUM_THREADS: String(share) }, id);
  }
  // One job at a time: every job gets every core.
  const solo = join(tempDir(t), "run");
  await startRun(await toySpec(), solo, { ...quiet, jobs: 1 });
  const soloEnv = JSON.parse(readFileSync(join(solo, "jobs", "train-mst-b0-s0", "worker-env.json"), "utf8")) as {
    threads: number;
  };
  assert.equal(soloEnv.threads, cores);
});
