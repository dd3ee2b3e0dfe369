/** Error classes of the data layer; each message names the file, line and field at fault. */
import type { z } from "zod";

/** Formats a zod issue path as `prompt.user` / `items[2].name`; "" for the root. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else out += out === "" ? String(p) : `.${String(p)}`;
  }
  return out;
}

/** The path of a zod issue; an unknown key is reported by zod at its parent object, so the key itself is appended. */
export function issuePath(issue: z.core.$ZodIssue): PropertyKey[] {
  const path: PropertyKey[] = [...issue.path];
  if (issue.code === "unrecognized_keys" && issue.keys.length > 0) path.push(issue.keys[0]);
  return path;
}

/**
 * A zod issue's message in plain words: zod says "Invalid input: expected number, received undefined" for a field
 * that is simply not there, which reads like a bug; we say "missing (expected a number)". Unknown keys are named.
 */
export function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === "invalid_type" && /received undefined$/.test(issue.message)) {
    return `required field is missing (expected ${issue.expected})`;
  }
  if (issue.code === "unrecognized_keys" && issue.keys.length > 0) {
    return `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}`;
  }
  return issue.message;
}

/** One line naming the first zod issue (path and message), plus how many more there are. */
export function describeZodError(err: z.ZodError): { field: string; message: string } {
  const first = err.issues[0];
  const path = first ? issuePath(first) : [];
  const more =
    err.issues.length > 1 ? ` (and ${err.issues.length - 1} more issue${err.issues.length > 2 ? "s" : ""})` : "";
  return { field: formatPath(path), message: (first ? issueMessage(first) : "invalid") + more };
}

/** A bad line in a JSONL file: `file:line: field "x.y": message` (line 0: the file as a whole, `file: message`). */
export class JsonlError extends Error {
  override name = "JsonlError";
  constructor(
    readonly file: string,
    readonly line: number,
    readonly field: string,
    readonly detail: string,
  ) {
    super(`${file}${line > 0 ? `:${line}` : ""}: ${field ? `field "${field}": ` : ""}${detail}`);
  }
}

/** A bad value in a config/spec file: `file: field "a.b": message`. */
export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(
    readonly file: string,
    readonly field: string,
    readonly detail: string,
  ) {
    super(`${file}: ${field ? `field "${field}": ` : ""}${detail}`);
  }
}

/** An output path the command must not write to (it is an input, or a non-empty folder without --force). */
export class OutputPathError extends Error {
  override name = "OutputPathError";
  constructor(
    readonly path: string,
    readonly detail: string,
  ) {
    super(`${path}: ${detail}`);
  }
}
