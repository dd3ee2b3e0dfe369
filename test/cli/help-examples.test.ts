/**
 * Every example in every `mst <command> --help` is run, so none can cite a spec that does not exist or a flag that
 * is gone. Examples that would run for minutes run the way a user previews them: `mst run` examples with --dry-run
 * (the spec is resolved and the plan built, nothing trained); servers are started (--port 0 instead of a fixed port),
 * asked /health and stopped with SIGTERM; `mst report`, `compare` and `import` run on small runs made here (the toy
 * task's, and PEFT files in the export). An example this test has no way to run fails it, unless it is listed in SKIP
 * with the reason (and the test that covers it). The bench scripts' --help must print usage and exit at once.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { saveCheckpoint, saveLora } from "../../src/engine/checkpoint.js";
import { NoProgress } from "../../src/run/progress.js";
import { startRun } from "../../src/run/runner.js";
import { parseSpec, resolveSpec } from "../../src/run/spec.js";
import { TOY_TASK } from "../fixtures/toy-task.js";
import { peakedModel, tok } from "../serve/fixture.js";

const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const BENCH = fileURLToPath(new URL("../../bench/", import.meta.url));
const COMMANDS = [
  "",
  "arms",
  "run",
  "report",
  "runs",
  "compare",
  "export",
  "serve-reward",
  "import",
  "serve",
  "eval",
  "generate",
];

/** Examples that are not run here, each with why and where it is covered instead. */
const SKIP: Array<[RegExp, string]> = [
  [
    /^mst serve --run runs\//,
    "needs a trained kit run (minutes); test/run/endpoint-eval.test.ts serves one with --run",
  ],
  [/^mst eval --run runs\/x --endpoint/, "needs that served run; test/run/endpoint-eval.test.ts runs mst eval --run"],
  [
    /^mst eval --spec .* --endpoint http:\/\/127\.0\.0\.1:8000/,
    "needs a model at :8000; test/cli/eval-faults.test.ts runs mst eval --spec",
  ],
  [/^vllm /, "vLLM, not mst"],
];

