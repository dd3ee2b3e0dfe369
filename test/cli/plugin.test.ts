/**
 * The plug-in path end to end, as a researcher takes it: mst packed with `npm pack`, installed from the tarball into a
 * folder outside the repository, the example plug-in (examples/tasks/strict-grader/task.js) copied there and
 * type-checked against the installed package's types, run with the installed `mst run ./task.js`, killed with SIGKILL
 * mid-run, and finished with `mst run --resume DIR` from another cwd.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

// dist/test/cli/plugin.test.js -> the repository root
const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const EXAMPLE = join(REPO, "examples", "tasks", "strict-grader", "task.js");
const TSC = join(REPO, "node_modules", "typescript", "bin", "tsc");

interface LockEntry {
  dev?: boolean;
  [key: string]: unknown;
}
interface Lockfile {
  packages: Record<string, LockEntry>;
}

/**
 * package.json and package-lock.json of a project that depends on the mst tarball only. mst's dependencies are the
 * repository lockfile's non-dev entries, so `npm ci --offline` installs them from the npm cache (which holds their
 * tarballs, but not the registry metadata a plain `npm install <tarball>` resolves versions from).
 */
function writeProject(dir: string, tarball: string): void {
  const lock = JSON.parse(readFileSync(join(REPO, "package-lock.json"), "utf8")) as Lockfile;
  const root = lock.packages[""];
  const spec = `file:./${tarball}`;
  const integrity =
    "sha512-" +
    createHash("sha512")
      .update(readFileSync(join(dir, tarball)))
      .digest("base64");
  const packages: Record<string, unknown> = {
    "": { name: "my-experiments", dependencies: { "monitor-sensitive-training": spec } },
    "node_modules/monitor-sensitive-training": {
      version: root.version,
      resolved: spec,
      integrity,
      dependencies: root.dependencies,
      bin: root.bin,
      engines: root.engines,
    },
  };
  for (const [path, entry] of Object.entries(lock.packages))
    if (path.startsWith("node_modules/") && entry.dev !== true) packages[path] = entry;
  const pkg = {
    name: "my-experiments",
    private: true,
    type: "module",
    dependencies: { "monitor-sensitive-training": spec },
  };
  writeFileSync(join(dir, "package.json"), JSON.stringify(pkg, null, 2) + "\n");
  writeFileSync(
    join(dir, "package-lock.json"),
    JSON.stringify({ name: "my-experiments", lockfileVersion: 3, requires: true, packages }, null, 2) + "\n",
  );
}

/** Runs a command to completion; fails the test with its output when it exits non-zero. */
function must(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, npm_config_update_notifier: "false" },
  });
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")} (in ${cwd}) failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const finished = (dir: string): string[] =>
  existsSync(join(dir, "jobs"))
    ? readdirSync(join(dir, "jobs")).filter((id) => existsSync(join(dir, "jobs", id, "result.json")))
    : [];

