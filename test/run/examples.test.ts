/** Every example spec in examples/specs parses and resolves against its registered task (a typo'd task fails). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadSpecFile, resolveSpec } from "../../src/run/spec.js";

// dist/test/run/examples.test.js -> examples/specs at the repository root
const DIR = fileURLToPath(new URL("../../../examples/specs", import.meta.url));

for (const name of readdirSync(DIR).filter((f) => /\.(ya?ml|json)$/.test(f))) {
  test(`examples/specs/${name} is a valid spec`, async () => {
    const loaded = loadSpecFile(join(DIR, name));
    const task = loaded.spec.task;
    assert.ok(task, "an example names its task");
    // Every task an example uses is registered now; an unknown one is an error naming the known tasks.
    const { resolved } = await resolveSpec({ spec: loaded });
    assert.equal(resolved.task, task);
  });
}
