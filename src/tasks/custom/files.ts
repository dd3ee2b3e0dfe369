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

function readText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw new JsonlError(file, 0, "", `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** Every non-blank line of a JSONL file, validated by `schema`; the first bad one throws `JsonlError` (file:line: field). */
export function readJsonlSync<S extends z.ZodType>(file: string, schema: S): Lined<z.output<S>> {
  const out: Lined<z.output<S>> = { values: [], lines: [] };
  readText(file)
    .split("\n")
    .forEach((text, i) => {
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
  if (file.endsWith(".jsonl")) {
    const { values, lines } = readJsonlSync(file, CorpusLineSchema);
    return values.map((v, i) =>
      "text" in v ? { kind: "text", text: v.text, line: lines[i] } : { kind: "prompt", ...v, line: lines[i] },
    );
  }
  const docs: CorpusDoc[] = [];
  readText(file)
    .split("\n")
    .forEach((t, i) => {
      if (t.trim() !== "") docs.push({ kind: "text", text: t, line: i + 1 });
    });
  if (docs.length === 0) throw new JsonlError(file, 0, "", "the corpus is empty");
  return docs;
}