test("a plug-in task in a folder outside the repository: npm pack + install, mst run ./task.js, kill -9, --resume", async (t) => {
  const app = mkdtempSync(join(tmpdir(), "mst-plugin-app-"));
  let child: ChildProcess | null = null;
  t.after(() => {
    if (child !== null && child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, "SIGKILL");
    rmSync(app, { recursive: true, force: true });
  });
  assert.ok(!app.startsWith(REPO), "the project lives outside the repository");

  // the package as published: dist/ is already built by the test run, so pack skips `prepare`
  const packed = must("npm", ["pack", "--ignore-scripts", "--pack-destination", app, "--json"], REPO);
  const tarball = (JSON.parse(packed) as Array<{ filename: string; files: Array<{ path: string }> }>)[0];
  const files = tarball.files.map((f) => f.path);
  for (const f of ["dist/src/experiment/index.js", "dist/src/experiment/index.d.ts", "dist/src/cli/main.js"])
    assert.ok(files.includes(f), `the tarball lacks ${f}`);
  assert.ok(files.includes("dist/src/tasks/sycophancy-addition/seed-figures.json"), "JSON the tasks import is packed");
  // the native library's C sources are compiled on the user's machine at first use, so they ship; no other source does
  const cSources = ["src/engine/gemm/native-gemm.c", "src/engine/ops/native-ops.c"];
  for (const c of cSources) assert.ok(files.includes(c), `the native library's source ${c} is packed`);
  assert.ok(
    !files.some((f) => f.startsWith("dist/test/") || (f.startsWith("src/") && !cSources.includes(f))),
    "no tests or TypeScript sources in the package",
  );

  writeProject(app, tarball.filename);
  must("npm", ["ci", "--offline", "--no-audit", "--no-fund"], app);
  copyFileSync(EXAMPLE, join(app, "task.js"));

  // the plug-in type-checks against the installed package's declarations ("monitor-sensitive-training/experiment" with types)
  const tsc = spawnSync(
    process.execPath,
    [
      TSC,
      "--noEmit",
      "--allowJs",
      "--checkJs",
      "--strict",
      "--module",
      "nodenext",
      "--target",
      "es2022",
      "--skipLibCheck",
      "task.js",
    ],
    { cwd: app, encoding: "utf8" },
  );
  assert.equal(tsc.status, 0, `tsc on the plug-in:\n${tsc.stdout}${tsc.stderr}`);

  // `mst run ./task.js` through the installed bin, in its own process group so one SIGKILL reaches its workers
  const mst = join(app, "node_modules", ".bin", "mst");
  const dir = join(app, "runs", "grader");
  const run = spawn(mst, ["run", "./task.js", "--out", "runs/grader", "--jobs", "2"], {
    cwd: app,
    detached: true,
    stdio: ["ignore", "ignore", "pipe"],
  });
  child = run;
  let stderr = "";
  run.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  // kill once the base and a first trained arm are finished: some jobs are reused, most are still to run
  const deadline = Date.now() + 240_000;
  while (!finished(dir).some((id) => id.startsWith("train-"))) {
    assert.ok(run.exitCode === null, `the run ended before it was killed:\n${stderr}`);
    assert.ok(Date.now() < deadline, "no training job finished within 4 minutes");
    await new Promise((r) => setTimeout(r, 100));
  }
  process.kill(-run.pid!, "SIGKILL");
  await new Promise((r) => run.once("close", r));
  const before = finished(dir);
  assert.ok(!existsSync(join(dir, "results.json")), "killed before the end");

  // the stored task is the module's absolute path: resume (and report) from any cwd
  const stored = JSON.parse(readFileSync(join(dir, "spec.resolved.json"), "utf8")) as { task: string; preset: string };
  assert.equal(stored.task, join(app, "task.js"));
  const out = must(mst, ["run", "--resume", dir], tmpdir());
  const m = /finished: (\d+) jobs run, (\d+) reused/.exec(out);
  assert.ok(m, out);
  assert.equal(Number(m[2]), before.length);
  assert.ok(Number(m[1]) > 0);

  const results = JSON.parse(readFileSync(join(dir, "results.json"), "utf8")) as {
    task: string;
    headline: Record<string, number>;
    bars: Array<{ arm: string; mean: number }>;
  };
  assert.equal(results.task, "strict-grader");
  for (const arm of ["base", "baseline", "mst", "shuffled", "prompt-only"]) {
    const v = results.headline[`padding ${arm}`];
    assert.ok(Number.isFinite(v) && v >= 0 && v <= 1, `padding ${arm}: ${v}`);
  }
  // every planned job finished: 1 base + its evaluation + 3 trained arms x 3 seeds + 4 evaluated arms x 3 seeds
  assert.equal(finished(dir).length, 23);
  for (const f of ["report.html", "summary.md"]) assert.ok(existsSync(join(dir, f)), `${f} missing`);
  const html = readFileSync(join(dir, "report.html"), "utf8");
  assert.match(html, /Example plug-in: MST against a grader/);

  // `mst report` and `mst runs` load the plug-in from the stored path too
  assert.match(must(mst, ["report", dir], REPO), /wrote .*report\.html/);
  assert.match(must(mst, ["runs", join(app, "runs")], REPO), /grader\s+strict-grader\s+embedded\s+complete/);
});
