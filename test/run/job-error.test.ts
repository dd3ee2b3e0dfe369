/** A job's error as the runner reports it: path-less file-system errors get the job directory; resumability. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { describeJobError } from "../../src/run/job-error.js";
import { ProviderError } from "../../src/providers/errors.js";

const sysError = (code: string, message: string, syscall: string) =>
  Object.assign(new Error(`${code}: ${message}`), { code, syscall });

test("a path-less ENOSPC from a job's own write is named by the job directory and is resumable", () => {
  const { err, resumable } = describeJobError(
    sysError("ENOSPC", "no space left on device, write", "write"),
    "/r/jobs/j1",
  );
  assert.equal(err.message, "/r/jobs/j1: cannot write in the job directory: no space left on device (ENOSPC)");
  assert.equal(resumable, true);
});

test("an error that names its path keeps its message; a job's own failure is not resumable; provider errors are", () => {
  const withPath = sysError("ENOENT", "no such file or directory, open '/data/x.jsonl'", "open");
  assert.equal(describeJobError(withPath, "/r/jobs/j1").err, withPath);
  assert.equal(describeJobError(new Error("label.trainRange overlaps the held-out range"), "/d").resumable, false);
  assert.equal(describeJobError(new TypeError("x is undefined"), "/d").resumable, false);
  assert.equal(describeJobError(new ProviderError("HTTP 503", "p"), "/d").resumable, true);
  assert.equal(describeJobError("a string", "/d").err.message, "a string");
});
