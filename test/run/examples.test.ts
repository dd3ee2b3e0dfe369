/** Every example spec in examples/specs parses, and resolves against its task when that task is registered. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { loadSpecFile, resolveSpec } from "../../src/run/spec.js";
import { listTasks } from "../../src/tasks/registry.js";

const DIR = join(process.cwd(), "examples", "specs");

for (const name of readdirSync(DIR).filter((f) => /\.(ya?ml|json)$/.test(f))) {
  test(`examples/specs/${name} is a valid spec`, (t) => {
    const loaded = loadSpecFile(join(DIR, name));
    const task = loaded.spec.task;
    assert.ok(task, "an example names its task");
    if (!listTasks().includes(task)) {
      t.skip(`task "${task}" is not registered in src/tasks/registry.ts yet`);
      return;
    }
    const { resolved } = resolveSpec({ spec: loaded });
    assert.equal(resolved.task, task);
  });
}
