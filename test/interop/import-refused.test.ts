/**
 * A refused `mst import` leaves nothing a resume would trust: no run directory (and no staging folder) after one bad
 * adapter among good ones, the old run intact under --force, and `mst run --resume` on the refused --out trains
 * nothing. The adapters here are PEFT files without a base to load them against (the copy path), so this runs in seconds.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { encodeSafetensors } from "../../src/engine/safetensors.js";
import { exportSpec } from "../../src/interop/export.js";
import { importRuns } from "../../src/interop/import.js";
import { SYC_MICRO, specFile, tempDir } from "./helpers.js";
import { checksums } from "../cli-helpers.js";

const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
const JOBS = ["train-baseline-b0-s0", "train-mst-b0-s0", "train-shuffled-b0-s0"];
const dir = tempDir("import-refused");
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** A PEFT adapter folder (config + weights file) as an engine leaves it under jobs/<id>/output/. */
function adapter(exp: string, id: string, config: unknown, weights = true): void {
  const out = join(exp, "jobs", id, "output", "adapter");
  rmSync(join(exp, "jobs", id, "output"), { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, "adapter_config.json"), typeof config === "string" ? config : JSON.stringify(config));
  if (weights) writeFileSync(join(out, "adapter_model.safetensors"), loraWeights());
}

/** A small but real PEFT weights file: LoRA A and B of layer 0's q_proj and v_proj at rank 4 (no base to fit). */
function loraWeights(): Uint8Array {
  const t = (shape: number[]) => ({ shape, data: new Float32Array(shape[0] * shape[1]).fill(0.01) });
  const at = (m: string, ab: "A" | "B") => `base_model.model.model.layers.0.self_attn.${m}.lora_${ab}.weight`;
  return encodeSafetensors([
    [at("q_proj", "A"), t([4, 8])],
    [at("q_proj", "B"), t([8, 4])],
    [at("v_proj", "A"), t([4, 8])],
    [at("v_proj", "B"), t([8, 4])],
  ]);
}
const GOOD = { r: 4, lora_alpha: 8, target_modules: ["q_proj", "v_proj"], peft_type: "LORA" };

const mst = (...args: string[]) =>
  spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", cwd: dir, env: { ...process.env, MST_DEBUG: "" } });

test("one bad adapter among good ones: refused with exit 2, no run directory, no staging left, resume trains nothing", async () => {
  const spec = specFile(dir, "syc.yaml", SYC_MICRO);
  const exp = join(dir, "export");
  await exportSpec({ spec, target: "trl", out: exp });
  // each way an adapter is refused, always the last job (the first two were already taken when it is reached)
  const bad: Array<[string, () => void, RegExp]> = [
    ["no weights", () => adapter(exp, JOBS[2], GOOD, false), /adapter_model\.safetensors: missing/],
    ["rank 0", () => adapter(exp, JOBS[2], { ...GOOD, r: 0 }), /adapter_config\.json: r: /],
    ["not JSON", () => adapter(exp, JOBS[2], "{ r: 4"), /adapter_config\.json: not JSON/],
    ["no target modules", () => adapter(exp, JOBS[2], { ...GOOD, target_modules: [] }), /target_modules/],
  ];
  adapter(exp, JOBS[0], GOOD);
  adapter(exp, JOBS[1], GOOD);
  for (const [what, breakIt, re] of bad) {
    breakIt();
    const r = mst("import", "--target", "trl", exp, "--out", "run");
    assert.equal(r.status, 2, `${what}: ${r.stderr}`);
    assert.match(r.stderr, re, what);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.ok(!existsSync(join(dir, "run")), `${what}: no run directory is left`);
    assert.deepEqual(
      readdirSync(dir).filter((n) => n.includes("import")),
      [],
      `${what}: no staging folder is left`,
    );
    // the run a resume would have trained the refused arm in does not exist: resume refuses, trains nothing
    const resume = mst("run", "--resume", "run");
    assert.equal(resume.status, 2, resume.stderr);
    assert.match(resume.stderr, /spec\.resolved\.json: missing: not a run directory/);
  }
  // --partial takes no bad adapter either: a refused adapter is never left to "train locally"
  await assert.rejects(importRuns({ target: "trl", dir: exp, out: join(dir, "run"), partial: true }), /target_modules/);
  assert.ok(!existsSync(join(dir, "run")));
});

test("a refused --force import leaves the earlier run byte-identical; a good one replaces it", async () => {
  const spec = specFile(dir, "syc2.yaml", SYC_MICRO);
  const exp = join(dir, "export2");
  await exportSpec({ spec, target: "trl", out: exp });
  for (const id of JOBS) adapter(exp, id, GOOD);
  const out = join(dir, "run2");
  const first = await importRuns({ target: "trl", dir: exp, out });
  assert.deepEqual(first.imported, JOBS);
  assert.ok(JOBS.every((id) => existsSync(join(out, "jobs", id, "result.json"))));
  const before = checksums(out);
  // without --force: the existing run is refused at once
  await assert.rejects(importRuns({ target: "trl", dir: exp, out }), /already exists; pass --force/);
  adapter(exp, JOBS[1], { ...GOOD, lora_alpha: -1 });
  await assert.rejects(importRuns({ target: "trl", dir: exp, out, force: true }), /lora_alpha/);
  assert.deepEqual(checksums(out), before);
  adapter(exp, JOBS[1], GOOD);
  const again = await importRuns({ target: "trl", dir: exp, out, force: true });
  assert.deepEqual(again.imported, JOBS);
  // --force never replaces a folder that is not a run directory
  const mine = join(dir, "mine");
  mkdirSync(mine);
  writeFileSync(join(mine, "notes.txt"), "keep");
  await assert.rejects(importRuns({ target: "trl", dir: exp, out: mine, force: true }), /not an mst run directory/);
  assert.equal(readFileSync(join(mine, "notes.txt"), "utf8"), "keep");
});