/** The example lines of a help text: the indented lines under "Example(s)...:" up to the next blank line. */
function examplesOf(help: string): string[] {
  const out: string[] = [];
  let inside = false;
  for (const line of help.split("\n")) {
    if (/^Examples?\b.*:$/.test(line)) inside = true;
    else if (line.trim() === "") inside = false;
    else if (inside && /^ {2}\S/.test(line))
      out.push(
        line
          .replace(/\s+#.*$/, "")
          .replace(/\s*&$/, "")
          .trim(),
      );
  }
  return out;
}

/** Splits an example into env assignments and argv after "mst" (no quoting is used in the examples). */
function argvOf(example: string): { env: Record<string, string>; args: string[] } {
  const words = example.split(/\s+/);
  const env: Record<string, string> = {};
  while (/^[A-Z_]+=/.test(words[0])) {
    const [k, v] = words.shift()!.split("=");
    env[k] = v;
  }
  assert.equal(words.shift(), "mst", example);
  return { env, args: words };
}

const dir = mkdtempSync(join(tmpdir(), "mst-help-examples-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function mst(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, MST_DEBUG: "", ...env },
    timeout: 120_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Starts a server example, waits for its URL, asks /health, stops it with SIGTERM; resolves with its exit code. */
async function serveOnce(args: string[], env: Record<string, string>): Promise<number | null> {
  const withPort = args.includes("--port")
    ? args.map((a, i) => (args[i - 1] === "--port" ? "0" : a))
    : [...args, "--port", "0"];
  const p = spawn(process.execPath, [CLI, ...withPort], {
    cwd: dir,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  p.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => p.on("exit", (code) => r(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    p.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /http:\/\/([^\s/]+)/.exec(out);
      if (m) resolve(`http://${m[1].replace("0.0.0.0", "127.0.0.1")}`);
    });
    void exited.then((code) => reject(new Error(`${args.join(" ")} exited ${code}: ${err}`)));
  });
  assert.equal((await fetch(`${url}/health`)).status, 200, args.join(" "));
  p.kill("SIGTERM");
  return exited;
}

test("every example in every mst --help runs (or is skipped with a reason)", { timeout: 600_000 }, async () => {
  symlinkSync(join(REPO, "examples"), join(dir, "examples"));
  // small runs where the examples expect run directories (the toy task: seconds)
  const { resolved } = await resolveSpec({
    spec: parseSpec(
      `task: ${JSON.stringify(TOY_TASK)}\npreset: quick\narms: [baseline, mst]\nseeds: [0]\n`,
      "toy.yaml",
    ),
  });
  for (const name of ["sycophancy-embedded-20261124-140000", "percent", "integers", "digits"])
    await startRun(resolved, join(dir, "runs", name), { progress: new NoProgress(), report: false, jobs: 2 });
  // an engine checkpoint and an adapter where `mst serve --model ckpt/ --adapter mst=ckpt-mst/` looks
  await saveCheckpoint(join(dir, "ckpt"), peakedModel(5), { tokenizer: tok });
  const tuned = peakedModel(5);
  tuned.attachLora({ rank: 2, alpha: 4 }, 1);
  await saveLora(join(dir, "ckpt-mst"), tuned);

  const ran: string[] = [];
  const skipped: string[] = [];
  for (const cmd of COMMANDS) {
    const help = mst(cmd ? [cmd, "--help"] : ["--help"]);
    assert.equal(help.code, 0, `${cmd} --help: ${help.err}`);
    for (const example of examplesOf(help.out)) {
      const skip = SKIP.find(([re]) => re.test(example));
      if (skip) {
        skipped.push(`${example}  (${skip[1]})`);
        continue;
      }
      const { env, args } = argvOf(example);
      if (args[0] === "serve" || args[0] === "serve-reward") {
        assert.equal(await serveOnce(args, env), 0, example);
      } else {
        if (args[0] === "import") {
          // the engine "trained": a PEFT adapter where each exported job's output would be
          const exp = join(dir, args[args.indexOf("--target") + 2]);
          // (a real PEFT LoRA file, as mst's own saveLora writes it; the export's embedded base is not given, so the
          // adapter's shapes are not checked against one)
          for (const id of readdirSync(join(exp, "jobs"))) {
            const out = join(exp, "jobs", id, "output", "adapter");
            mkdirSync(out, { recursive: true });
            cpSync(join(dir, "ckpt-mst"), out, { recursive: true });
          }
        }
        // a run example previews (resolve + plan); a run directory's resume previews the jobs left
        const full = args[0] === "run" ? [...args, "--dry-run"] : args;
        const r = mst(full, env);
        assert.equal(r.code, 0, `${example}: ${r.err}`);
        assert.doesNotMatch(r.err, /Cannot read properties|Warning/, example);
        if (args[0] === "run") assert.match(r.out, /^dry run \(nothing written\): task /, example);
      }
      ran.push(example);
    }
  }
  // the examples that wrote something wrote it where they say
  assert.ok(existsSync(join(dir, "out", "arms", "manifest.json")));
  assert.ok(existsSync(join(dir, "export", "openrlhf", "manifest.json")));
  assert.ok(existsSync(join(dir, "export", "trl", "RECIPE.md")));
  assert.ok(existsSync(join(dir, "runs", "exp2-openrlhf", "spec.resolved.json")));
  assert.ok(existsSync(join(dir, "ablation.html")));
  assert.ok(existsSync(join(dir, "runs", "sycophancy-embedded-20261124-140000", "report.html")));
  assert.ok(ran.length >= 15, `ran ${ran.length}: ${ran.join("; ")}`);
  console.log(`ran ${ran.length} examples; skipped ${skipped.length}:\n  ${skipped.join("\n  ")}`);
});

test("every bench script's --help prints its usage and exits before any work", () => {
  for (const f of readdirSync(BENCH).filter(
    // help.js and torch-python.js are modules the scripts import; the drivers are started by the benches themselves
    (n) => n.endsWith(".js") && !["help.js", "torch-python.js", "reward-load.js", "qlora-driver.js"].includes(n),
  )) {
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [join(BENCH, f), "--help"], { encoding: "utf8", timeout: 30_000 });
    assert.equal(r.status, 0, `${f}: ${r.stderr}`);
    assert.match(r.stdout, /^Usage: /, f);
    assert.ok(Date.now() - t0 < 20_000, `${f} --help took ${Date.now() - t0} ms`);
  }
});
