/**
 * `mst compare`: three toy runs that differ in one config field, compared through the built CLI — the differing
 * field listed, one chart per bar chart and per label sweep with every run in its legend, one headline column per
 * run — plus the refusals (mixed tasks, a directory without results.json), a partial run, the spec diff on its own,
 * and a smoke load of the page in headless Chromium.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { differingPaths } from "../../src/report/compare-diff.js";
import { CompareError, renderCompare } from "../../src/report/compare.js";
import { fmtNum } from "../../src/report/html.js";
import { NoProgress } from "../../src/run/progress.js";
import { startRun } from "../../src/run/runner.js";
import { parseSpec, resolveSpec } from "../../src/run/spec.js";
import type { TaskResults } from "../../src/experiment/task.js";
import { openOfflinePage } from "./offline-page.js";
import { TOY_TASK } from "../fixtures/toy-task.js";

// dist/test/report/compare.test.js -> dist/src/cli/main.js
const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
const root = mkdtempSync(join(tmpdir(), "mst-compare-"));
test.after(() => rmSync(root, { recursive: true, force: true }));

function mst(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: "utf8",
    cwd: root,
    env: { ...process.env, MST_DEBUG: "" },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** The HTML of `<section id="id">` (sections do not nest on the page). */
function section(html: string, id: string): string {
  const m = new RegExp(`<section id="${id}">([\\s\\S]*?)</section>`).exec(html);
  assert.ok(m, `no section #${id}`);
  return m[1];
}

// evaluation set sizes: the runs' numbers differ, so the test can tell whose bar is whose
const ITEMS = [20, 30, 50];
const NAMES = ["small", "medium", "large"];
const dirs = ITEMS.map((_, i) => join(root, `run-${i}`));

test.before(async () => {
  // the toy task's quick preset (a test fixture loaded as a plug-in): a seeded simulation, seconds per run
  for (let i = 0; i < dirs.length; i++) {
    const text = `task: ${JSON.stringify(TOY_TASK)}\npreset: quick\nseeds: [0, 1]\noverrides:\n  evalItems: ${ITEMS[i]}\n`;
    const spec = parseSpec(text, `compare-${i}.yaml`);
    await startRun((await resolveSpec({ spec })).resolved, dirs[i], {
      jobs: 2,
      progress: new NoProgress(),
      report: false,
    });
  }
});

const readResults = (dir: string) => JSON.parse(readFileSync(join(dir, "results.json"), "utf8")) as TaskResults;

