/** JSONL reading, streamed line by line and validated with zod; a bad line throws naming file, line and field. */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import type { z } from "zod";
import { JsonlError, describeZodError } from "./errors.js";

/** A validated record and the 1-based line it came from (so later errors can point back at the file). */
export interface Located<T> {
  value: T;
  line: number;
}

/** Parses and validates one JSONL line; throws `JsonlError` naming `file:line` and the field path. */
export function parseJsonlLine<S extends z.ZodType>(text: string, schema: S, file: string, line: number): z.output<S> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new JsonlError(file, line, "", `malformed JSON (${(e as Error).message})`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const { field, message } = describeZodError(parsed.error);
    throw new JsonlError(file, line, field, message);
  }
  return parsed.data;
}

/**
 * Streams a JSONL file, yielding each validated record with its line number. Blank lines are skipped (a trailing
 * newline is normal). Validation stops at the first bad line, which is reported with file, line and field.
 */
export async function* iterJsonl<S extends z.ZodType>(file: string, schema: S): AsyncGenerator<Located<z.output<S>>> {
  const rl = createInterface({ input: createReadStream(file, { encoding: "utf8" }), crlfDelay: Infinity });
  let line = 0;
  try {
    for await (const text of rl) {
      line++;
      if (text.trim() === "") continue;
      yield { value: parseJsonlLine(text, schema, file, line), line };
    }
  } finally {
    rl.close();
  }
}

/** Reads a whole JSONL file into memory as validated records with their line numbers. */
export async function readJsonlLocated<S extends z.ZodType>(file: string, schema: S): Promise<Located<z.output<S>>[]> {
  const out: Located<z.output<S>>[] = [];
  for await (const rec of iterJsonl(file, schema)) out.push(rec);
  return out;
}

/** Reads a whole JSONL file into memory as validated records. */
export async function readJsonl<S extends z.ZodType>(file: string, schema: S): Promise<z.output<S>[]> {
  const out: z.output<S>[] = [];
  for await (const rec of iterJsonl(file, schema)) out.push(rec.value);
  return out;
}
