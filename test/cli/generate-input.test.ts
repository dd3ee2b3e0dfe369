/**
 * `mst generate` under bad input: every flag value is checked before the model loads and names its flag (a negative
 * --max-tokens is not a prompt-length problem), files are named, and each case exits 2 with one line.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeTinyHf } from "../engine/hf/tiny-hf.js";

const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
const root = mkdtempSync(join(tmpdir(), "mst-gen-input-"));
test.after(() => rmSync(root, { recursive: true, force: true }));

function mst(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, "generate", ...args], {
    encoding: "utf8",
    cwd: root,
    env: { ...process.env, MST_DEBUG: "" },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
function badInput(r: ReturnType<typeof mst>, re: RegExp, what: string): void {
  assert.equal(r.code, 2, `${what}: exit code: ${r.err}`);
  assert.equal(r.err.split("\n").filter(Boolean).length, 1, `${what}: ${r.err}`);
  assert.match(r.err, re, what);
  assert.doesNotMatch(r.err, /Cannot read properties|loaded in/, what);
}

test("flag values are refused before the model loads, naming the flag", () => {
  // the model directory does not exist: a flag error that wins proves the flag was checked first
  const cases: Array<[string[], RegExp]> = [
    [["--max-tokens", "-5"], /--max-tokens <n>' argument '-5' is invalid\. expected a positive integer/],
    [["--max-tokens", "0"], /--max-tokens .*expected a positive integer, got "0"/],
    [["--max-tokens", "ten"], /--max-tokens .*got "ten"/],
    [["--temperature", "-1"], /--temperature <t>' argument '-1' is invalid\. expected 0 \(greedy\) or more/],
    [["--temperature", "hot"], /--temperature .*expected a number, got "hot"/],
    [["--temperature", "Infinity"], /--temperature .*expected a number/],
    [["--top-p", "0"], /--top-p .*expected a probability mass in \(0, 1\]/],
    [["--top-p", "1.5"], /--top-p .*\(0, 1\], got "1\.5"/],
    [["--top-k", "0"], /--top-k .*expected a positive integer/],
    [["--seed", "-1"], /--seed .*expected a non-negative integer/],
    [["--storage", "fp8"], /--storage .*expected f32, bf16 or nf4, got "fp8"/],
  ];
  for (const [flags, re] of cases)
    badInput(mst("--model", "no-model", "--prompt", "hi", ...flags), re, flags.join(" "));
  badInput(mst("--model", "no-model"), /give exactly one of --prompt and --messages/, "neither");
  badInput(mst("--model", "no-model", "--prompt", "a", "--messages", "m.json"), /exactly one of/, "both");
  badInput(mst("--model", "no-model", "--messages", "m.json", "--raw"), /--raw goes with --prompt/, "--raw");
});

test("files: a missing model, and --messages missing, not JSON, or with a bad turn, are named (before the load)", async () => {
  const model = join(root, "model");
  await writeTinyHf(model, "qwen2", 4, { shards: 1 });
  badInput(
    mst("--model", "nope", "--prompt", "x"),
    /^mst: nope: not found \(a local model directory; nothing is downloaded\)/,
    "no model",
  );
  const m = (name: string, text: string) => {
    writeFileSync(join(root, name), text);
    return name;
  };
  badInput(mst("--model", model, "--messages", "absent.json"), /^mst: absent\.json: not found$/m, "absent");
  badInput(mst("--model", model, "--messages", m("bad.json", "[{")), /^mst: bad\.json: .*JSON/, "not JSON");
  badInput(mst("--model", model, "--messages", m("empty.json", "[]")), /^mst: empty\.json: \(top level\): /, "empty");
  badInput(
    mst("--model", model, "--messages", m("role.json", '[{"role":"robot","content":"x"}]')),
    /^mst: role\.json: 0\.role: /,
    "role",
  );
  badInput(
    mst("--model", model, "--messages", m("extra.json", '[{"role":"user","content":"x","name":"y"}]')),
    /^mst: extra\.json: 0: /,
    "extra key",
  );
});

test("a model without a chat template, and a prompt longer than the model's context, are bad input naming why", async () => {
  const model = join(root, "model2");
  await writeTinyHf(model, "qwen2", 4, { shards: 1 });
  badInput(
    mst("--model", model, "--prompt", "the cat"),
    /has no chat template \(a base model\?\): use --prompt with --raw/,
    "template",
  );
  const long = Array.from({ length: 3000 }, () => "the cat").join(" ");
  const r = mst("--model", model, "--prompt", long, "--raw");
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /the prompt has \d+ tokens and .* takes at most \d+ positions: no room for a reply/);
});