test("mst compare: the differing field, a chart per bar chart and sweep with every run, a headline column per run", () => {
  const out = join(root, "cmp.html");
  const r = mst("compare", ...dirs, "--names", NAMES.join(","), "--out", out);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /wrote .*cmp\.html/);
  const html = readFileSync(out, "utf8");

  // Self-contained, like the run report.
  assert.doesNotMatch(html, /<script|<link|<img|<iframe|@import|url\((?!#)/i);

  // What differs: exactly the field the specs differ in (the toy runs differ in nothing else), with each run's value.
  const differs = section(html, "differs");
  const fields = [...differs.matchAll(/<tr><td><code>([^<]*)<\/code>/g)].map((m) => m[1]);
  assert.deepEqual(fields, ["config.evalItems"]);
  for (const n of ITEMS) assert.ok(differs.includes(`<code>${n}</code>`), `value ${n} not listed`);

  // One chart per bar chart id, each an SVG whose legend names every run.
  const bars = section(html, "bars");
  const ids = readResults(dirs[0]).bars.map((b) => b.id);
  assert.ok(ids.length > 0);
  const figures = [...bars.matchAll(/<figure class="chart[^"]*" data-chart="bar:([^"]*)">([\s\S]*?)<\/figure>/g)];
  assert.deepEqual(
    figures.map((f) => f[1]),
    ids,
  );
  for (const [, id, body] of figures) {
    assert.equal((body.match(/<svg/g) ?? []).length, 1, `${id}: one svg`);
    const svg = body.slice(body.indexOf("<svg"), body.indexOf("</svg>"));
    for (const n of NAMES) assert.ok(svg.includes(`>${n}</text>`), `${id}: legend lacks run ${n}`);
  }

  // One sweep chart per sweep id: a panel per arm (its title in the SVG), a line per run (every run in the legend).
  const sweeps = section(html, "sweeps");
  const sweepIds = readResults(dirs[0]).sweeps.map((c) => c.id);
  assert.ok(sweepIds.length > 0);
  const sweepFigs = [...sweeps.matchAll(/<figure class="chart[^"]*" data-chart="sweep:([^"]*)">([\s\S]*?)<\/figure>/g)];
  assert.deepEqual(
    sweepFigs.map((f) => f[1]),
    sweepIds,
  );
  for (const [, id, body] of sweepFigs) {
    for (const n of NAMES) assert.ok(body.includes(`>${n}</text>`), `${id}: legend lacks run ${n}`);
    const arms = new Set(
      readResults(dirs[0])
        .sweeps.find((c) => c.id === id)!
        .points.map((p) => p.arm),
    );
    for (const a of arms) assert.ok(body.includes(`>${a}</text>`), `${id}: no panel for arm ${a}`);
  }
  assert.equal((html.match(/<svg/g) ?? []).length, ids.length + sweepIds.length);

  // The values table under each chart: run i's column holds run i's estimates (mean [lo, hi]), arm by arm.
  const results = dirs.map(readResults);
  for (const [, id, body] of figures) {
    const rows = [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)]
      .map((m) => [...m[1].matchAll(/<td[^>]*>([^<]*)<\/td>/g)].map((c) => c[1]))
      .filter((r) => r.length > 0); // the header row has no <td>
    const chart0 = results[0].bars.find((b) => b.id === id)!;
    assert.equal(rows.length, chart0.bars.length, `${id}: one row per bar`);
    results.forEach((res, i) => {
      for (const b of res.bars.find((c) => c.id === id)!.bars) {
        const key = b.group ? `${b.arm} (${b.group})` : b.arm;
        const row = rows.find((r) => r[0] === key);
        assert.ok(row, `${id}: no row ${key}`);
        assert.ok(
          row[i + 1].startsWith(`${fmtNum(b.mean)} [${fmtNum(b.lo)}, `),
          `${id} ${key} ${NAMES[i]}: ${row[i + 1]}`,
        );
      }
    });
  }
  // and the runs really differ somewhere, or the check above proves little
  assert.notDeepEqual(results[0].bars, results[2].bars);

  // Headline table: a column per run, a row per headline key, the numbers from each results.json.
  const headline = section(html, "headline");
  const head = [...headline.matchAll(/<th>([^<]*)<\/th>/g)].map((m) => m[1]);
  assert.deepEqual(head, ["quantity", ...NAMES]);
  const keys = Object.keys(readResults(dirs[0]).headline);
  assert.equal((headline.match(/<tr><td>/g) ?? []).length, keys.length);

  // Every run's findings, one block per run.
  const findings = section(html, "findings");
  for (const n of NAMES) assert.ok(findings.includes(`data-run="${n}"`), `no findings block for ${n}`);

  // Default names: the directories' basenames.
  const r2 = mst("compare", dirs[0], dirs[1], "--out", join(root, "cmp2.html"));
  assert.equal(r2.code, 0, r2.err);
  assert.ok(section(readFileSync(join(root, "cmp2.html"), "utf8"), "headline").includes("<th>run-1</th>"));
});

test("mst compare refuses runs of different tasks, naming both tasks", () => {
  const other = join(root, "other-task");
  cpSync(dirs[1], other, { recursive: true });
  const res = readResults(other);
  writeFileSync(join(other, "results.json"), JSON.stringify({ ...res, task: "sycophancy" }));
  const r = mst("compare", dirs[0], other, "--out", join(root, "mixed.html"));
  assert.equal(r.code, 2);
  assert.match(r.err, /different tasks: run-0 is task "toy", other-task is task "sycophancy"/);
  assert.ok(!existsSync(join(root, "mixed.html")), "nothing written");
});

test("mst compare: a directory without results.json is an error naming it", () => {
  const unfinished = join(root, "unfinished");
  mkdirSync(unfinished);
  cpSync(join(dirs[0], "spec.resolved.json"), join(unfinished, "spec.resolved.json"));
  const r = mst("compare", dirs[0], unfinished);
  assert.equal(r.code, 2);
  assert.match(r.err, /unfinished: no results\.json/);
  assert.equal(r.err.trim().split("\n").length, 1, "one line");
});

test("mst compare: a partial run is included and marked partial (k/n jobs)", () => {
  const part = join(root, "part");
  cpSync(dirs[2], part, { recursive: true });
  // drop one finished job: the run is then k of n jobs done
  const job = "eval-mst-b0-s1";
  assert.ok(existsSync(join(part, "jobs", job, "result.json")), `toy plan has no ${job}`);
  rmSync(join(part, "jobs", job, "result.json"));
  const out = join(root, "partial.html");
  const r = mst("compare", dirs[0], part, "--out", out);
  assert.equal(r.code, 0, r.err);
  const m = /partial \((\d+)\/(\d+) jobs\)/.exec(readFileSync(out, "utf8"));
  assert.ok(m, "no 'partial (k/n jobs)' on the page");
  assert.equal(Number(m[1]), Number(m[2]) - 1);
  assert.match(r.out, /part is partial/);
});

test("renderCompare rejects mixed tasks and duplicate names with a CompareError", async () => {
  const a = readResults(dirs[0]);
  await assert.rejects(
    renderCompare([
      { name: "a", results: a },
      { name: "b", results: { ...a, task: "political-bias" } },
    ]),
    (e: unknown) => e instanceof CompareError && /a is task "toy", b is task "political-bias"/.test(e.message),
  );
  await assert.rejects(
    renderCompare([
      { name: "a", results: a },
      { name: "a", results: a },
    ]),
    CompareError,
  );
});

test("renderCompare: a chart only some runs have is drawn and says which lack it; a run without a spec", async () => {
  const a = readResults(dirs[0]);
  const b = { ...readResults(dirs[1]), bars: a.bars.slice(0, -1), sweeps: [] };
  const html = await renderCompare([
    { name: "a", results: a, spec: { preset: "quick", config: { x: 1 } } },
    { name: "b", results: b },
  ]);
  assert.equal((html.match(/<svg/g) ?? []).length, a.bars.length + a.sweeps.length);
  const last = a.bars[a.bars.length - 1];
  const fig = new RegExp(`data-chart="bar:${last.id}">[\\s\\S]*?</figure>`).exec(html);
  assert.ok(fig, `no chart ${last.id}`);
  assert.match(fig[0], /Not in b\./);
  assert.match(section(html, "sweeps"), /Not in b\./);
  assert.match(section(html, "differs"), /No spec\.resolved\.json for b/);
});

test("differingPaths: nested fields by path, arrays as one value, absent fields, runs without a spec", () => {
  const d = differingPaths([
    { preset: "embedded", config: { label: { numberTokens: "percent", width: 0 }, sweep: [0, 50] } },
    { preset: "embedded", config: { label: { numberTokens: "digits", width: 3 }, sweep: [0, 50] } },
    { preset: "embedded", config: { label: { numberTokens: "integers", width: 0 }, sweep: [0, 100], extra: true } },
    undefined,
  ]);
  assert.deepEqual(d, [
    { path: "config.label.numberTokens", values: ["percent", "digits", "integers", undefined] },
    { path: "config.label.width", values: [0, 3, 0, undefined] },
    { path: "config.sweep", values: [[0, 50], [0, 50], [0, 100], undefined] },
    { path: "config.extra", values: [undefined, undefined, true, undefined] },
  ]);
  // key order inside arrays of objects is not a difference
  assert.deepEqual(differingPaths([{ x: [{ a: 1, b: 2 }] }, { x: [{ b: 2, a: 1 }] }]), []);
});

test("compare.html loads in headless Chromium: every chart drawn, no errors, no requests", async (t) => {
  const out = join(root, "browser.html");
  const r = mst("compare", ...dirs, "--names", NAMES.join(","), "--out", out);
  assert.equal(r.code, 0, r.err);
  const opened = await openOfflinePage(t, out);
  if (opened === null) return;
  const { page, url, errors, requests, browser } = opened;
  try {
    const charts = await page.$$eval("figure.chart svg", (svgs) =>
      svgs.map((s) => {
        const box = s.getBoundingClientRect();
        return { w: box.width, h: box.height, marks: s.querySelectorAll("path, rect, line, circle").length };
      }),
    );
    const res = readResults(dirs[0]);
    assert.equal(charts.length, res.bars.length + res.sweeps.length);
    for (const c of charts) {
      assert.ok(c.w > 100 && c.h > 80, `svg is ${c.w}x${c.h}`);
      assert.ok(c.marks > 5, `svg has only ${c.marks} marks`);
    }
    const headings = await page.$$eval("h2", (hs) => hs.map((h) => h.textContent ?? ""));
    assert.deepEqual(headings, [
      "Runs",
      "What differs",
      "Metrics by arm and run",
      "Label sweeps by arm and run",
      "Headline numbers",
      "Findings",
    ]);
    assert.deepEqual(errors, []);
    assert.deepEqual(requests, [url], "the page fetched something besides itself");
    mkdirSync(join(process.cwd(), "test-artifacts"), { recursive: true });
    await page.screenshot({ path: join(process.cwd(), "test-artifacts", "compare.png"), fullPage: true });
  } finally {
    await browser.close();
  }
});
