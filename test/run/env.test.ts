/** env.json names mst's own version and revision, never the revision of a repository mst happens to sit in. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { collectEnv, mstGitRevision, mstVersion } from "../../src/run/env.js";

const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "mst-env-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd, encoding: "utf8" }).trim();

test("env.json records mst's package version and the revision of mst's own checkout", () => {
  const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string };
  const env = collectEnv(1);
  assert.equal(env.mstVersion, pkg.version);
  assert.equal(mstVersion(), pkg.version);
  // this test runs from a checkout: its HEAD, "-dirty" only when src/ has local changes
  assert.match(env.gitRevision ?? "", new RegExp(`^${git(REPO, "rev-parse", "HEAD")}(-dirty)?$`));
});

test("mst installed inside a user's git repository records no revision (not the user's), a checkout its own", () => {
  const user = join(dir, "user-project");
  const installed = join(user, "node_modules", "mst");
  mkdirSync(installed, { recursive: true });
  writeFileSync(join(installed, "package.json"), JSON.stringify({ name: "mst", version: "9.8.7" }));
  git(user, "init", "-q");
  writeFileSync(join(user, "notes.txt"), "the user's work\n");
  git(user, "add", "notes.txt");
  git(user, "commit", "-qm", "user");
  assert.equal(mstGitRevision(installed), null);
  assert.equal(mstVersion(installed), "9.8.7");
  // outside any repository: no revision either
  const bare = join(dir, "bare");
  mkdirSync(bare);
  writeFileSync(join(bare, "package.json"), "{ not json");
  assert.equal(mstGitRevision(bare), null);
  assert.equal(mstVersion(bare), "unknown");
  // a checkout whose top is the package root: its revision, "-dirty" once src/ changes
  const own = join(dir, "own");
  mkdirSync(join(own, "src"), { recursive: true });
  writeFileSync(join(own, "package.json"), JSON.stringify({ name: "mst", version: "1.2.3" }));
  writeFileSync(join(own, "src", "a.ts"), "1\n");
  git(own, "init", "-q");
  git(own, "add", ".");
  git(own, "commit", "-qm", "own");
  const head = git(own, "rev-parse", "HEAD");
  assert.equal(mstGitRevision(own), head);
  writeFileSync(join(own, "src", "a.ts"), "2\n");
  assert.equal(mstGitRevision(own), `${head}-dirty`);
});
