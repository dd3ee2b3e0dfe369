/** The custom task's files: samples and corpus JSONL read synchronously (jobs need them as plain arrays), each error naming file:line:field. */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { JsonlError } from "../../data/errors.js";
import { parseJsonlLine } from "../../data/jsonl.js";
import { PromptPartsSchema, SampleSchema, type PromptParts, type Sample } from "../../data/sample.js";

/** A file's records with their 1-based lines. */
export interface Lined<T> {
  values: T[];
  lines: number[];
}

/**
 * The file's lines, each decoded as strict UTF-8: an invalid byte is an error naming file and line (Node's lenient
 * "utf8" read turned it into U+FFFD, which then travelled into exported rows unseen). A leading BOM is dropped.
 */
function readLines(file: string): string[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new JsonlError(file, 0, "", `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  const lines: string[] = [];
  let start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  for (;;) {
    const nl = bytes.indexOf(0x0a, start);
    const end = nl < 0 ? bytes.length : nl;
    try {
      lines.push(decoder.decode(bytes.subarray(start, end)));
    } catch {
      throw new JsonlError(file, lines.length + 1, "", "not valid UTF-8 text (save the file as UTF-8)");
    }
    if (nl < 0) return lines;
    start = nl + 1;
  }
}

/** Every non-blank line of a JSONL file, validated by `schema`; the first bad one throws `JsonlError` (file:line: field). */
export function readJsonlSync<S extends z.ZodType>(file: string, schema: S): Lined<z.output<S>> {
  const out: Lined<z.output<S>> = { values: [], lines: [] };
  readLines(file).forEach((text, i) => {
    if (text.trim() === "") return;
    out.values.push(parseJsonlLine(text, schema, file, i + 1));
    out.lines.push(i + 1);
  });
  return out;
}

const cache = new Map<string, Lined<Sample>>();

/** The samples of a JSONL file (the `mst arms` sample format), read once per process. */
export function readSamplesSync(file: string): Lined<Sample> {
  let s = cache.get(file);
  if (!s) {
    s = readJsonlSync(file, SampleSchema);
    if (s.values.length === 0) throw new JsonlError(file, 0, "", "no samples (the file is empty)");
    cache.set(file, s);
  }
  return s;
}

/** A corpus document: free text, or a prompt in the task's format with its completion (and the stance it follows). */
export const CorpusLineSchema = z.union([
  z.strictObject({ text: z.string().min(1).describe("A free-text document") }),
  z.strictObject({
    prompt: PromptPartsSchema,
    completion: z.string().describe("What follows the prompt"),
    stance: z
      .string()
      .min(1)
      .optional()
      .describe("The label value this completion follows (a stance statement is put at the label's slot)"),
  }),
]);

export type CorpusDoc =
  | { kind: "text"; text: string; line: number }
  | { kind: "prompt"; prompt: PromptParts; completion: string; stance?: string; line: number };

/** The corpus: .jsonl lines as CorpusLineSchema, any other file one document per non-blank line. */
export function readCorpus(file: string): CorpusDoc[] {
  const docs: CorpusDoc[] = [];
  if (file.endsWith(".jsonl")) {
    const { values, lines } = readJsonlSync(file, CorpusLineSchema);
    for (const [i, v] of values.entries())
      docs.push(
        "text" in v ? { kind: "text", text: v.text, line: lines[i] } : { kind: "prompt", ...v, line: lines[i] },
      );
  } else
    readLines(file).forEach((t, i) => {
      if (t.trim() !== "") docs.push({ kind: "text", text: t, line: i + 1 });
    });
  // an empty .jsonl corpus too: pretraining on nothing gives a base that knows nothing, and no error said so
  if (docs.length === 0) throw new JsonlError(file, 0, "", "the corpus is empty (no documents)");
  return docs;
}
