/** Reads a generated run.sh back into argument vectors, as /bin/sh would split them (quotes, line continuations). */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Splits one command line into words: '...' literal, "..." with $-expansion left as text, \ line continuations. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let cur: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === "\\" && line[i + 1] === "\n") {
      i++;
      continue;
    }
    if (c === " " || c === "\n" || c === "\t") {
      if (cur !== null) words.push(cur);
      cur = null;
      continue;
    }
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      cur = (cur ?? "") + line.slice(i + 1, end);
      i = end;
      continue;
    }
    if (c === '"') {
      const end = line.indexOf('"', i + 1);
      cur = (cur ?? "") + line.slice(i + 1, end);
      i = end;
      continue;
    }
    cur = (cur ?? "") + c;
  }
  if (cur !== null) words.push(cur);
  return words;
}

/** The commands of a run.sh (after each `echo "== <job>"`), by job id. */
export function runShCommands(file: string): Map<string, string[]> {
  const text = readFileSync(file, "utf8");
  const out = new Map<string, string[]>();
  const parts = text.split(/^echo "== ([^"]+)"\n/m);
  for (let i = 1; i < parts.length; i += 2) out.set(parts[i], shellWords(parts[i + 1].trim()));
  return out;
}

/** `${MST_GPUS:-1}` as the shell expands it with MST_GPUS unset. */
export const expandDefaults = (s: string): string => s.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, "$1");

/** Runs run.sh unedited with stand-ins for python3 / deepspeed that record their argv (one JSON line per call). */
export function runWithStandIns(out: string): string[][] {
  const bin = join(out, "stand-in-bin");
  const log = join(out, "argv.jsonl");
  mkdirSync(bin, { recursive: true });
  for (const name of ["python3", "deepspeed", "torchrun"]) {
    writeFileSync(
      join(bin, name),
      `#!/bin/sh\nnode -e 'require("fs").appendFileSync(process.argv[1], JSON.stringify(process.argv.slice(2))+"\\n")' "${log}" "${name}" "$@"\n`,
    );
    chmodSync(join(bin, name), 0o755);
  }
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${bin}:${process.env.PATH}`, MST_BASES: "/bases" };
  delete env.MST_GPUS;
  const r = spawnSync("sh", [join(out, "run.sh")], { env, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return readFileSync(log, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as string[]);
}

/** The $MST_GPUS values a RECIPE.md says the recipe runs on ("it may be 1, 2, 4, 8 here"). */
export function gpuCountsOf(recipeMd: string): number[] {
  const m = /\$MST_GPUS GPUs .*?it may be ([\d, ]+) here/.exec(recipeMd);
  assert.ok(m, "RECIPE.md names the GPU counts the recipe runs on");
  return m[1].split(",").map((x) => Number(x.trim()));
}
