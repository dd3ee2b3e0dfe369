/** Helpers the CLI tests share: running `mst` in a folder, the bad-input contract, checksums of a folder's files. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";

/** The compiled CLI's entry. */
export const CLI = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));

export interface MstResult {
  code: number | null;
  out: string;
  err: string;
}

/** Runs `mst ...args` in `cwd` (MST_DEBUG off, so errors are the one-line user messages). */
export function runMst(cwd: string, args: readonly string[]): MstResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: "utf8",
    cwd,
    env: { ...process.env, MST_DEBUG: "" },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Exit code 2 with exactly one stderr line matching `re`. */
export function badInput(r: MstResult, re: RegExp): void {
  assert.equal(r.code, 2, `exit code: ${r.err}`);
  assert.equal(r.err.split("\n").filter(Boolean).length, 1, r.err);
  assert.match(r.err, re);
}

/** SHA-256 of every file under `root` (relative path -> hash). */
export function checksums(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(root, { recursive: true }).map(String).sort()) {
    const p = join(root, f);
    if (statSync(p).isFile()) out[f] = createHash("sha256").update(readFileSync(p)).digest("hex");
  }
  return out;
}
