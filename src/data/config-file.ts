/** Reads a YAML or JSON config/spec file and validates it with zod; errors name the file, line and field. */
import { readFileSync } from "node:fs";
import { LineCounter, isMap, isScalar, parseDocument, type Document } from "yaml";
import type { z } from "zod";
import { ConfigError, describeZodError, issuePath } from "./errors.js";

/**
 * The 1-based line of the entry at `path`, or of its nearest existing parent's value (a key left out is named where
 * its block starts), or null if none is found. An entry that exists is found by its key, whose line is the entry's:
 * the value's own node starts a line later when it is a block (`key:` then indented lines), which reported an unknown
 * key with a block value one line low.
 */
export function lineOf(doc: Document, lc: LineCounter, path: readonly PropertyKey[]): number | null {
  const keys = path.map((p) => (typeof p === "symbol" ? String(p) : p));
  if (keys.length > 0) {
    const parent = keys.length === 1 ? doc.contents : doc.getIn(keys.slice(0, -1), true);
    const k = keys[keys.length - 1];
    const pair = isMap(parent)
      ? parent.items.find((it) => (isScalar(it.key) ? it.key.value : it.key) === k)
      : undefined;
    const keyRange = (pair?.key as { range?: number[] } | null | undefined)?.range;
    if (keyRange) return lc.linePos(keyRange[0]).line;
  }
  for (let n = keys.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(keys.slice(0, n), true);
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    if (range) return lc.linePos(range[0]).line;
  }
  return null;
}

/** YAML text that cannot be turned into a value: a syntax error (with its line) or an alias bomb. */
export interface YamlProblem {
  line: number | null;
  message: string;
}

/** A parsed YAML document, its line counter (for error lines) and its value. */
export interface ParsedYaml {
  doc: Document;
  lines: LineCounter;
  value: unknown;
}

/**
 * Parses YAML (JSON is valid YAML) for every config and spec reader, so they fail alike: a syntax error gives its
 * line, and an alias bomb (a few lines that expand to millions of nodes) is refused without expanding it -- the yaml
 * library throws a bare ReferenceError for it, which would name neither the file nor the problem.
 */
export function parseYaml(text: string): ParsedYaml | YamlProblem {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    return { line: lines.linePos(e.pos[0]).line, message: `not valid YAML/JSON (${e.message.split("\n")[0]})` };
  }
  try {
    return { doc, lines, value: doc.toJS({ maxAliasCount: 100 }) };
  } catch (e) {
    if (e instanceof ReferenceError && /alias/i.test(e.message))
      return { line: null, message: "refused: its YAML aliases (*name) expand too far (over 100 alias uses)" };
    return { line: null, message: `cannot read YAML: ${(e as Error).message}` };
  }
}

/**
 * Parses `text` (YAML; JSON is valid YAML) and validates it against `schema`. `file` is only used in messages.
 * A syntax error or the first schema issue throws `ConfigError` as `file:line: field "a.b": message`.
 */
export function parseConfigText<S extends z.ZodType>(text: string, schema: S, file: string): z.output<S> {
  const y = parseYaml(text);
  if (!("doc" in y)) throw new ConfigError(y.line !== null ? `${file}:${y.line}` : file, "", y.message);
  const { doc, lines: lc } = y;
  const parsed = schema.safeParse(y.value);
  if (!parsed.success) {
    const { field, message } = describeZodError(parsed.error);
    const first = parsed.error.issues[0];
    const line = lineOf(doc, lc, first ? issuePath(first) : []);
    throw new ConfigError(line !== null ? `${file}:${line}` : file, field, message);
  }
  return parsed.data;
}

/** Reads and validates a YAML or JSON file (see `parseConfigText`); a missing file throws `ConfigError` too. */
export function loadConfigFile<S extends z.ZodType>(file: string, schema: S): z.output<S> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new ConfigError(file, "", `cannot read file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseConfigText(text, schema, file);
}
