/** kill -9 mid-run, then `mst run --resume`: results.json is byte-identical to an uninterrupted run's. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { NoProgress } from "../../src/run/progress.js";
import { startRun } from "../../src/run/runner.js";
import { loadSpecFile, resolveSpec } from "../../src/run/spec.js";
import { TOY_TASK } from "../fixtures/toy-task.js";

// dist/test/run/resume.test.js -> dist/src/cli/main.js, wherever the tests are run from
const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
// the toy task is a test fixture, run as a plug-in module (its absolute path is a valid YAML string in JSON form)
const SPEC = `task: ${JSON.stringify(TOY_TASK)}\narms: [baseline, mst]\nseeds: [0, 1]\noverrides:\n  steps: 12\n  sleepMs: 15\n`;

const finished = (dir: string): string[] =>
  existsSync(join(dir, "jobs"))
    ? readdirSync(join(dir, "jobs")).filter((id) => existsSync(join(dir, "jobs", id, "result.json")))
    : [];

test("a run killed with SIGKILL resumes to the same results.json as an uninterrupted run", async (t) => {
  const root = mkdtempSync(join(tmpdir(), "mst-resume-"));
  let child: ChildProcess | null = null;
  t.after(() => {
    // a failed assertion before the kill must not leave the detached run and its workers behind
    if (child !== null && child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, "SIGKILL");
    rmSync(root, { recursive: true, force: true });
  });
  const specFile = join(root, "spec.yaml");
  writeFileSync(specFile, SPEC);

  // Reference: the same spec, uninterrupted (in-process; the runner still forks its workers).
  const refDir = join(root, "ref");
  await startRun((await resolveSpec({ spec: loadSpecFile(specFile) })).resolved, refDir, {
    jobs: 2,
    progress: new NoProgress(),
    report: false,
  });

  // The CLI in its own process group, so one kill reaches it and its workers, like kill -9 on a terminal's job.
  const dir = join(root, "killed");
  // its stderr goes to a file, so a run that dies early says why
  const errFile = join(root, "killed-run.stderr");
  const errFd = openSync(errFile, "w");
  const run = spawn(process.execPath, [CLI, "run", "--spec", specFile, "--out", dir, "--jobs", "2"], {
    detached: true,
    stdio: ["ignore", "ignore", errFd],
  });
  child = run;
  closeSync(errFd);
  const deadline = Date.now() + 30_000;
  while (finished(dir).length < 3) {
    assert.ok(
      Date.now() < deadline,
      `the run did not finish 3 jobs within 30 s; stderr: ${readFileSync(errFile, "utf8")}`,
    );
    assert.equal(
      run.exitCode,
      null,
      `the run ended before it could be killed; stderr: ${readFileSync(errFile, "utf8")}`,
    );
    await new Promise((r) => setTimeout(r, 20));
  }
  process.kill(-run.pid!, "SIGKILL");
  await new Promise((r) => run.once("exit", r));
  const total = readdirSync(join(refDir, "jobs")).length;
  const before = finished(dir);
  assert.ok(before.length < total, `killed too late: ${before.length}/${total} jobs finished`);
  assert.ok(!existsSync(join(dir, "results.json")));
  const mtimes = new Map(before.map((id) => [id, statSync(join(dir, "jobs", id, "result.json")).mtimeMs]));
  // Mark every unfinished job directory: resume must clear and rerun them.
  const partial = readdirSync(join(dir, "jobs")).filter((id) => !before.includes(id));
  for (const id of partial) writeFileSync(join(dir, "jobs", id, "stale-marker"), "x");

  const r = spawnSync(process.execPath, [CLI, "run", "--resume", dir, "--jobs", "2"], { encoding: "utf8" });
  assert.equal(r.status, 0, `resume failed: ${r.stderr}`);
  assert.match(r.stdout, new RegExp(`${total - before.length} jobs run, ${before.length} reused`));

  assert.equal(readFileSync(join(dir, "results.json"), "utf8"), readFileSync(join(refDir, "results.json"), "utf8"));
  for (const [id, t] of mtimes) assert.equal(statSync(join(dir, "jobs", id, "result.json")).mtimeMs, t, `${id} rerun`);
  for (const id of partial) assert.ok(!existsSync(join(dir, "jobs", id, "stale-marker")), `${id} not cleared`);
  assert.ok(existsSync(join(dir, "report.html")));
  assert.ok(existsSync(join(dir, "summary.md")));
  // the summary the run wrote while it still held its own lock says what its results are, not "running"
  assert.match(readFileSync(join(dir, "summary.md"), "utf8"), /^Status: complete \(\d+\/\d+ jobs\)$/m);

  // `mst runs ROOT` lists both runs as complete with their headline numbers.
  const ls = spawnSync(process.execPath, [CLI, "runs", root], { encoding: "utf8" });
  assert.equal(ls.status, 0, ls.stderr);
  const lines = ls.stdout.trim().split("\n");
  assert.match(lines[0], /^run\s+task\s+preset\s+status\s+date \(UTC\)\s+headline$/);
  assert.equal(lines.length, 3);
  for (const l of lines.slice(1))
    assert.match(l, /toy\s+embedded\s+complete\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+sycophancy@0% baseline=/);
});
