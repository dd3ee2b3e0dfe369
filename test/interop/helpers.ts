/** Shared bits of the interop tests: spec files in a temp directory and reading exports back. */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `mst-${prefix}-`));
}

/** Writes a spec file and returns its path. */
export function specFile(dir: string, name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

export const SYC_MICRO =
  "task: sycophancy\npreset: micro\narms: [baseline, mst, shuffled, prompt-only]\nseeds: [0]\nbaseSeeds: [0]\n";
export const PB_QUICK = "task: political-bias\npreset: quick\nseeds: [0]\nbaseSeeds: [0]\n";

export function readJsonl(file: string): Record<string, unknown>[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
