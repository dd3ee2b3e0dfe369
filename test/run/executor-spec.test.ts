/**
 * The executor and trainer settings of a spec (no cluster needed): one spec runs locally or by `--executor slurm`,
 * bad settings are named at their line, per-kind resources merge field by field, the batch script and SLURM's end
 * states read as documented.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { SpecError } from "../../src/run/errors.js";
import { type SlurmExecutor, resourcesFor } from "../../src/run/executor-spec.js";
import { describeSlurmEnd, slurmKilled } from "../../src/run/slurm/reason.js";
import { batchScript, jobNamePrefix, sbatchArgs, shellQuote } from "../../src/run/slurm/script.js";
import { parseSpec, resolveSpec } from "../../src/run/spec.js";
import { TOY_TASK } from "../fixtures/toy-task.js";

const TOY = `task: ${JSON.stringify(TOY_TASK)}\npreset: quick\n`;

async function resolve(text: string, executor?: "local" | "slurm") {
  return (await resolveSpec({ spec: parseSpec(text, "s.yaml"), executor })).resolved;
}

test("one spec runs locally by default and on SLURM by --executor slurm, with the spec's settings", async () => {
  const text = `${TOY}executor: { kind: local, partition: gpu, cpus: 4, kinds: { train: { gres: "gpu:1" } } }\n`;
  const local = await resolve(text);
  assert.equal(local.executor, undefined, "a local run's spec.resolved.json has no executor key");
  const slurm = await resolve(text, "slurm");
  assert.deepEqual(slurm.executor, { kind: "slurm", partition: "gpu", cpus: 4, kinds: { train: { gres: "gpu:1" } } });
  // --executor local wins over a spec that says slurm
  assert.equal((await resolve(`${TOY}executor: { kind: slurm }\n`, "local")).executor, undefined);
  assert.deepEqual((await resolve(TOY, "slurm")).executor, { kind: "slurm" });
});

test("bad executor and trainer settings are named with their spec line", async () => {
  await assert.rejects(resolve(`${TOY}executor:\n  kind: slurm\n  time: "two hours"\n`), (e: unknown) => {
    assert.ok(e instanceof SpecError);
    assert.equal(e.line, 5);
    assert.equal(e.field, "executor.time");
    assert.match(e.message, /SLURM time limit/);
    return true;
  });
  await assert.rejects(
    resolve(`${TOY}executor: { kind: slurm, queue: gpu }\n`),
    /executor\.queue: unknown key "queue"/,
  );
  await assert.rejects(resolve(`${TOY}executor: { kind: pbs }\n`), /executor\.kind/);
  await assert.rejects(resolve(`${TOY}executor: { mem: 16 }\n`), /executor\.mem/);
  // the toy task is not an experiment-kit task: it has no train jobs TRL could run
  await assert.rejects(resolve(`${TOY}trainer: { engine: trl }\n`), (e: unknown) => {
    assert.ok(e instanceof SpecError);
    assert.equal(e.field, "trainer");
    assert.match(e.message, /not built with the experiment kit/);
    return true;
  });
  await assert.rejects(resolve(`${TOY}trainer: { engine: trl, maxSteps: 0 }\n`), /trainer\.maxSteps/);
});

test("per-kind resources override the executor's field by field; cpus default to 1", () => {
  const exec: SlurmExecutor = {
    kind: "slurm",
    partition: "cpu",
    time: "01:00:00",
    mem: "8G",
    sbatchArgs: ["--qos=low"],
    kinds: { train: { partition: "gpu", gres: "gpu:1", cpus: 8 } },
  };
  assert.deepEqual(resourcesFor(exec, "train"), {
    partition: "gpu",
    account: undefined,
    time: "01:00:00",
    cpus: 8,
    mem: "8G",
    gres: "gpu:1",
    sbatchArgs: ["--qos=low"],
  });
  assert.equal(resourcesFor(exec, "eval").cpus, 1);
  assert.equal(resourcesFor(exec, "eval").partition, "cpu");
});

test("the batch script carries the resources, the setup lines, the threads and `mst job run`", () => {
  const exec: SlurmExecutor = {
    kind: "slurm",
    account: "proj-1",
    gres: "gpu:1",
    setup: "source /shared/venv/bin/activate",
    mst: ["/shared/node/bin/node", "/shared/mst/dist/src/cli/main.js"],
    kinds: { eval: { time: "30" } },
  };
  const job = { id: "eval-mst-b0-s0", kind: "eval", deps: ["train-mst-b0-s0"], params: {}, title: "eval mst b0 s0" };
  const text = batchScript({
    exec,
    job,
    runDir: "/shared/runs/my run",
    name: "mst-0123abcd-eval-mst-b0-s0",
    gemm: "wasm",
  });
  const lines = text.split("\n");
  assert.equal(lines[0], "#!/bin/bash");
  for (const l of [
    "#SBATCH --job-name=mst-0123abcd-eval-mst-b0-s0",
    "#SBATCH --output=/shared/runs/my run/jobs/eval-mst-b0-s0/log.txt",
    "#SBATCH --cpus-per-task=1",
    "#SBATCH --account=proj-1",
    "#SBATCH --time=30",
    "#SBATCH --gres=gpu:1",
    "source /shared/venv/bin/activate",
    'export MST_THREADS="${SLURM_CPUS_PER_TASK:-1}"',
    "export MST_GEMM=wasm",
    "exec /shared/node/bin/node /shared/mst/dist/src/cli/main.js job run '/shared/runs/my run' eval-mst-b0-s0",
  ])
    assert.ok(lines.includes(l), `missing line: ${l}\n${text}`);
  assert.ok(!text.includes("--partition"), "a partition left out is the cluster's default");
  assert.deepEqual(sbatchArgs(exec, job, ["17", "18"]), ["--dependency=afterok:17:18", "--kill-on-invalid-dep=yes"]);
  assert.deepEqual(sbatchArgs({ ...exec, sbatchArgs: ["--qos=high"] }, job, []), ["--qos=high"]);
  assert.equal(shellQuote("it's"), `'it'\\''s'`);
  // the name prefix belongs to one run directory and one spec
  assert.notEqual(jobNamePrefix("/r/a", "{}"), jobNamePrefix("/r/b", "{}"));
  assert.notEqual(jobNamePrefix("/r/a", "{}"), jobNamePrefix("/r/a", "{ }"));
  assert.match(jobNamePrefix("/r/a", "{}"), /^mst-[0-9a-f]{8}-$/);
});

test("SLURM's end states are named with their reason and the limit that was hit", () => {
  assert.equal(
    describeSlurmEnd({ id: "7", state: "TIMEOUT", reason: "TimeLimit", exitCode: "0:15", timeLimit: "00:01:00" }),
    "SLURM job 7 TIMEOUT (reason TimeLimit): it reached its time limit of 00:01:00; give the job kind more time (executor.time or executor.kinds.<kind>.time)",
  );
  assert.match(
    describeSlurmEnd({ id: "8", state: "OUT_OF_MEMORY", reason: "OutOfMemory", exitCode: "0:125", mem: "4G" }),
    /SLURM job 8 OUT_OF_MEMORY .*ran out of memory \(limit 4G\); raise executor\.mem/,
  );
  assert.match(
    describeSlurmEnd({ id: "9", state: "NODE_FAIL", reason: "None", exitCode: "" }),
    /^SLURM job 9 NODE_FAIL: its node failed$/,
  );
  assert.match(
    describeSlurmEnd({ id: "10", state: "FAILED", reason: "NonZeroExitCode", exitCode: "3:0" }),
    /exited with code 3/,
  );
  assert.ok(slurmKilled("TIMEOUT") && slurmKilled("NODE_FAIL") && !slurmKilled("FAILED"));
});
