/**
 * `mst export` never loses data: a non-empty --out needs --force (as `mst arms` and `mst run`), a folder holding the
 * spec is refused even with --force, a file is not a folder, and a reward URL that is not one is refused; every case
 * exits 2 with one line, and the folder's files are byte-identical afterwards.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { badInput, checksums, runMst } from "../cli-helpers.js";

const dir = mkdtempSync(join(tmpdir(), "mst-export-out-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const SPEC = "task: sycophancy\npreset: micro\narms: [mst]\nseeds: [0]\nbaseSeeds: [0]\n";
writeFileSync(join(dir, "syc.yaml"), SPEC);

const mst = (...args: string[]) => runMst(dir, args);
const exp = (out: string, ...more: string[]) =>
  mst("export", "--spec", "syc.yaml", "--target", "openrlhf", "--out", out, ...more);

test("a non-empty --out is refused without --force; the user's run.sh and manifest.json are untouched", () => {
  const out = join(dir, "mine");
  mkdirSync(out);
  writeFileSync(join(out, "run.sh"), "#!/bin/sh\necho my own script\n");
  writeFileSync(join(out, "manifest.json"), '{"mine": true}\n');
  const before = checksums(out);
  badInput(exp("mine"), /^mst: mine: output folder is not empty \(2 entries\); pass --force/);
  // a folder with one hidden file is not empty either
  mkdirSync(join(dir, "hidden"));
  writeFileSync(join(dir, "hidden", ".keep"), "");
  badInput(exp("hidden"), /^mst: hidden: output folder is not empty \(1 entry\)/);
  assert.deepEqual(checksums(out), before);
  // --force replaces the exported files (and only those): the user's other files stay
  writeFileSync(join(out, "notes.txt"), "keep me\n");
  const r = exp("mine", "--force");
  assert.equal(r.code, 0, r.err);
  assert.equal(readFileSync(join(out, "notes.txt"), "utf8"), "keep me\n");
  assert.match(readFileSync(join(out, "manifest.json"), "utf8"), /"format": "mst-export\/1"/);
  // and a second export over its own earlier export needs --force as well
  badInput(exp("mine"), /^mst: mine: output folder is not empty/);
});

test("a spec inside --out is never written over, even with --force (manifest.json, run.sh, any name, via ..)", () => {
  for (const name of ["manifest.json", "run.sh", "RECIPE.md", "my-spec.yaml"]) {
    const out = join(dir, `with-${name}`);
    mkdirSync(join(out, "sub"), { recursive: true });
    writeFileSync(join(out, name), SPEC);
    const before = checksums(out);
    badInput(
      mst("export", "--spec", join(`with-${name}`, name), "--target", "trl", "--out", `with-${name}/sub/..`, "--force"),
      new RegExp(`holds the spec being exported .*${name.replace(".", "\\.")}\\); export would write over it`),
    );
    assert.deepEqual(checksums(out), before, name);
  }
  // without --force the non-empty rule speaks first: still nothing written
  badInput(exp("with-run.sh"), /output folder is not empty/);
});

test("--out naming a file, and a --reward-url that is not an http(s) URL, are bad input before anything is written", () => {
  writeFileSync(join(dir, "a-file"), "x");
  badInput(exp("a-file"), /^mst: a-file: is a file, not a folder/);
  for (const url of ["not a url", "ftp://host/x", "127.0.0.1:5000", ""]) {
    badInput(exp("fresh", "--reward-url", url), /--reward-url .*(not a URL|must be http)/);
    assert.ok(!existsSync(join(dir, "fresh")), `nothing written for ${JSON.stringify(url)}`);
  }
  const r = exp("fresh", "--reward-url", "https://rm.example:8443/get_reward");
  assert.equal(r.code, 0, r.err);
  assert.match(readFileSync(join(dir, "fresh", "manifest.json"), "utf8"), /rm\.example:8443/);
});
