/** A spec error names the line of the key at fault, whether its value is a scalar, a flow map or a block below it. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { SpecError } from "../../src/run/errors.js";
import { parseSpec, resolveSpec } from "../../src/run/spec.js";

async function lineOfError(text: string): Promise<{ line: number | null; field: string }> {
  try {
    await resolveSpec({ spec: parseSpec(text, "s.yaml") });
  } catch (e) {
    assert.ok(e instanceof SpecError, String(e));
    return { line: e.line, field: e.field };
  }
  assert.fail("accepted");
}

test("unknown keys with block values are named at the key's own line, at every depth", async () => {
  const head = "task: sycophancy\npreset: micro\n";
  const cases: Array<[string, number, string]> = [
    // an unknown top-level key whose value is a block (it started one line low)
    [head + "nosuch:\n  a: 1\n", 3, "nosuch"],
    [head + "overrides:\n  nosuch:\n    a: 1\n    b: 2\n", 4, "overrides.nosuch"],
    [head + "overrides:\n  eval:\n    nosuch:\n      - 1\n", 5, "overrides.eval.nosuch"],
    // a sequence as block value, and comments and blank lines between key and value
    [head + "overrides:\n  nosuch: # why\n\n    - 1\n", 4, "overrides.nosuch"],
    // scalar and flow values, which were right already, stay right
    [head + "overrides:\n  eval: { temprature: 1 }\n", 4, "overrides.eval.temprature"],
    [head + "nosuch: 1\n", 3, "nosuch"],
    // an item of a block sequence: its own line
    [head + "seeds:\n  - 0\n  - -1\n", 5, "seeds[1]"],
  ];
  for (const [text, line, field] of cases) {
    const e = await lineOfError(text);
    assert.deepEqual(e, { line, field }, text);
  }
});
