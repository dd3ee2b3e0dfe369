/**
 * The slurm executor on a real one-node SLURM cluster (slurm-cluster.ts): a toy run through sbatch equals the local run
 * bit for bit, a killed `mst run` resumes without submitting a job twice, a failing job and a job SLURM stops at its
 * time limit are named with SLURM's state and reason.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { JobFailedError } from "../../src/run/errors.js";
import { NoProgress } from "../../src/run/progress.js";
import { resumeRun, startRun } from "../../src/run/runner.js";
import { loadSpecFile, resolveSpec } from "../../src/run/spec.js";
import { makeCheckpoint } from "../fixtures/tiny-chat-checkpoint.js";
import { TOY_TASK } from "../fixtures/toy-task.js";
import { skipUnlessPython, testPython } from "../python-env.js";
import { type SlurmCluster, skipUnlessSlurm, startSlurmCluster } from "./slurm-cluster.js";

const skip = skipUnlessSlurm();
const MST = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
/** Files the executors write beside a job's own (they differ by executor by design: logs, scripts, ids). */
const EXECUTOR_FILES = new Set(["log.txt", "sbatch.sh", "slurm.json", "progress.json"]);

let cluster: SlurmCluster;
let root: string;

function writeSpec(name: string, body: string): string {
  const file = join(root, `${name}.yaml`);
  writeFileSync(file, `task: ${JSON.stringify(TOY_TASK)}\npreset: quick\narms: [baseline, mst]\nseeds: [0]\n${body}`);
  return file;
}

async function resolved(file: string, executor?: "local" | "slurm") {
  return (await resolveSpec({ spec: loadSpecFile(file), executor })).resolved;
}

const quiet = { progress: new NoProgress(), report: false };

/** Names of this cluster's jobs whose name starts with `prefix`, one entry per submission. */
function submissions(prefix: string): string[] {
  return cluster
    .cmd("squeue", ["--noheader", "--states=all", "--format=%j"])
    .split("\n")
    .map((s) => s.trim())
    .filter((s) => s.startsWith(prefix));
}

function jobPrefix(runDir: string): string {
  const m = /job names (mst-[0-9a-f]{8}-)/.exec(readFileSync(join(runDir, "run.log"), "utf8"));
  assert.ok(m, "run.log names the run's SLURM job-name prefix");
  return m[1];
}

/** Every file of every job directory except the executor's own, as text, by relative path. */
function jobFiles(runDir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const id of readdirSync(join(runDir, "jobs")).sort())
    for (const f of readdirSync(join(runDir, "jobs", id)).sort())
      if (!EXECUTOR_FILES.has(f)) out.set(`${id}/${f}`, readFileSync(join(runDir, "jobs", id, f), "utf8"));
  return out;
}

