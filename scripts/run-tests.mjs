// Runs every compiled test file under dist/test with node's built-in runner.
// Node 20's `--test` takes no globs, so we list the files ourselves.
// Usage: node scripts/run-tests.mjs [substring ...]   (only files whose path contains one of the substrings)
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith(".test.js")) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2);
// a compiled test whose source was renamed or deleted stays in dist/ until a clean build: skip it
const hasSource = (f) => existsSync(f.replace(/^dist[\\/]/, "").replace(/\.js$/, ".ts"));
const files = walk("dist/test")
  .filter(hasSource)
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error("no test files matched " + JSON.stringify(filters));
  process.exit(1);
}
// a hung test fails after 5 minutes instead of using up CI's time
const r = spawnSync(process.execPath, ["--test", "--test-concurrency=2", "--test-timeout=300000", ...files], {
  stdio: "inherit",
});
process.exit(r.status ?? 1);
