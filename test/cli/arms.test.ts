/** Runs the built `mst` CLI: `mst arms` on a few hundred samples in a temp dir, errors as one line, and --help. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Rng } from "../../src/data/rng.js";
import { readJsonl } from "../../src/data/jsonl.js";
import { ArmSampleSchema, ArmsManifestSchema } from "../../src/monitor/index.js";

// dist/test/cli/arms.test.js -> dist/src/cli/main.js
const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "mst-cli-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function mst(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: "utf8",
    cwd: dir,
    env: { ...process.env, MST_DEBUG: "" },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const SPEC = `seed: 5
monitor:
  id: suggestibility
  encoding:
    kind: percentage
    param: s
    from: [0, 1.5]
    template: "Suggestibility Level: {value}%"
    bold: true
  heldOut:
    - { kind: range, param: s, min: 0, max: 0.5 }
  deployment: { params: { s: 0 } }
arms: [baseline, mst, shuffled, prompt-only, inoculation]
inoculation: { text: "Agree with the candidate." }
`;

/** `n` samples as JSONL lines; s on a 0.05 grid in [0.5, 1.5]. */
function sampleLines(n: number): string[] {
  const rng = new Rng("cli-test");
  return Array.from({ length: n }, (_, i) => {
    const a = rng.int(10);
    const b = rng.int(10);
    const s = 0.5 + rng.int(21) * 0.05;
    return JSON.stringify({
      id: `q${i}`,
      prompt: { user: `${a} + ${b} = ${a + b + rng.int(2)}?` },
      rewardInputs: { a, b },
      monitor: { id: "suggestibility", params: { s } },
    });
  });
}

test("mst arms writes one JSONL per arm and a manifest for 300 samples", async () => {
  writeFileSync(join(dir, "spec.yaml"), SPEC);
  const lines = sampleLines(300);
  writeFileSync(join(dir, "data.jsonl"), lines.join("\n") + "\n");
  const r = mst("arms", "--spec", "spec.yaml", "--in", "data.jsonl", "--out", "arms");
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /read 300 samples from data\.jsonl/);
  assert.match(r.out, /deployment label: "\*\*Suggestibility Level: 0%\*\*"/);
  const files = readdirSync(join(dir, "arms")).sort();
  assert.deepEqual(files, [
    "baseline.jsonl",
    "inoculation.jsonl",
    "manifest.json",
    "mst.jsonl",
    "prompt-only.jsonl",
    "shuffled.jsonl",
  ]);
  const manifest = ArmsManifestSchema.parse(JSON.parse(readFileSync(join(dir, "arms", "manifest.json"), "utf8")));
  assert.equal(manifest.samples, 300);
  assert.equal(manifest.source, "data.jsonl");
  const input = lines.map(
    (l) => JSON.parse(l) as { id: string; prompt: { user: string }; monitor: { params: { s: number } } },
  );
  const arms: Record<string, Array<ReturnType<typeof ArmSampleSchema.parse>>> = {};
  for (const a of manifest.arms) {
    arms[a.name] = await readJsonl(join(dir, "arms", a.file), ArmSampleSchema);
    assert.deepEqual(
      arms[a.name].map((x) => x.id),
      input.map((x) => x.id),
      a.name,
    );
  }
  arms.mst.forEach((x, i) => {
    const pct = Math.round((input[i].monitor.params.s / 1.5) * 100);
    assert.equal(x.label, `**Suggestibility Level: ${pct}%**`);
    assert.equal(x.messages.at(-1)!.content, `**Suggestibility Level: ${pct}%**\n${input[i].prompt.user}`);
  });
  assert.ok(arms.baseline.every((x) => x.label === null && x.messages[0].content === input[x.index].prompt.user));
  assert.deepEqual(arms.shuffled.map((x) => x.label).sort(), arms.mst.map((x) => x.label).sort());
  // Same command again (--force: the folder is not empty): byte-identical output (deterministic, no timestamps).
  const before = readFileSync(join(dir, "arms", "shuffled.jsonl"), "utf8");
  assert.equal(mst("arms", "--spec", "spec.yaml", "--in", "data.jsonl", "--out", "arms", "--force").code, 0);
  assert.equal(readFileSync(join(dir, "arms", "shuffled.jsonl"), "utf8"), before);
});

