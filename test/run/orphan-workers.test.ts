/**
 * Workers never outlive their runner: after a real kill -9 of `mst run`, workers busy in a synchronous training step
 * (no event loop turn, so no IPC 'disconnect') stop within a second or two, and the run lock covers them: a resume
 * started at once waits for them, and one that finds a dead runner's worker still alive is refused naming its pid.
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { RunLockedError } from "../../src/run/errors.js";
import { NoProgress } from "../../src/run/progress.js";
import { acquireRunLock } from "../../src/run/run-lock.js";
import { resumeRun, startRun } from "../../src/run/runner.js";
import { parseSpec, resolveSpec } from "../../src/run/spec.js";
import { TOY_TASK } from "../fixtures/toy-task.js";

const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
const quiet = { progress: new NoProgress(), report: false, jobs: 2 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "mst-orphans-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
const lockOf = (dir: string): { pid: number; workers?: number[] } | null => {
  try {
    return JSON.parse(readFileSync(join(dir, "run.lock"), "utf8")) as { pid: number; workers?: number[] };
  } catch {
    return null;
  }
};

test("kill -9 of mst run: its spinning workers stop by themselves, and a resume started at once completes the run", async (t) => {
  const root = tempDir(t);
  const dir = join(root, "run");
  const spec = join(root, "spec.yaml");
  // each train job spins its main thread for 30 s: without the parent watcher its worker would live that long
  writeFileSync(
    spec,
    `task: ${JSON.stringify(TOY_TASK)}\narms: [baseline, mst]\nseeds: [0]\noverrides:\n  steps: 4\n  spinMs: 30000\n`,
  );
  const runner = spawn(process.execPath, [CLI, "run", "--spec", spec, "--out", dir, "--jobs", "2"], {
    stdio: "ignore",
  });
  let workers: number[] = [];
  t.after(() => {
    for (const p of [runner.pid!, ...workers]) if (alive(p)) process.kill(p, "SIGKILL");
  });
  const deadline = Date.now() + 60_000;
  // both train jobs are in their synchronous spin (metrics.jsonl is created just before it) and the lock lists them
  for (;;) {
    assert.ok(Date.now() < deadline, "the train jobs never started");
    workers = lockOf(dir)?.workers ?? [];
    const spinning = ["train-baseline-b0-s0", "train-mst-b0-s0"].every((id) =>
      existsSync(join(dir, "jobs", id, "metrics.jsonl")),
    );
    if (spinning && workers.length === 2) break;
    await sleep(20);
  }
  assert.ok(workers.every(alive));
  const killedAt = Date.now();
  runner.kill("SIGKILL");
  // a resume at once (with the spin turned off so it is quick): it must not run beside the orphaned workers
  const specFile = join(dir, "spec.resolved.json");
  const stored = JSON.parse(readFileSync(specFile, "utf8")) as { config: Record<string, unknown> };
  stored.config.spinMs = 0;
  writeFileSync(specFile, JSON.stringify(stored));
  const resume = spawn(process.execPath, [CLI, "run", "--resume", dir, "--jobs", "2"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  resume.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const status = new Promise<number | null>((r) => resume.once("exit", (code) => r(code)));
  while (workers.some(alive)) await sleep(20);
  const goneAfter = Date.now() - killedAt;
  console.log(`orphaned workers gone ${goneAfter} ms after the kill`);
  // the workers stopped long before their 30 s spin could end: the watcher stopped them, not the end of the spin
  assert.ok(goneAfter < 10_000, `the orphaned workers lived ${goneAfter} ms after the kill`);
  assert.equal(await status, 0, stderr);
  assert.ok(existsSync(join(dir, "results.json")));
  const log = readFileSync(join(dir, "run.log"), "utf8");
  assert.match(log, /resume: task/);
});

test("a dead runner's worker still alive holds the lock: a resume waits for it, or is refused naming its pid", async (t) => {
  const dir = join(tempDir(t), "run");
  const { resolved } = await resolveSpec({
    spec: parseSpec(`task: ${JSON.stringify(TOY_TASK)}\npreset: quick\narms: [baseline, mst]\nseeds: [0]\n`, "t.yaml"),
  });
  await startRun(resolved, dir, quiet);
  rmSync(join(dir, "results.json"));
  const gone = spawnSync(process.execPath, ["-e", "0"]).pid!;
  // a "worker" (a sleeping process) that outlives its dead runner and stops after 1 s: the resume waits, then runs.
  // Started through sh so that, as an orphaned worker is, it is no child of ours (init reaps it when it ends).
  const brief = Number(spawnSync("sh", ["-c", "sleep 1 >/dev/null 2>&1 & echo $!"], { encoding: "utf8" }).stdout);
  writeFileSync(join(dir, "run.lock"), JSON.stringify({ pid: gone, host: hostname(), workers: [brief] }));
  const t0 = Date.now();
  const out = await resumeRun(dir, quiet);
  assert.ok(Date.now() - t0 >= 500, "the resume waited for the worker");
  assert.equal(out.reused, 5);
  // one that does not stop: refused after the wait, naming the worker's pid (exit code 1 from the CLI)
  const stubborn = spawn("sleep", ["30"], { stdio: "ignore" });
  t.after(() => stubborn.kill("SIGKILL"));
  writeFileSync(join(dir, "run.lock"), JSON.stringify({ pid: gone, host: hostname(), workers: [gone, stubborn.pid] }));
  assert.throws(
    () => acquireRunLock(dir, 300),
    (e: unknown) => {
      assert.ok(e instanceof RunLockedError);
      assert.equal(e.pid, stubborn.pid);
      assert.match(
        e.message,
        new RegExp(`worker process ${stubborn.pid} of a run whose runner is gone is still running`),
      );
      return true;
    },
  );
  const cli = spawnSync(process.execPath, [CLI, "run", "--resume", dir], { encoding: "utf8" });
  assert.equal(cli.status, 1, cli.stderr);
  assert.match(cli.stderr, new RegExp(`^mst: .*run\\.lock: worker process ${stubborn.pid} `));
  assert.equal(cli.stderr.trim().split("\n").length, 1);
  stubborn.kill("SIGKILL");
});
