/** Reads a YAML or JSON config/spec file and validates it with zod; errors name the file, line and field. */
import { readFileSync } from "node:fs";
import { LineCounter, parseDocument, type Document } from "yaml";
import type { z } from "zod";
import { ConfigError, describeZodError, issuePath } from "./errors.js";

/** The 1-based line of the node at `path` (or of its nearest existing parent), or null if none is found. */
function lineOf(doc: Document, lc: LineCounter, path: readonly PropertyKey[]): number | null {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    if (range) return lc.linePos(range[0]).line;
  }
  return null;
}

/**
 * Parses `text` (YAML; JSON is valid YAML) and validates it against `schema`. `file` is only used in messages.
 * A syntax error or the first schema issue throws `ConfigError` as `file:line: field "a.b": message`.
 */
export function parseConfigText<S extends z.ZodType>(text: string, schema: S, file: string): z.output<S> {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const line = lc.linePos(e.pos[0]).line;
    throw new ConfigError(`${file}:${line}`, "", `not valid YAML/JSON (${e.message.split("\n")[0]})`);
  }
  const parsed = schema.safeParse(doc.toJS());
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
