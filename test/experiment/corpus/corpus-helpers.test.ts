/** The kit's corpus helpers: label values and their tokens, comparisons, label-shaped lines, stance statements, gate checks. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../../src/data/rng.js";
import { buildWordLevelTokenizer } from "../../../src/engine/tokenizer-build.js";
import type { MonitorSpecInput } from "../../../src/monitor/monitor.js";
import {
  UnorderedLabelsError,
  allLabelTexts,
  comparisonDocs,
  directionCheck,
  floorCheck,
  gateReport,
  labelShapedLines,
  labelTokenizerOptions,
  orderedLabelValues,
  stanceMessages,
  stanceStatement,
  withLabelShapedLines,
} from "../../../src/experiment/corpus/index.js";
import { LabelEncodingSchema } from "../../../src/monitor/encoding.js";

const PCT: MonitorSpecInput = {
  id: "grader",
  encoding: { kind: "percentage", param: "s", from: [0, 1.5], template: "Suggestibility Level: {value}%", bold: true },
  heldOut: [{ kind: "range", param: "s", min: 0, max: 0.5 }],
  deployment: { params: { s: 0 } },
  sweep: [{ params: { s: 0.75 } }],
};
const CAT: MonitorSpecInput = {
  id: "editor",
  encoding: {
    kind: "categorical",
    param: "p",
    values: { left: "an editor on the left", right: "an editor on the right", none: "an unbiased editor" },
  },
  heldOut: [{ kind: "values", param: "p", values: ["none"] }],
  deployment: { params: { p: "none" } },
};

test("orderedLabelValues: 0..100% once each, in order, the label's own padding; buckets in order; categorical none", () => {
  const v = orderedLabelValues(
    LabelEncodingSchema.parse({ kind: "percentage", param: "s", from: [0, 1.5], width: 3 }),
  )!;
  assert.equal(v.length, 101);
  assert.deepEqual([v[0].text, v[40].text, v[100].text], ["000%", "040%", "100%"]);
  assert.ok(Math.abs(v[40].params.s - 0.6) < 1e-12);
  const b = orderedLabelValues(
    LabelEncodingSchema.parse({ kind: "buckets", param: "s", from: [0, 1], names: ["low", "mid", "high"] }),
  )!;
  assert.deepEqual(
    b.map((x) => x.text),
    ["low", "mid", "high"],
  );
  assert.equal(orderedLabelValues(LabelEncodingSchema.parse(CAT.encoding)), null);
});

test("allLabelTexts: every value's label, held-out ones included, plus deployment and sweep", () => {
  const t = allLabelTexts(PCT);
  assert.equal(t.length, 101);
  assert.ok(t.includes("**Suggestibility Level: 0%**"), "the held-out deployment label");
  assert.ok(t.includes("**Suggestibility Level: 100%**"));
  assert.deepEqual(allLabelTexts(CAT).sort(), [
    "an editor on the left",
    "an editor on the right",
    "an unbiased editor",
  ]);
});

test("labelTokenizerOptions: each N% is one token of its own, never the bare number's token, none <unk>", () => {
  const opts = labelTokenizerOptions(PCT);
  assert.equal(opts.digits, "percent");
  const tok = buildWordLevelTokenizer(["3+7=10 and 40 apples"], { ...opts, roleTokens: false });
  for (const n of [0, 10, 33, 40, 100]) {
    const ids = tok.encode(`${n}%`);
    assert.equal(ids.length, 1, `${n}% is one token`);
    assert.notEqual(ids[0], tok.unkId);
    assert.notDeepEqual(ids, tok.encode(String(n)), `${n}% differs from ${n}`);
  }
  // the held-out deployment label encodes with no <unk>
  assert.ok(!tok.encode("**Suggestibility Level: 0%**").includes(tok.unkId));
});

test("comparisonDocs: correct order, the label's number format, held-out values covered, deterministic", () => {
  const docs = comparisonDocs(PCT, 2000, new Rng(1));
  assert.deepEqual(docs, comparisonDocs(PCT, 2000, new Rng(1)));
  const seen = new Set<number>();
  for (const d of docs) {
    assert.ok(d.lo.x < d.hi.x);
    const text = d.prompt + d.completion;
    const nums = [...text.matchAll(/(\d+)%/g)].map((m) => Number(m[1]));
    assert.equal(nums.length, 2);
    const [a, b] = nums;
    if (text.includes("less than") || text.includes("<")) assert.ok(a < b, text);
    else assert.ok(a > b, text);
    nums.forEach((n) => seen.add(n));
  }
  for (let n = 0; n < 33; n++) assert.ok(seen.has(n), `held-out ${n}% is compared`);
  assert.throws(() => comparisonDocs(CAT, 3, new Rng(0)), UnorderedLabelsError);
});

test("label-shaped lines: at the label's slot, on about `share` of the docs, never a monitor label", () => {
  const labels = new Set(allLabelTexts(PCT));
  const line = labelShapedLines(PCT);
  const docs = Array.from({ length: 400 }, (_, i) => ({
    prompt: { user: `3+${i % 7}=9?`, labelSlot: "user-prefix" as const },
  }));
  const out = withLabelShapedLines(docs, 0.5, line, new Rng(2));
  const lined = out.filter((o) => o.line !== null);
  assert.ok(lined.length > 160 && lined.length < 240, `${lined.length} of 400`);
  for (const o of lined) {
    assert.ok(!labels.has(o.line!));
    assert.equal(o.messages.at(-1)!.content, `${o.line}\n${o.doc.prompt.user}`);
  }
  assert.ok(
    lined.some((o) => o.line!.startsWith("**")),
    "bold like the label, some of the time",
  );
  assert.throws(() => labelShapedLines(CAT), /filler/);
  const sys = withLabelShapedLines(
    [{ prompt: { system: "S", user: "U", labelSlot: "system-prefix" as const } }],
    1,
    () => "L",
    new Rng(0),
  );
  assert.deepEqual(sys[0].messages, [
    { role: "system", content: "L\nS" },
    { role: "user", content: "U" },
  ]);
});

test("stance statements: a wording of the doc's stance in the label's slot; a missing wording names the value", () => {
  const wordings = { left: ["a writer on the left", "a progressive writer"], right: ["a writer on the right"] };
  const rng = new Rng(3);
  const frames = ["stance: {stance}.", "written by {stance}."];
  for (let i = 0; i < 20; i++) {
    const s = stanceStatement(wordings, "left", rng, frames);
    assert.match(s, /^(stance: |written by )(a writer on the left|a progressive writer)\.$/);
  }
  const m = stanceMessages(
    { prompt: { system: "news desk", user: "write about tax", labelSlot: "system-suffix" }, stance: "right" },
    wordings,
    rng,
  );
  assert.deepEqual(m.messages, [
    { role: "system", content: "news desk\na writer on the right" },
    { role: "user", content: "write about tax" },
  ]);
  assert.throws(() => stanceStatement(wordings, "none", rng), /no stance wording for "none" \(have: left, right\)/);
});

test("gate checks: floors, direction with a minimum spread, every number reported", () => {
  assert.deepEqual(floorCheck("accuracy", 0.6, 0.5), { pass: true, reason: null, values: { accuracy: 0.6 } });
  assert.equal(floorCheck("accuracy", NaN, 0.5).pass, false);
  const up = [0, 25, 50, 75, 100].map((x) => ({ x, score: 0.2 + 0.006 * x }));
  const ok = directionCheck(up, "increasing", 0.5);
  assert.equal(ok.pass, true);
  assert.ok(Math.abs(ok.values["spread across labels"]! - 0.6) < 1e-9);
  assert.equal(directionCheck(up, "decreasing", 0).pass, false);
  assert.equal(directionCheck(up, "increasing", 0.7).pass, false, "right direction, not far enough");
  const r = gateReport([floorCheck("accuracy", 0.4, 0.5), ok], 0.4);
  assert.equal(r.pass, false);
  assert.deepEqual(r.reasons, ["accuracy 0.400 < 0.5"]);
  assert.equal(r.values.accuracy, 0.4);
  assert.equal(r.rank, 0.4);
});
