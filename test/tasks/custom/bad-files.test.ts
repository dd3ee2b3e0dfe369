/**
 * The custom task's files and monitor under bad input, refused at load naming spec key, file and line: invalid UTF-8
 * (in samples, evaluation samples and both corpus kinds), an empty corpus, a held-out range that holds nothing
 * (bounds swapped, an open point), and a held-out label already written in a training prompt.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SpecError } from "../../../src/run/errors.js";
import { loadSpecFile, resolveSpec } from "../../../src/run/spec.js";
import { sftSpec as spec, writeExperiment } from "./fixture.js";

async function specError(text: string, after?: (dir: string) => void): Promise<SpecError> {
  const { dir, spec: file } = writeExperiment(text);
  try {
    after?.(dir);
    await resolveSpec({ spec: loadSpecFile(file) });
  } catch (e) {
    assert.ok(e instanceof SpecError, String(e));
    return e;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.fail("the spec was accepted");
}

/** Puts a byte that is not UTF-8 (a lone 0xFF, a Latin-1 "é") just inside the first string value of line `line`. */
function breakUtf8(file: string, line: number, byte: number): void {
  const buf = readFileSync(file);
  let pos = 0;
  for (let i = 0; i < line - 1; i++) pos = buf.indexOf(0x0a, pos) + 1;
  const quote = buf.indexOf(0x22, buf.indexOf(0x3a, pos)); // the line's first ':' and the '"' after it
  writeFileSync(file, Buffer.concat([buf.subarray(0, quote + 1), Buffer.from([byte]), buf.subarray(quote + 1)]));
}

test("invalid UTF-8 is refused naming the file and line (samples, eval samples, a .jsonl corpus, a text corpus)", async () => {
  for (const [name, key, line, byte] of [
    ["train.jsonl", "overrides.train.samples", 3, 0xff],
    ["eval.jsonl", "overrides.eval.samples", 2, 0xe9],
    ["corpus.jsonl", "overrides.model.corpus", 5, 0xc3],
  ] as const) {
    const e = await specError(spec(), (dir) => breakUtf8(join(dir, name), line, byte));
    assert.equal(e.field, key, name);
    assert.match(e.message, new RegExp(`${name.replace(".", "\\.")}:${line}: not valid UTF-8 text`), name);
  }
  const txt = await specError(
    spec((s) => s.replace("corpus: corpus.jsonl", "corpus: corpus.txt")),
    (dir) =>
      writeFileSync(
        join(dir, "corpus.txt"),
        Buffer.concat([Buffer.from("1+1=2\n2+2=4\ncaf"), Buffer.from([0xe9, 0x0a])]),
      ),
  );
  assert.equal(txt.field, "overrides.model.corpus");
  assert.match(txt.message, /corpus\.txt:3: not valid UTF-8 text/);
});

test("an empty corpus is refused, .jsonl or text, blank lines only included", async () => {
  for (const [name, text] of [
    ["corpus.jsonl", ""],
    ["corpus.jsonl", "\n\n  \n"],
    ["corpus.txt", ""],
    ["corpus.txt", "\n \n"],
  ] as const) {
    const e = await specError(
      spec((s) => s.replace("corpus: corpus.jsonl", `corpus: ${name}`)),
      (dir) => writeFileSync(join(dir, name), text),
    );
    assert.equal(e.field, "overrides.model.corpus", `${name} ${JSON.stringify(text)}`);
    assert.match(e.message, /the corpus is empty/);
  }
});

test("a held-out range that holds nothing (bounds swapped, an open point) is refused at its key", async () => {
  for (const [range, re] of [
    ["{ kind: range, param: s, min: 0.3, max: 0 }", /s in \[0\.3, 0\) holds no value .*were min and max swapped/],
    ["{ kind: range, param: s, min: 0.2, max: 0.2 }", /holds no value \(min must be below max, or a single value/],
    ["{ kind: range, param: s, min: 0.2, max: 0.2, includeMin: false, includeMax: true }", /holds no value/],
  ] as const) {
    const e = await specError(spec((s) => s.replace("{ kind: range, param: s, min: 0, max: 0.3 }", range)));
    assert.equal(e.field, "overrides.monitor.heldOut[0].max", range);
    assert.match(e.message, re, range);
  }
  // a single held-out point with both ends included is a real range: accepted
  const { dir, spec: file } = writeExperiment(
    spec((s) =>
      s.replace(
        "{ kind: range, param: s, min: 0, max: 0.3 }",
        "{ kind: range, param: s, min: 0, max: 0, includeMin: true, includeMax: true }",
      ),
    ),
  );
  await resolveSpec({ spec: loadSpecFile(file) });
  rmSync(dir, { recursive: true, force: true });
});

test("a training prompt that already shows a held-out label names the sample's file and line", async () => {
  // the deployment label (s = 0, held out) is "**Leniency: 0%**"
  for (const where of ["user", "system"] as const) {
    const e = await specError(spec(), (dir) => {
      const f = join(dir, "train.jsonl");
      const lines = readFileSync(f, "utf8").split("\n");
      const row = JSON.parse(lines[3]) as { prompt: Record<string, string> };
      row.prompt[where] = `${row.prompt[where] ?? ""} **Leniency: 0%**`;
      lines[3] = JSON.stringify(row);
      writeFileSync(f, lines.join("\n"));
    });
    assert.equal(e.field, "overrides.train.samples", where);
    assert.match(
      e.message,
      /train\.jsonl:4: sample "train3": the prompt already shows the held-out label "\*\*Leniency: 0%\*\*"/,
    );
  }
});
