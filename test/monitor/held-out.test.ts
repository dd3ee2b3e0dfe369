/** Held-out rules: half-open ranges by default, categorical values, and the monitor spec's training check. */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  HeldOutError,
  HeldOutSchema,
  createMonitorLabeler,
  deploymentLabel,
  isHeldOutValue,
  type MonitorSpecInput,
} from "../../src/monitor/index.js";

test("range [0, 0.5) holds out 0 and 0.49 but not 0.5; values match exactly", () => {
  const r = HeldOutSchema.parse({ kind: "range", param: "s", min: 0, max: 0.5 });
  assert.equal(isHeldOutValue(r, 0), true);
  assert.equal(isHeldOutValue(r, 0.49), true);
  assert.equal(isHeldOutValue(r, 0.5), false);
  assert.equal(isHeldOutValue(r, -0.1), false);
  assert.equal(isHeldOutValue(r, "0.2"), false);
  assert.equal(isHeldOutValue(r, undefined), false);
  const closed = HeldOutSchema.parse({ kind: "range", param: "s", max: 0.5, includeMax: true });
  assert.equal(isHeldOutValue(closed, 0.5), true);
  assert.equal(isHeldOutValue(closed, -100), true);
  const v = HeldOutSchema.parse({ kind: "values", param: "profile", values: ["unbiased"] });
  assert.equal(isHeldOutValue(v, "unbiased"), true);
  assert.equal(isHeldOutValue(v, "strong_left"), false);
});

test("training check names the sample, file and line; deployment label may be held out", () => {
  const spec: MonitorSpecInput = {
    id: "suggestibility",
    encoding: {
      kind: "percentage",
      param: "s",
      from: [0, 1.5],
      template: "Suggestibility Level: {value}%",
      bold: true,
    },
    heldOut: [{ kind: "range", param: "s", min: 0, max: 0.5 }],
    deployment: { params: { s: 0 } },
  };
  const m = createMonitorLabeler(spec);
  m.checkTraining({ id: "suggestibility", params: { s: 0.5 } }, { id: "ok" });
  assert.throws(
    () => m.checkTraining({ id: "suggestibility", params: { s: 0.3 } }, { id: "p-7", file: "data.jsonl", line: 12 }),
    (e: unknown) =>
      e instanceof HeldOutError &&
      e.message ===
        'data.jsonl:12: sample "p-7": monitor parameter s=0.3 is held out (s in [0, 0.5)); held-out values must not appear in training data',
  );
  assert.equal(deploymentLabel(spec), "**Suggestibility Level: 0%**");
  assert.equal(m.labelOf({ text: "An unbiased evaluator." }), "An unbiased evaluator.");
  assert.throws(
    () => m.label({ id: "editor", params: { s: 1 } }, { id: "x", index: 3 }),
    /sample "x" \(#3\): monitor id "editor" does not match/,
  );
});
