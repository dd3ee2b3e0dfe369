/** A full disk (a small tmpfs): every write path fails with one line naming its file, and a resume then completes. */
import { TOY_TASK } from "../fixtures/toy-task.js";
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, writeSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { FileAccessError } from "../../src/data/fs-errors.js";
import { JsonlAppender, writeFileAtomic, writeJsonl } from "../../src/data/jsonl-write.js";
import { writeSafetensors } from "../../src/engine/safetensors.js";
import { ResponseCache } from "../../src/providers/cache.js";
import { appendRunLog } from "../../src/run/scheduler.js";
import { writeJsonAtomic } from "../../src/run/run-dir.js";
import { CheckpointStore } from "../../src/train/checkpoint-store.js";
import { mountTmpfs, resizeTmpfs } from "../tmpfs.js";

const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

function mst(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", env: { ...process.env, MST_DEBUG: "" } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Fills the file system holding `dir` to the last byte. */
function fill(dir: string): void {
  const fd = openSync(join(dir, "filler"), "w");
  try {
    for (const size of [65536, 4096, 1]) {
      const buf = Buffer.alloc(size, 120);
      for (;;) {
        try {
          if (writeSync(fd, buf) < size) break;
        } catch {
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}

/** Asserts `fn` throws a FileAccessError for ENOSPC whose one-line message names `path`. */
function assertFullDisk(fn: () => unknown, path: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof FileAccessError, String(e));
    assert.equal(e.code, "ENOSPC");
    assert.ok(e.message.startsWith(`${path}: cannot `), e.message);
    assert.match(e.message, /no space left on device \(ENOSPC\)$/);
    assert.equal(e.message.split("\n").length, 1);
    return true;
  });
}

test("every write path on a full disk throws one line naming its file and leaves no partial file", async (t) => {
  const dir = mountTmpfs(t, "64k");
  if (dir === null) return;
  const appender = JsonlAppender.open(join(dir, "log.jsonl"));
  appender.append({ step: 1 });
  writeFileAtomic(join(dir, "old.json"), '{"kept":true}\n');
  const cacheDir = join(dir, "cache");
  mkdirSync(join(cacheDir, "ab"), { recursive: true });
  mkdirSync(join(dir, "ckpt", "checkpoints"), { recursive: true });
  fill(dir);

  assertFullDisk(() => writeFileAtomic(join(dir, "old.json"), "x".repeat(10000)), join(dir, "old.json"));
  assert.equal(readFileSync(join(dir, "old.json"), "utf8"), '{"kept":true}\n', "the previous file survives");
  assertFullDisk(() => writeJsonl(join(dir, "arm.jsonl"), [{ a: "x".repeat(10000) }], z.any()), join(dir, "arm.jsonl"));
  assertFullDisk(() => writeJsonAtomic(join(dir, "result.json"), { a: "x".repeat(10000) }), join(dir, "result.json"));
  assertFullDisk(() => appender.append({ step: 2, pad: "x".repeat(10000) }), join(dir, "log.jsonl"));
  appender.close();
  assertFullDisk(() => appendRunLog(join(dir, "run.log"), "x".repeat(10000)), join(dir, "run.log"));
  const params = [{ name: "w", shape: [4096], data: new Float32Array(4096) }];
  assertFullDisk(
    () => new CheckpointStore(join(dir, "ckpt")).save(3, params as never, {}, {}),
    join(dir, "ckpt", "checkpoints", `step-000003.tmp-${process.pid}`, "tensors.bin"),
  );
  const key = "ab" + "0".repeat(62);
  assertFullDisk(
    () => new ResponseCache(cacheDir).set(key, { text: "x".repeat(10000), finishReason: "stop" }),
    join(cacheDir, "ab", `${key}.json`),
  );
  const st = join(dir, "model.safetensors");
  await assert.rejects(writeSafetensors(st, new Map([["w", { shape: [4096], data: new Float32Array(4096) }]])), (e) => {
    assert.ok(e instanceof FileAccessError && e.message.startsWith(`${st}: cannot write:`), String(e));
    return true;
  });
  // nothing half-written is left for a later run to trust: no temp files, no checkpoint, no truncated tensors
  const left = readdirSync(dir, { recursive: true }).map(String).sort();
  assert.deepEqual(left, [
    "cache",
    "cache/ab",
    "ckpt",
    "ckpt/checkpoints",
    "filler",
    "log.jsonl",
    "old.json",
    "run.log",
  ]);
  assert.equal(readFileSync(join(dir, "run.log"), "utf8"), "", "the log line that did not fit is not there at all");
  assert.equal(readFileSync(join(dir, "log.jsonl"), "utf8"), '{"step":1}\n', "the JSONL log keeps whole lines only");
});

test("mst run on a full disk fails with one line naming the file; after making room, --resume completes", async (t) => {
  const dir = mountTmpfs(t, "160k");
  if (dir === null) return;
  const run = join(dir, "run");
  const r = mst("run", TOY_TASK, "--preset", "quick", "--out", run, "--jobs", "2");
  assert.equal(r.code, 1, r.err);
  assert.equal(r.err.split("\n").filter(Boolean).length, 1, r.err);
  assert.match(r.err, /^mst: .*: cannot [a-z ]+: no space left on device \(ENOSPC\)/);
  assert.ok(r.err.includes(dir), `the message names a path on the full disk: ${r.err}`);
  assert.doesNotMatch(r.err, /Unhandled| {4}at /);
  // every result.json left behind is complete JSON (written last, atomically); no temp files remain
  for (const id of readdirSync(join(run, "jobs"))) {
    const f = join(run, "jobs", id, "result.json");
    if (existsSync(f)) JSON.parse(readFileSync(f, "utf8"));
    assert.deepEqual(
      readdirSync(join(run, "jobs", id)).filter((n) => n.includes(".tmp-")),
      [],
    );
  }
  assert.ok(!existsSync(join(run, "run.lock")), "the lock is released");

  resizeTmpfs(dir, "16m");
  const resumed = mst("run", "--resume", run, "--jobs", "2");
  assert.equal(resumed.code, 0, resumed.err);
  assert.match(resumed.out, /finished: \d+ jobs run, [1-9]\d* reused/);
  const ref = join(dir, "ref");
  assert.equal(mst("run", TOY_TASK, "--preset", "quick", "--out", ref, "--jobs", "2").code, 0);
  assert.equal(readFileSync(join(run, "results.json"), "utf8"), readFileSync(join(ref, "results.json"), "utf8"));
});

test("a read-only folder: one line naming the path and why (EROFS), exit code 2", async (t) => {
  const dir = mountTmpfs(t, "1m");
  if (dir === null) return;
  resizeTmpfs(dir, "1m,ro");
  const run = mst("run", TOY_TASK, "--preset", "quick", "--out", join(dir, "run"));
  assert.equal(run.code, 2, run.err);
  assert.equal(run.err, `mst: ${join(dir, "run")}: cannot create run directory: read-only file system (EROFS)\n`);
  const spec = fileURLToPath(new URL("../../../examples/arms/spec.yaml", import.meta.url));
  const samples = fileURLToPath(new URL("../../../examples/arms/samples.jsonl", import.meta.url));
  const arms = mst("arms", "--spec", spec, "--in", samples, "--out", join(dir, "arms"));
  assert.equal(arms.code, 2, arms.err);
  assert.equal(arms.err, `mst: ${join(dir, "arms")}: cannot create output folder: read-only file system (EROFS)\n`);
});