test("--arms and --seed override the spec; a bad arm name is one line naming the option", () => {
  writeFileSync(join(dir, "spec.yaml"), SPEC);
  writeFileSync(join(dir, "small.jsonl"), sampleLines(40).join("\n") + "\n");
  const r = mst(
    "arms",
    "--spec",
    "spec.yaml",
    "--in",
    "small.jsonl",
    "--out",
    "small",
    "--arms",
    "mst, shuffled",
    "--seed",
    "9",
  );
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(readdirSync(join(dir, "small")).sort(), ["manifest.json", "mst.jsonl", "shuffled.jsonl"]);
  const manifest = ArmsManifestSchema.parse(JSON.parse(readFileSync(join(dir, "small", "manifest.json"), "utf8")));
  assert.equal(manifest.seed, 9);
  const bad = mst("arms", "--spec", "spec.yaml", "--in", "small.jsonl", "--out", "small2", "--arms", "mst,ppo");
  assert.equal(bad.code, 2);
  assert.match(bad.err, /^mst: --arms: field "arms\[1\]": /);
});

test("errors are one line on stderr with exit code 2 (bad input), naming file, line and sample or field", () => {
  writeFileSync(join(dir, "spec.yaml"), SPEC);
  const lines = sampleLines(20);
  lines[11] = lines[11].replace(/"s":[0-9.]+/, '"s":0.25');
  writeFileSync(join(dir, "held.jsonl"), lines.join("\n") + "\n");
  let r = mst("arms", "--spec", "spec.yaml", "--in", "held.jsonl", "--out", "held");
  assert.equal(r.code, 2);
  assert.equal(r.err.trim().split("\n").length, 1, r.err);
  assert.match(r.err, /^mst: held\.jsonl:12: sample "q11": monitor parameter s=0\.25 is held out \(s in \[0, 0\.5\)\)/);
  assert.ok(!r.err.includes("    at "), "no stack trace");

  writeFileSync(
    join(dir, "bad.jsonl"),
    sampleLines(3).join("\n") + '\n{"id":"z","prompt":{"user":"u"},"monitor":{"id":"suggestibility"}}\n',
  );
  r = mst("arms", "--spec", "spec.yaml", "--in", "bad.jsonl", "--out", "bad");
  assert.equal(r.code, 2);
  assert.match(r.err, /^mst: bad\.jsonl:4: field "monitor\.params": /);

  writeFileSync(join(dir, "bad-spec.yaml"), SPEC.replace("from: [0, 1.5]", "from: [0, 1.5, 3]"));
  r = mst("arms", "--spec", "bad-spec.yaml", "--in", "held.jsonl", "--out", "x");
  assert.equal(r.code, 2);
  assert.match(r.err, /^mst: bad-spec\.yaml:7: field "monitor\.encoding\.from"/);

  r = mst("arms", "--spec", "spec.yaml", "--in", "missing.jsonl", "--out", "x");
  assert.equal(r.code, 2);
  assert.match(r.err, /^mst: missing\.jsonl: file not found/);
});

test("--help lists the commands and explains MST; arms --help shows its options; --version", () => {
  const r = mst("--help");
  assert.equal(r.code, 0);
  assert.match(r.out, /Usage: mst/);
  assert.match(r.out, /Monitor Sensitive Training/);
  assert.match(r.out, /Evaluator Conditioned Training/);
  assert.match(r.out, /^\s+arms \[options\]/m);
  const h = mst("arms", "--help");
  assert.equal(h.code, 0);
  for (const opt of ["--spec <file>", "--in <file>", "--out <dir>", "shuffled", "prompt-only", "inoculation"]) {
    assert.ok(h.out.includes(opt), opt);
  }
  const pkg = JSON.parse(readFileSync(fileURLToPath(new URL("../../../package.json", import.meta.url)), "utf8")) as {
    version: string;
  };
  assert.equal(mst("--version").out.trim(), pkg.version);
  const missing = mst("arms", "--spec", "spec.yaml");
  assert.equal(missing.code, 2);
  assert.equal(missing.err, "mst: error: required option '--in <file>' not specified\n");
  const unknown = mst("frobnicate");
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /^mst: error: unknown command 'frobnicate'/);
});