describe("slurm executor", { skip, concurrency: true }, () => {
  before(async () => {
    cluster = await startSlurmCluster();
    // the executor's sbatch/squeue calls (in this process) and the `mst run` children talk to the test cluster
    process.env.SLURM_CONF = cluster.conf;
    root = mkdtempSync(join(tmpdir(), "mst-slurm-runs-"));
  });
  after(async () => {
    await cluster?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  test("a toy run through sbatch equals the local run bit for bit, with per-kind resources and afterok edges", async () => {
    const file = writeSpec(
      "same",
      'executor: { kind: slurm, pollSeconds: 0.3, time: "30", kinds: { eval: { time: "00:20:00" } } }\n',
    );
    const local = join(root, "same-local");
    const slurm = join(root, "same-slurm");
    const [a, b] = await Promise.all([
      startRun(await resolved(file, "local"), local, { ...quiet, jobs: 2 }),
      startRun(await resolved(file), slurm, quiet),
    ]);
    assert.equal(a.ran, 5);
    assert.equal(b.ran, 5);
    assert.equal(readFileSync(join(slurm, "results.json"), "utf8"), readFileSync(join(local, "results.json"), "utf8"));
    const [la, sb] = [jobFiles(local), jobFiles(slurm)];
    assert.deepEqual([...sb.keys()], [...la.keys()]);
    for (const [k, v] of la) assert.equal(sb.get(k), v, `jobs/${k} differs between the executors`);
    // a local run's spec.resolved.json has no executor key (unchanged format); the slurm run's keeps its settings
    assert.equal(JSON.parse(readFileSync(join(local, "spec.resolved.json"), "utf8")).executor, undefined);
    assert.equal(JSON.parse(readFileSync(join(slurm, "spec.resolved.json"), "utf8")).executor.kind, "slurm");
    const log = readFileSync(join(slurm, "run.log"), "utf8");
    const ids = new Map([...log.matchAll(/submitted (\S+) as SLURM job (\d+)/g)].map((m) => [m[1], m[2]]));
    assert.equal(ids.size, 5);
    assert.match(log, new RegExp(`submitted train-mst-b0-s0 as SLURM job \\d+ \\(after ${ids.get("base-b0")}\\)`));
    assert.match(
      log,
      new RegExp(`submitted eval-mst-b0-s0 as SLURM job \\d+ \\(after ${ids.get("train-mst-b0-s0")}\\)`),
    );
    // resources per job kind: eval jobs got their own time limit, the others the executor's
    const limit = (id: string) =>
      /TimeLimit=(\S+)/.exec(cluster.cmd("scontrol", ["--oneliner", "show", "job", id]))?.[1];
    assert.equal(limit(ids.get("eval-mst-b0-s0")!), "00:20:00");
    assert.equal(limit(ids.get("train-mst-b0-s0")!), "00:30:00");
    assert.match(readFileSync(join(slurm, "jobs", "base-b0", "log.txt"), "utf8"), /base b0: quality/);
    assert.deepEqual(submissions(jobPrefix(slurm)).length, 5);
  });

  for (const signal of ["SIGKILL", "SIGINT"] as const)
    test(`an mst run stopped by ${signal} is resumed: queued and running jobs are adopted, none is submitted twice`, async () => {
      const name = `stop-${signal}`;
      const file = writeSpec(name, "overrides: { sleepMs: 400 }\nexecutor: { kind: slurm, pollSeconds: 0.3 }\n");
      const dir = join(root, name);
      // stdin is not a terminal: Ctrl-C (SIGINT) does not ask, it leaves the jobs to finish and says so
      const child = spawn(process.execPath, [MST, "run", "--spec", file, "--out", dir], {
        env: cluster.env,
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
      const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
      const runLog = join(dir, "run.log");
      const deadline = Date.now() + 60_000;
      // stop it once every job is submitted and the first has finished: the rest are queued or running
      while (!(existsSync(runLog) && /done base-b0/.test(readFileSync(runLog, "utf8")))) {
        assert.ok(Date.now() < deadline, "the run did not get going");
        await new Promise((r) => setTimeout(r, 100));
      }
      child.kill(signal);
      const code = await exited;
      if (signal === "SIGINT") {
        assert.equal(code, 130);
        assert.match(
          stderr,
          /left \d+ SLURM jobs queued or running \([\d, ]+\); --resume adopts them, scancel stops them/,
        );
        assert.match(stderr, /Continue with: mst run --resume/);
      }
      assert.ok(!existsSync(join(dir, "results.json")));
      const out = await resumeRun(dir, quiet);
      const log = readFileSync(runLog, "utf8");
      const adopted = [...log.matchAll(/adopted (\S+): SLURM job/g)].map((m) => m[1]);
      assert.ok(adopted.length >= 1, `the resume adopted the queued/running jobs:\n${log}`);
      assert.equal(out.reused + out.ran, 5);
      // one submission per job in all: nothing submitted twice
      const names = submissions(jobPrefix(dir)).sort();
      assert.equal(names.length, 5, names.join(", "));
      assert.equal(new Set(names).size, 5);
      assert.ok(existsSync(join(dir, "results.json")));
    });

  test("a job cancelled on the cluster is named so; --resume submits it again and finishes the run", async () => {
    const file = writeSpec("cancel", "overrides: { sleepMs: 300 }\nexecutor: { kind: slurm, pollSeconds: 0.3 }\n");
    const dir = join(root, "cancel");
    const runLog = join(dir, "run.log");
    const run = startRun(await resolved(file), dir, quiet);
    const failed = assert.rejects(run, (e: unknown) => {
      assert.ok(e instanceof JobFailedError, String(e));
      assert.equal(e.jobId, "eval-mst-b0-s0");
      assert.match(e.message, /SLURM job \d+ CANCELLED.*: it was cancelled \(scancel, or an administrator\)/);
      assert.match(e.message, /--resume/, "a cancelled job can run again");
      return true;
    });
    // an operator cancels the last job of a chain while it waits for its dependencies
    const deadline = Date.now() + 60_000;
    let id: string | undefined;
    while (id === undefined) {
      assert.ok(Date.now() < deadline, "eval-mst-b0-s0 was not submitted");
      await new Promise((r) => setTimeout(r, 50));
      if (existsSync(runLog))
        id = /submitted eval-mst-b0-s0 as SLURM job (\d+)/.exec(readFileSync(runLog, "utf8"))?.[1];
    }
    cluster.cmd("scancel", [id]);
    await failed;
    await resumeRun(dir, quiet);
    const log = readFileSync(runLog, "utf8");
    const submitted = [...log.matchAll(/submitted (\S+) as SLURM job/g)].map((m) => m[1]);
    assert.equal(submitted.filter((j) => j === "eval-mst-b0-s0").length, 2, "submitted again after the cancel");
    assert.equal(submitted.length, 6, "every other job once (finished, or adopted by the resume)");
    assert.ok(existsSync(join(dir, "results.json")));
  });

  test("a job that fails under SLURM is named with its error and SLURM's state; its dependents are cancelled", async () => {
    const file = writeSpec(
      "fail",
      "overrides: { failJob: train-mst-b0-s0 }\nexecutor: { kind: slurm, pollSeconds: 0.3 }\n",
    );
    const dir = join(root, "fail");
    await assert.rejects(startRun(await resolved(file), dir, quiet), (e: unknown) => {
      assert.ok(e instanceof JobFailedError, String(e));
      assert.equal(e.jobId, "train-mst-b0-s0");
      assert.match(
        e.message,
        /toy job train-mst-b0-s0 failed on purpose.*; SLURM job \d+ FAILED \(reason NonZeroExitCode\): it exited with code 1 /,
      );
      assert.doesNotMatch(e.message, /--resume/, "a job failing on its own config would fail again");
      return true;
    });
    const log = readFileSync(join(dir, "run.log"), "utf8");
    assert.match(log, /cancelled 1 dependent jobs: eval-mst-b0-s0/);
    assert.ok(!existsSync(join(dir, "jobs", "eval-mst-b0-s0", "result.json")));
    assert.match(readFileSync(join(dir, "jobs", "train-mst-b0-s0", "log.txt"), "utf8"), /failed on purpose/);
  });

  test("a job SLURM stops at its time limit is named with SLURM's reason and the limit", async () => {
    // every job sleeps past a one-minute limit before it starts: the first one is stopped by SLURM (TIMEOUT)
    const file = writeSpec("timeout", 'executor: { kind: slurm, pollSeconds: 0.5, time: "1", setup: "sleep 300" }\n');
    const dir = join(root, "timeout");
    await assert.rejects(startRun(await resolved(file), dir, quiet), (e: unknown) => {
      assert.ok(e instanceof JobFailedError, String(e));
      assert.equal(e.jobId, "base-b0");
      assert.match(e.message, /SLURM job \d+ TIMEOUT \(reason TimeLimit\): it reached its time limit of 00:01:00/);
      assert.match(e.message, /--resume/, "more time can make a resume succeed");
      return true;
    });
  });

  test(
    "a TRL-backed run goes through sbatch: each arm trains 2 TRL steps on a tiny checkpoint, adapters are imported, the report is written",
    { skip: skip || skipUnlessPython("trl", "peft", "transformers", "datasets") },
    async () => {
      const ckpt = await makeCheckpoint();
      const file = join(root, "trl.yaml");
      writeFileSync(
        file,
        [
          "task: sycophancy",
          "preset: micro",
          "arms: [baseline, mst]",
          "seeds: [0]",
          "baseSeeds: [0]",
          `overrides: { base: { checkpoint: ${JSON.stringify(ckpt)} } }`,
          `trainer: { engine: trl, python: ${JSON.stringify(testPython)}, maxSteps: 2 }`,
          "executor: { kind: slurm, pollSeconds: 0.5 }",
          "",
        ].join("\n"),
      );
      const dir = join(root, "trl");
      const out = await startRun(await resolved(file), dir, { progress: new NoProgress() });
      assert.equal(out.ran, 6);
      const log = readFileSync(join(dir, "run.log"), "utf8");
      assert.equal([...log.matchAll(/submitted (\S+) as SLURM job/g)].length, 6);
      for (const arm of ["baseline", "mst"]) {
        const jobDir = join(dir, "jobs", `train-${arm}-b0-s0`);
        // the job wrote mst export --target trl's files for itself, TRL ran 2 steps, the adapter came back
        assert.ok(existsSync(join(jobDir, "trl", "train_trl.py")) && existsSync(join(jobDir, "trl", "mst_reward.py")));
        const trl = JSON.parse(readFileSync(join(jobDir, "trl", "jobs", `train-${arm}-b0-s0`, "trl.json"), "utf8"));
        assert.equal(trl.trainer, "grpo");
        const jobLog = readFileSync(join(jobDir, "log.txt"), "utf8");
        assert.match(jobLog, /train_runtime/, "TRL's trainer ran");
        assert.match(jobLog, /\| 2\/2 \[/, "2 optimizer steps");
        assert.match(jobLog, /adapter .* verified against the base and imported/);
        assert.ok(existsSync(join(jobDir, "adapter", "adapter_model.safetensors")));
        const train = JSON.parse(readFileSync(join(jobDir, "result.json"), "utf8"));
        assert.equal(train.arm, arm);
        assert.equal(train.kind, "rl");
        const ev = JSON.parse(readFileSync(join(dir, "jobs", `eval-${arm}-b0-s0`, "result.json"), "utf8"));
        // the baseline is evaluated without a label, the MST arm at the deployment label and across the sweep
        assert.ok(ev.labels.length >= 1 && ev.labels.every((l: { n: number }) => l.n === 40));
        assert.equal(ev.labels[0].key, arm === "mst" ? "deployment" : "none");
      }
      assert.ok(existsSync(join(dir, "report.html")) && existsSync(join(dir, "summary.md")));
    },
  );
});
