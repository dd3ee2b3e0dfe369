/** YAML/JSON config loading: values validated with zod; errors name the file, line and field. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { ConfigError, loadConfigFile, parseConfigText } from "../../src/data/index.js";

const Schema = z.strictObject({
  name: z.string(),
  train: z.strictObject({ lr: z.number().positive(), steps: z.int().default(10) }),
});

test("YAML and JSON parse to the same validated value", () => {
  const y = parseConfigText("name: a\ntrain:\n  lr: 0.1\n", Schema, "c.yaml");
  const j = parseConfigText('{"name": "a", "train": {"lr": 0.1}}', Schema, "c.json");
  assert.deepEqual(y, { name: "a", train: { lr: 0.1, steps: 10 } });
  assert.deepEqual(j, y);
});

test("errors point at file:line and the field", () => {
  const text = "name: a\ntrain:\n  lr: -1\n";
  assert.throws(
    () => parseConfigText(text, Schema, "c.yaml"),
    (e: unknown) =>
      e instanceof ConfigError && e.field === "train.lr" && e.message.startsWith('c.yaml:3: field "train.lr"'),
  );
  assert.throws(
    () => parseConfigText("name: a\ntrain:\n  lr: 1\n  lrr: 2\n", Schema, "c.yaml"),
    /^ConfigError: c\.yaml:4: field "train\.lrr"/,
  );
  assert.throws(
    () => parseConfigText("name: a\ntrain:\n  steps: 3\n", Schema, "c.yaml"),
    /c\.yaml:3: field "train\.lr"/,
  );
  assert.throws(() => parseConfigText("name: [a\n", Schema, "c.yaml"), /c\.yaml:\d+: not valid YAML\/JSON/);
});

test("loadConfigFile reads from disk and reports a missing file", () => {
  const dir = mkdtempSync(join(tmpdir(), "mst-cfg-"));
  try {
    const f = join(dir, "spec.yaml");
    writeFileSync(f, "name: b\ntrain: { lr: 2 }\n");
    assert.equal(loadConfigFile(f, Schema).train.lr, 2);
    assert.throws(
      () => loadConfigFile(join(dir, "missing.yaml"), Schema),
      /missing\.yaml: cannot read file \(ENOENT\)/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
