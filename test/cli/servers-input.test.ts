/**
 * The servers under bad input: a non-loopback --host without a key is refused (exit 2) unless --no-key-on-network
 * says so, with a key only /health answers without it; a model that cannot be loaded is bad input (exit 2); the
 * reward server's 400s speak our words, not zod's ("received undefined").
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { saveCheckpoint } from "../../src/engine/checkpoint.js";
import { isLoopbackHost } from "../../src/cli/exposure.js";
import { peakedModel, tok } from "../serve/fixture.js";

const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "mst-servers-input-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const SPEC = join(dir, "syc.yaml");
writeFileSync(SPEC, "task: sycophancy\npreset: micro\narms: [mst]\nseeds: [0]\nbaseSeeds: [0]\n");

const mst = (args: string[], env: Record<string, string> = {}) => {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: "utf8",
    cwd: dir,
    env: { ...process.env, MST_DEBUG: "", ...env },
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
function badInput(r: ReturnType<typeof mst>, re: RegExp): void {
  assert.equal(r.code, 2, `exit code: ${r.err}`);
  assert.equal(r.err.split("\n").filter(Boolean).length, 1, r.err);
  assert.match(r.err, re);
  assert.doesNotMatch(r.err, /Cannot read properties|received undefined/);
}

/** Starts a server process and resolves with the first URL it prints on stdout. */
async function started(t: TestContext, args: string[], env: Record<string, string> = {}): Promise<string> {
  const p: ChildProcess = spawn(process.execPath, [CLI, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  t.after(() => {
    if (p.exitCode === null) p.kill("SIGKILL");
  });
  let err = "";
  p.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    let out = "";
    p.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /(http:\/\/[^\s/]+)/.exec(out);
      if (m) resolve(m[1]);
    });
    p.on("exit", (code) => reject(new Error(`exited ${code}: ${err}`)));
  });
}

test("loopback hosts are told from the rest", () => {
  for (const h of ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]", "LOCALHOST"]) assert.ok(isLoopbackHost(h), h);
  for (const h of ["0.0.0.0", "::", "10.0.0.5", "192.168.1.2", "example.org", "128.0.0.1", "127.0.0.1.example"])
    assert.ok(!isLoopbackHost(h), h);
});

test("a non-loopback --host without --api-key-env is refused before anything loads (serve, serve-reward)", async () => {
  const model = join(dir, "model");
  await saveCheckpoint(model, peakedModel(5), { tokenizer: tok });
  for (const host of ["0.0.0.0", "::", "10.1.2.3"]) {
    badInput(
      mst(["serve", "--model", model, "--host", host, "--port", "0"]),
      new RegExp(`^mst: --host ${host.replace(/\./g, "\\.")} listens beyond this machine without a key`),
    );
    badInput(
      mst(["serve-reward", "--spec", SPEC, "--host", host, "--port", "0"]),
      /listens beyond this machine without a key: .*--api-key-env NAME/,
    );
  }
  // a model that is not there: bad input too, from the model load
  badInput(mst(["serve", "--model", join(dir, "nope"), "--port", "0"]), /nope: model directory not found/);
  const notModel = join(dir, "not-a-model");
  mkdirSync(notModel);
  writeFileSync(join(notModel, "config.json"), "{ nope");
  badInput(mst(["serve", "--model", notModel, "--port", "0"]), /not-a-model/);
});

test("with a key on 0.0.0.0 only /health answers without it; --no-key-on-network opens it knowingly", async (t) => {
  const url = await started(
    t,
    ["serve-reward", "--spec", SPEC, "--host", "0.0.0.0", "--port", "0", "--api-key-env", "MST_TEST_KEY", "--quiet"],
    { MST_TEST_KEY: "k-1" },
  );
  const local = url.replace("0.0.0.0", "127.0.0.1");
  assert.equal((await fetch(`${local}/health`)).status, 200);
  const body = JSON.stringify({ query: [], prompts: [], labels: [] });
  assert.equal((await fetch(`${local}/get_reward`, { method: "POST", body })).status, 401);
  const keyed = { authorization: "Bearer k-1" };
  assert.equal((await fetch(`${local}/get_reward`, { method: "POST", body, headers: keyed })).status, 200);
  // a request without the fields: our words, naming the field
  const r = await fetch(`${local}/get_reward`, { method: "POST", body: "{}", headers: keyed });
  assert.equal(r.status, 400);
  const text = await r.text();
  assert.match(text, /query: required field is missing/);
  assert.doesNotMatch(text, /received undefined/);

  const open = await started(t, [
    "serve-reward",
    "--spec",
    SPEC,
    "--host",
    "0.0.0.0",
    "--port",
    "0",
    "--no-key-on-network",
    "--quiet",
  ]);
  const openLocal = open.replace("0.0.0.0", "127.0.0.1");
  assert.equal((await fetch(`${openLocal}/get_reward`, { method: "POST", body })).status, 200);
});
