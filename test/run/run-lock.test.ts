/** One process per run directory (run.lock), and a damaged result.json is never trusted by a resume. */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { RunDirError, RunLockedError } from "../../src/run/errors.js";
import { NoProgress } from "../../src/run/progress.js";
import { resumeRun, startRun } from "../../src/run/runner.js";
import { readResults, resultProblem } from "../../src/run/scheduler.js";
import { parseSpec, resolveSpec } from "../../src/run/spec.js";
import { loadTask } from "../../src/run/task-module.js";
import { TOY_TASK } from "../fixtures/toy-task.js";

const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
const quiet = { progress: new NoProgress(), report: false, jobs: 2 };
const toySpec = async (extra = "") =>
  (
    await resolveSpec({
      spec: parseSpec(
        `task: ${JSON.stringify(TOY_TASK)}\npreset: quick\narms: [baseline, mst]\nseeds: [0]\n${extra}`,
        "t.yaml",
      ),
    })
  ).resolved;

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "mst-lock-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test("a second process on a running run directory is refused with the holder's pid; nothing of the first is lost", async (t) => {
  const root = tempDir(t);
  const dir = join(root, "run");
  const spec = join(root, "spec.yaml");
  writeFileSync(
    spec,
    `task: ${JSON.stringify(TOY_TASK)}\narms: [baseline, mst]\nseeds: [0, 1]\noverrides:\n  steps: 12\n  sleepMs: 80\n`,
  );
  const first = spawn(process.execPath, [CLI, "run", "--spec", spec, "--out", dir, "--jobs", "1"], { stdio: "ignore" });
  t.after(() => {
    if (first.exitCode === null && first.signalCode === null) first.kill("SIGKILL");
  });
  const exited = new Promise<number | null>((r) => first.once("exit", (code) => r(code)));
  const deadline = Date.now() + 30_000;
  while (!existsSync(join(dir, "run.lock"))) {
    assert.ok(Date.now() < deadline, "the first run never took its lock");
    await new Promise((r) => setTimeout(r, 20));
  }
  for (const args of [
    ["run", "--resume", dir, "--jobs", "1"],
    ["run", "--spec", spec, "--out", dir, "--force"],
  ]) {
    const second = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });
    assert.equal(second.status, 1, second.stderr);
    assert.equal(second.stderr.split("\n").filter(Boolean).length, 1, second.stderr);
    assert.match(second.stderr, new RegExp(`run\\.lock: the run directory is in use by process ${first.pid}\\b`));
  }
  assert.equal(await exited, 0, "the first run finishes undisturbed");
  assert.ok(existsSync(join(dir, "results.json")));
  assert.ok(!existsSync(join(dir, "run.lock")), "released at the end");
});

test("a stale lock (its process is gone) is taken over; a live one is refused in-process too", async (t) => {
  const dir = join(tempDir(t), "run");
  await startRun(await toySpec(), dir, quiet);
  rmSync(join(dir, "results.json"));
  // a pid that is surely dead: a child that has already exited
  const gone = spawnSync(process.execPath, ["-e", "process.pid"]).pid!;
  writeFileSync(join(dir, "run.lock"), JSON.stringify({ pid: gone, host: hostname() }));
  const out = await resumeRun(dir, quiet);
  assert.equal(out.reused, 5);
  assert.ok(!existsSync(join(dir, "run.lock")));

  const sleeper = spawn("sleep", ["30"], { stdio: "ignore" });
  t.after(() => sleeper.kill("SIGKILL"));
  writeFileSync(join(dir, "run.lock"), JSON.stringify({ pid: sleeper.pid, host: hostname() }));
  await assert.rejects(resumeRun(dir, quiet), (e: unknown) => {
    assert.ok(e instanceof RunLockedError);
    assert.equal(e.pid, sleeper.pid);
    return true;
  });
  assert.ok(existsSync(join(dir, "results.json")), "the refused resume touched nothing");
});

test("a damaged result.json is named (job and file) and the job re-run on resume; results are read validated", async (t) => {
  const dir = join(tempDir(t), "run");
  await startRun(await toySpec(), dir, quiet);
  const resultFile = join(dir, "jobs", "eval-mst-b0-s0", "result.json");
  const good = readFileSync(resultFile, "utf8");
  const results = readFileSync(join(dir, "results.json"), "utf8");
  writeFileSync(resultFile, '{"metrics": [1, 2');
  rmSync(join(dir, "results.json"));
  const out = await resumeRun(dir, quiet);
  assert.equal(out.ran, 1);
  assert.equal(out.reused, 4);
  assert.equal(readFileSync(resultFile, "utf8"), good, "re-run to the same result");
  assert.equal(readFileSync(join(dir, "results.json"), "utf8"), results);
  const log = readFileSync(join(dir, "run.log"), "utf8");
  assert.match(
    log,
    /job eval-mst-b0-s0: jobs[/\\]eval-mst-b0-s0[/\\]result\.json is not valid JSON .*running the job again/,
  );

  // A task's resultSchema (the hook on the task contract) is checked on every read: a result that parses as JSON
  // but lacks what the job kind promises is named with its field, and readResults refuses it.
  const toy = await loadTask(TOY_TASK);
  const plan = toy.plan(toy.configSchema.parse((await toySpec()).config), {
    arms: ["baseline", "mst"],
    seeds: [0],
    baseSeeds: [0],
  });
  const evalJob = plan.find((j) => j.id === "eval-mst-b0-s0")!;
  const schema = (job: { kind: string }) =>
    job.kind === "eval" ? z.looseObject({ sweep: z.array(z.unknown()) }) : undefined;
  writeFileSync(resultFile, "{}\n");
  assert.match(
    resultProblem(dir, evalJob, schema) ?? "",
    /does not match the result schema of "eval" jobs \(field "sweep": required field is missing/,
  );
  assert.throws(
    () => readResults(dir, plan, schema),
    (e: unknown) =>
      e instanceof RunDirError && e.message.startsWith(`${resultFile}: job eval-mst-b0-s0: result does not match`),
  );
  writeFileSync(resultFile, "[1,");
  assert.throws(
    () => readResults(dir, plan),
    /eval-mst-b0-s0[/\\]result\.json: job eval-mst-b0-s0: result is not valid JSON/,
  );
  assert.deepEqual(readdirSync(join(dir, "jobs")).length, 5);
});

test("a result.json that is valid JSON but not what summarize expects: the error names the run and the likely cause", async (t) => {
  const dir = join(tempDir(t), "run");
  await startRun(await toySpec(), dir, quiet);
  writeFileSync(join(dir, "jobs", "eval-mst-b0-s0", "result.json"), "{}\n");
  rmSync(join(dir, "results.json"));
  await assert.rejects(resumeRun(dir, quiet), (e: unknown) => {
    assert.ok(e instanceof Error);
    assert.match(
      e.message,
      /: summarizing the job results failed: .* \(task "toy" declares no result schema, so a damaged jobs[/\\]<id>[/\\]result\.json is not caught earlier\)$/,
    );
    return true;
  });
});
