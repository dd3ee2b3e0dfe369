/**
 * The one Python the border tests run: the test venv that .ci/run builds from test/python/requirements.txt (torch,
 * transformers, peft, trl, datasets, pyarrow, tensorboard, openai, ...). Tests find it through MST_TEST_PYTHON; by
 * default the venv lives outside the source tree, in ~/.cache/mst/test-venv, so every checkout and worktree shares it.
 * Set it up as a user would: `bash scripts/test-venv.sh` (what .ci/run runs).
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { missingMessage, systemDepsRequired } from "./system-deps.js";

/** The venv's directory: MST_TEST_VENV, else ~/.cache/mst/test-venv. */
export const testVenv = process.env.MST_TEST_VENV ?? join(homedir(), ".cache", "mst", "test-venv");

/** The interpreter: MST_TEST_PYTHON, else the venv's python (MST_TORCH_PYTHON is still read, for old setups). */
export const testPython: string =
  process.env.MST_TEST_PYTHON ??
  process.env.MST_TORCH_PYTHON ??
  (existsSync(join(testVenv, "bin", "python")) ? join(testVenv, "bin", "python") : "python3");

const cache = new Map<string, boolean>();

/** Whether the test Python imports every module named (cached per set). */
export function pythonHas(...modules: string[]): boolean {
  const key = modules.join(",");
  let ok = cache.get(key);
  if (ok === undefined) {
    ok = spawnSync(testPython, ["-c", `import ${modules.join(", ")}`], { encoding: "utf8" }).status === 0;
    cache.set(key, ok);
  }
  return ok;
}

/**
 * A `skip` option for node:test: false when the modules import, else the reason. Under MST_REQUIRE_SYSTEM_DEPS=1
 * (.ci/run installed the venv) a missing module throws instead, so a broken install step never hides behind a skip.
 */
export function skipUnlessPython(...modules: string[]): false | string {
  if (pythonHas(...modules)) return false;
  const what = `Python modules ${modules.join(", ")} in ${testPython}`;
  if (systemDepsRequired) throw new Error(missingMessage(what) + " (bash scripts/test-venv.sh)");
  return `no ${what} (bash scripts/test-venv.sh sets them up)`;
}

/** Absolute path of a file under test/ from a compiled test (the .py files are not compiled into dist/). */
export function testSourcePath(relFromTest: string): string {
  return fileURLToPath(new URL(`../../test/${relFromTest}`, import.meta.url));
}

/** Runs the test Python on a script with args; throws with stderr when it fails. Returns stdout. */
export function runPython(
  script: string,
  args: string[],
  opts: { input?: string; timeoutMs?: number; cwd?: string } = {},
): string {
  const r = spawnSync(testPython, [script, ...args], {
    encoding: "utf8",
    input: opts.input,
    cwd: opts.cwd,
    timeout: opts.timeoutMs ?? 240_000,
    maxBuffer: 256 * 1024 * 1024,
    env: {
      ...process.env,
      TOKENIZERS_PARALLELISM: "false",
      HF_HUB_OFFLINE: "1",
      TRANSFORMERS_OFFLINE: "1",
      HF_DATASETS_OFFLINE: "1",
    },
  });
  if (r.status !== 0) throw new Error(`${script} failed (${r.status ?? r.signal}):\n${r.stderr}`);
  return r.stdout;
}
