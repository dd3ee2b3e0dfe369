/** JSONL reading, streamed line by line and validated with zod; a bad line throws naming file, line and field. */
import { closeSync, createReadStream, existsSync, openSync, readSync, statSync } from "node:fs";
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

/** How to read a JSONL file. */
export interface ReadJsonlOptions {
  /**
   * A last line without a trailing newline that is not valid JSON is what a crash mid-append leaves behind.
   * "error" (default) reports it like any bad line; "skip" drops it, for resuming from a log written by `JsonlAppender`.
   */
  tornTail?: "error" | "skip";
  /** Called when a torn last line was skipped, with its line number and text. */
  onTornTail?: (line: number, text: string) => void;
}

/** Whether the file's last byte is a newline (an empty file counts as terminated). */
function endsWithNewline(file: string): boolean {
  const size = statSync(file).size;
  if (size === 0) return true;
  const fd = openSync(file, "r");
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, size - 1);
    return b[0] === 0x0a;
  } finally {
    closeSync(fd);
  }
}

/**
 * Streams a JSONL file, yielding each validated record with its line number. Blank lines are skipped (a trailing
 * newline is normal). Validation stops at the first bad line, which is reported with file, line and field.
 */
export async function* iterJsonl<S extends z.ZodType>(
  file: string,
  schema: S,
  options: ReadJsonlOptions = {},
): AsyncGenerator<Located<z.output<S>>> {
  if (!existsSync(file)) throw new JsonlError(file, 0, "", "file not found");
  const unterminated = options.tornTail === "skip" && !endsWithNewline(file);
  const rl = createInterface({ input: createReadStream(file, { encoding: "utf8" }), crlfDelay: Infinity });
  let line = 0;
  // One line of look-ahead, so the last line can be treated as possibly torn.
  let pending: { text: string; line: number } | null = null;
  try {
    for await (const text of rl) {
      line++;
      if (text.trim() === "") continue;
      if (pending) yield { value: parseJsonlLine(pending.text, schema, file, pending.line), line: pending.line };
      pending = { text, line };
    }
    if (pending) {
      if (unterminated && !isJson(pending.text)) options.onTornTail?.(pending.line, pending.text);
      else yield { value: parseJsonlLine(pending.text, schema, file, pending.line), line: pending.line };
    }
  } finally {
    rl.close();
  }
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Reads a whole JSONL file into memory as validated records with their line numbers. */
export async function readJsonlLocated<S extends z.ZodType>(
  file: string,
  schema: S,
  options: ReadJsonlOptions = {},
): Promise<Located<z.output<S>>[]> {
  const out: Located<z.output<S>>[] = [];
  for await (const rec of iterJsonl(file, schema, options)) out.push(rec);
  return out;
}

/** Reads a whole JSONL file into memory as validated records. */
export async function readJsonl<S extends z.ZodType>(
  file: string,
  schema: S,
  options: ReadJsonlOptions = {},
): Promise<z.output<S>[]> {
  const out: z.output<S>[] = [];
  for await (const rec of iterJsonl(file, schema, options)) out.push(rec.value);
  return out;
}
