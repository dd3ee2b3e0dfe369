/**
 * The CLI against bad input and operations that could lose data: nothing a user has is overwritten or deleted
 * (checked with checksums), every message names what and where in one line, and exit codes are 0 / 1 / 2.
 */
import { TOY_TASK } from "../fixtures/toy-task.js";
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { badInput, checksums, runMst } from "../cli-helpers.js";

const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const ARMS_SPEC = join(REPO, "examples", "arms", "spec.yaml");
const SAMPLES = readFileSync(join(REPO, "examples", "arms", "samples.jsonl"), "utf8")
  .split("\n")
  .slice(0, 20);
const dir = mkdtempSync(join(tmpdir(), "mst-bad-input-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const mst = (...args: string[]) => runMst(dir, args);

test("mst arms never writes over its input and refuses a non-empty --out without --force", () => {
  const d1 = join(dir, "d1");
  mkdirSync(d1);
  writeFileSync(join(d1, "mst.jsonl"), SAMPLES.join("\n") + "\n");
  writeFileSync(join(dir, "s20.jsonl"), SAMPLES.join("\n") + "\n");
  const before = checksums(d1);
  badInput(
    mst("arms", "--spec", ARMS_SPEC, "--in", "d1/mst.jsonl", "--out", "d1"),
    /^mst: d1: output folder is not empty/,
  );
  badInput(
    mst("arms", "--spec", ARMS_SPEC, "--in", "d1/mst.jsonl", "--out", "d1", "--force"),
    /^mst: d1[/\\]mst\.jsonl: would overwrite the input d1\/mst\.jsonl; choose another --out/,
  );
  // the spec is an input too (JSON is YAML: a spec saved as manifest.json), and d1/../d1 is the same folder
  writeFileSync(join(d1, "manifest.json"), JSON.stringify(parse(readFileSync(ARMS_SPEC, "utf8"))));
  const withManifest = checksums(d1);
  badInput(
    mst("arms", "--spec", "d1/manifest.json", "--in", "s20.jsonl", "--out", "d1/../d1", "--force"),
    /^mst: d1[/\\]manifest\.json: would overwrite the input d1\/manifest\.json/,
  );
  assert.deepEqual(checksums(d1), withManifest);
  rmSync(join(d1, "manifest.json"));
  assert.deepEqual(checksums(d1), before, "the samples survive byte for byte");
  // --force into a folder of other arms replaces only arm files and manifest.json
  const d2 = join(dir, "d2");
  mkdirSync(d2);
  writeFileSync(join(d2, "notes.txt"), "mine");
  const ok = mst("arms", "--spec", ARMS_SPEC, "--in", "d1/mst.jsonl", "--out", "d2", "--force");
  assert.equal(ok.code, 0, ok.err);
  assert.equal(readFileSync(join(d2, "notes.txt"), "utf8"), "mine");
});

test("mst run --force deletes only an mst run directory; compare -o never writes into an input run", () => {
  const thesis = join(dir, "thesis");
  mkdirSync(thesis);
  writeFileSync(join(thesis, "thesis.txt"), "four years of work");
  const before = checksums(thesis);
  badInput(
    mst("run", TOY_TASK, "--preset", "quick", "--out", "thesis", "--force"),
    /^mst: \S*thesis: not an mst run directory .*--force deletes only run directories, so nothing was touched/,
  );
  badInput(
    mst("run", TOY_TASK, "--preset", "quick", "--out", "thesis"),
    /^mst: \S*thesis already exists and is not an empty folder nor an mst run directory; choose another --out/,
  );
  assert.deepEqual(checksums(thesis), before);

  for (const r of ["runA", "runB"])
    assert.equal(
      mst("run", TOY_TASK, "--preset", "quick", "--out", r, "--arms", "baseline,mst", "--seeds", "0", "--jobs", "2")
        .code,
      0,
    );
  const runB = checksums(join(dir, "runB"));
  badInput(
    mst("compare", "runA", "runB", "-o", "runB/results.json"),
    /^mst: runB\/results\.json: is inside the input run directory runB; write the page outside the runs compared/,
  );
  badInput(mst("compare", "runA", "runB", "-o", "runB/sub/../report.html"), /inside the input run directory runB/);
  assert.deepEqual(checksums(join(dir, "runB")), runB);
  // --force over a finished run directory replaces it (it is one)
  const again = mst(
    "run",
    TOY_TASK,
    "--preset",
    "quick",
    "--out",
    "runA",
    "--arms",
    "baseline",
    "--seeds",
    "0",
    "--force",
  );
  assert.equal(again.code, 0, again.err);
  const ok = mst("compare", "runA", "runB", "-o", "cmp/compare.html");
  assert.equal(ok.code, 0, ok.err);
});

test("exit codes: 0 success, 1 the work failed, 2 bad input; documented in mst --help", () => {
  const help = mst("--help");
  assert.equal(help.code, 0);
  assert.equal(mst("help", "run").code, 0);
  assert.equal(mst("run", "--help").code, 0);
  assert.equal(mst("--version").code, 0);
  assert.equal(mst().code, 2, "no command: the help goes to stderr as for any usage error");
  assert.match(help.out, /Exit codes:\n {2}0 {2}success\n {2}1 {2}the work failed .*\n {2}2 {2}bad input/);
  mkdirSync(join(dir, "empty-runs"));
  assert.equal(mst("runs", "empty-runs").code, 0);
  // 1: a job fails
  writeFileSync(
    join(dir, "fail.yaml"),
    `task: ${JSON.stringify(TOY_TASK)}\npreset: quick\narms: [baseline]\nseeds: [0]\noverrides: { failJob: base-b0 }\n`,
  );
  const failed = mst("run", "--spec", "fail.yaml", "--out", "failed-run");
  assert.equal(failed.code, 1, failed.err);
  assert.match(failed.err, /^mst: job base-b0 failed: .*resuming would fail the same way/);
  // 2: flags, spec files, input files
  for (const jobs of ["0", "-1", "257", "1.5", "two", "1e3"])
    badInput(
      mst("run", TOY_TASK, "--jobs", jobs),
      /--jobs <n>' argument .* is invalid\. expected a whole number from 1 to 256/,
    );
  writeFileSync(join(dir, "jobs.yaml"), `task: ${JSON.stringify(TOY_TASK)}\njobs: 100000\n`);
  badInput(mst("run", "--spec", "jobs.yaml"), /^mst: jobs\.yaml:2: jobs: /);
  badInput(mst("run", TOY_TASK, "--frobnicate"), /unknown option '--frobnicate'/);
  badInput(mst("run", "--spec", "missing.yaml"), /^mst: missing\.yaml: cannot read spec/);
  badInput(mst("run", "--resume", "empty-runs"), /spec\.resolved\.json: missing: not a run directory/);
  // a folder that is not a run: no suggestion to --resume it (that cannot help)
  const report = mst("report", "empty-runs");
  badInput(report, /results\.json: missing, and empty-runs is not a run directory \(no spec\.resolved\.json\)/);
  assert.doesNotMatch(report.err, /--resume/);
  badInput(mst("nosuchcommand"), /unknown command/);
});

test("messages name what and where: unknown task, alias bomb, missing field, UTF-8, BOM, folders, dangling links", () => {
  writeFileSync(join(dir, "task.yaml"), "preset: quick\ntask: tyo\n");
  badInput(
    mst("run", "--spec", "task.yaml"),
    /^mst: task\.yaml:2: task: unknown task "tyo"; known tasks: .*sycophancy/,
  );
  badInput(mst("run", "tyo"), /^mst: unknown task "tyo"; known tasks:/);

  const bomb =
    "a: &a [x, x, x, x, x, x, x, x, x]\n" +
    Array.from(
      { length: 9 },
      (_, i) =>
        `b${i}: &b${i} [${Array(9)
          .fill(i === 0 ? "*a" : `*b${i - 1}`)
          .join(", ")}]`,
    ).join("\n") +
    "\n";
  writeFileSync(join(dir, "bomb.yaml"), bomb);
  badInput(mst("run", "--spec", "bomb.yaml"), /^mst: bomb\.yaml: refused: its YAML aliases/);
  badInput(
    mst("arms", "--spec", "bomb.yaml", "--in", "x.jsonl", "--out", "o"),
    /^mst: bomb\.yaml: refused: its YAML aliases/,
  );

  const noMonitor = JSON.parse(SAMPLES[0]) as Record<string, unknown>;
  delete noMonitor.monitor;
  writeFileSync(join(dir, "missing.jsonl"), SAMPLES[1] + "\n" + JSON.stringify(noMonitor) + "\n");
  badInput(
    mst("arms", "--spec", ARMS_SPEC, "--in", "missing.jsonl", "--out", "o1"),
    /^mst: missing\.jsonl:2: field "monitor": required field is missing \(expected object\)$/m,
  );

  const bytes = Buffer.concat([
    Buffer.from(SAMPLES[0] + "\n" + SAMPLES[1] + "\n"),
    Buffer.from(SAMPLES[2].replace("Is this", "Is th\u00e9s"), "utf8").map((b) => (b === 0xa9 ? 0xff : b)),
    Buffer.from("\n"),
  ]);
  writeFileSync(join(dir, "latin.jsonl"), bytes);
  badInput(
    mst("arms", "--spec", ARMS_SPEC, "--in", "latin.jsonl", "--out", "o2"),
    /^mst: latin\.jsonl:3: not valid UTF-8 text/,
  );

  writeFileSync(join(dir, "bom.jsonl"), "\ufeff" + SAMPLES.slice(0, 5).join("\r\n") + "\r\n");
  const bom = mst("arms", "--spec", ARMS_SPEC, "--in", "bom.jsonl", "--out", "o3");
  assert.equal(bom.code, 0, bom.err);
  assert.match(bom.out, /read 5 samples/);

  mkdirSync(join(dir, "a-folder"));
  badInput(
    mst("arms", "--spec", ARMS_SPEC, "--in", "a-folder", "--out", "o4"),
    /^mst: a-folder: is a folder, not a JSONL file/,
  );
  badInput(
    mst("arms", "--spec", "a-folder", "--in", "bom.jsonl", "--out", "o4"),
    /^mst: a-folder: cannot read file \(EISDIR\)/,
  );
  writeFileSync(join(dir, "plain-file"), "x");
  badInput(
    mst("arms", "--spec", ARMS_SPEC, "--in", "bom.jsonl", "--out", "plain-file/sub"),
    /^mst: plain-file[/\\]sub: cannot create output folder: a parent of this path is not a directory \(ENOTDIR\)/,
  );

  mkdirSync(join(dir, "runs-with-link"));
  symlinkSync(join(dir, "nowhere"), join(dir, "runs-with-link", "dangling"));
  const listed = mst("runs", "runs-with-link");
  assert.equal(listed.code, 0, listed.err);
  assert.match(listed.err, /skipped runs-with-link[/\\]dangling: a dangling symlink/);
  badInput(mst("runs", "no-such-folder"), /^mst: no-such-folder: no such folder/);
});
