/** JSONL I/O: errors name file, line and field; writes are atomic; the appender survives a torn last line. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import {
  JsonlAppender,
  JsonlError,
  SampleSchema,
  readJsonl,
  readJsonlLocated,
  writeFileAtomic,
  writeJsonl,
} from "../../src/data/index.js";

const dir = mkdtempSync(join(tmpdir(), "mst-jsonl-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const good = (id: string) => ({
  id,
  prompt: { user: "1 + 1 = 2?" },
  monitor: { id: "suggestibility", params: { s: 0.8 } },
});

async function readError(file: string): Promise<JsonlError> {
  try {
    await readJsonl(file, SampleSchema);
  } catch (e) {
    assert.ok(e instanceof JsonlError, String(e));
    return e;
  }
  assert.fail("expected a JsonlError");
}

test("reads valid samples with line numbers, applying defaults and skipping blank lines", async () => {
  const f = join(dir, "ok.jsonl");
  writeFileSync(f, JSON.stringify(good("a")) + "\n\n" + JSON.stringify(good("b")) + "\n");
  const recs = await readJsonlLocated(f, SampleSchema);
  assert.deepEqual(
    recs.map((r) => [r.value.id, r.line, r.value.prompt.labelSlot]),
    [
      ["a", 1, "user-prefix"],
      ["b", 3, "user-prefix"],
    ],
  );
});

test('a bad field is reported as file:line: field "path": message', async () => {
  const f = join(dir, "bad-field.jsonl");
  const bad = { ...good("b"), monitor: { id: "suggestibility", params: { s: [1] } } };
  writeFileSync(f, [good("a"), good("x"), bad].map((r) => JSON.stringify(r)).join("\n") + "\n");
  const e = await readError(f);
  assert.equal(e.line, 3);
  assert.equal(e.field, "monitor.params.s");
  assert.ok(e.message.startsWith(`${f}:3: field "monitor.params.s": `), e.message);
});

test("missing field, unknown key, wrong enum and malformed JSON each name their place", async () => {
  const cases: Array<[string, unknown, string]> = [
    ["missing", { id: "a", monitor: good("a").monitor }, "prompt"],
    ["unknown", { ...good("a"), colour: "red" }, "colour"],
    ["slot", { ...good("a"), prompt: { user: "u", labelSlot: "middle" } }, "prompt.labelSlot"],
    [
      "deep",
      { ...good("a"), meta: { tags: [1, { x: undefined, y: () => 0 }] }, rewardInputs: { k: [1, "a", {}] } },
      "",
    ],
  ];
  for (const [name, rec, field] of cases) {
    const f = join(dir, `${name}.jsonl`);
    writeFileSync(f, JSON.stringify(good("first")) + "\n" + JSON.stringify(rec) + "\n");
    if (field === "") {
      assert.equal((await readJsonl(f, SampleSchema)).length, 2); // functions/undefined vanish in JSON: valid
      continue;
    }
    const e = await readError(f);
    assert.equal(e.line, 2, name);
    assert.equal(e.field, field, name);
  }
  const f = join(dir, "malformed.jsonl");
  writeFileSync(f, JSON.stringify(good("a")) + "\n{not json\n");
  const e = await readError(f);
  assert.match(e.message, /malformed\.jsonl:2: malformed JSON/);
  await assert.rejects(readJsonl(join(dir, "nope.jsonl"), SampleSchema), /nope\.jsonl: file not found/);
});

test("writeJsonl validates every record before touching the file, and replaces it atomically", async () => {
  const f = join(dir, "out", "w.jsonl");
  writeJsonl(f, [good("a"), good("b")], SampleSchema);
  assert.equal((await readJsonl(f, SampleSchema)).length, 2);
  const before = readFileSync(f, "utf8");
  assert.throws(
    () => writeJsonl(f, [good("c"), { ...good("d"), id: "" }], SampleSchema),
    (e: unknown) => e instanceof JsonlError && e.line === 2 && e.field === "id",
  );
  assert.equal(readFileSync(f, "utf8"), before);
  assert.deepEqual(readdirSync(join(dir, "out")), ["w.jsonl"]); // no temp file left behind
  writeFileAtomic(join(dir, "out", "t.txt"), "hello");
  assert.equal(readFileSync(join(dir, "out", "t.txt"), "utf8"), "hello");
});

test("JsonlAppender keeps earlier lines, cuts a torn tail on reopen, and a reader can skip a torn tail", async () => {
  const Row = z.strictObject({ step: z.int(), loss: z.number() });
  const f = join(dir, "log.jsonl");
  const a = JsonlAppender.open(f, Row);
  a.append({ step: 1, loss: 0.5 });
  a.append({ step: 2, loss: 0.4 });
  assert.throws(() => a.append({ step: 3, loss: "x" } as never), /log\.jsonl:3: field "loss"/);
  a.close();
  assert.equal(existsSync(f), true);
  // A crash in the middle of a write leaves half a line.
  appendFileSync(f, '{"step":3,"lo');
  await assert.rejects(readJsonl(f, Row), /log\.jsonl:3: malformed JSON/);
  const torn: number[] = [];
  const rows = await readJsonl(f, Row, { tornTail: "skip", onTornTail: (line) => torn.push(line) });
  assert.deepEqual(
    rows.map((r) => r.step),
    [1, 2],
  );
  assert.deepEqual(torn, [3]);
  const b = JsonlAppender.open(f, Row);
  assert.equal(b.truncatedBytes, '{"step":3,"lo'.length);
  assert.equal(b.lines, 2);
  b.append({ step: 3, loss: 0.3 });
  b.close();
  assert.deepEqual(
    (await readJsonl(f, Row)).map((r) => r.step),
    [1, 2, 3],
  );
  // A complete last line without a newline is kept by the tolerant reader (it is not torn).
  const g = join(dir, "noeol.jsonl");
  writeFileSync(g, '{"step":1,"loss":1}\n{"step":2,"loss":2}');
  assert.equal((await readJsonl(g, Row, { tornTail: "skip" })).length, 2);
});

test("strict UTF-8: an invalid byte is an error naming file and line; a BOM and CRLF line ends are accepted", async (t) => {
  const d = mkdtempSync(join(tmpdir(), "mst-utf8-"));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  const f = join(d, "x.jsonl");
  writeFileSync(f, Buffer.concat([Buffer.from('{"a":"ok"}\n{"a":"caf'), Buffer.from([0xe9]), Buffer.from('"}\n')]));
  await assert.rejects(readJsonl(f, z.object({ a: z.string() })), /x\.jsonl:2: not valid UTF-8 text/);
  // a character split across read chunks is still decoded whole (lines are split on bytes, then decoded)
  const long = "é".repeat(70_000);
  writeFileSync(f, "\ufeff" + JSON.stringify({ a: long }) + "\r\n" + JSON.stringify({ a: "b" }) + "\r\n");
  const recs = await readJsonl(f, z.object({ a: z.string() }));
  assert.deepEqual(
    recs.map((r) => r.a.length),
    [70_000, 1],
  );
  assert.equal(recs[0].a, long);
  await assert.rejects(readJsonl(d, z.object({})), /mst-utf8-\w+: is a folder, not a JSONL file/);
});

test("a 50 MB line is read in linear time, and lines that span read chunks come back whole and numbered", async () => {
  // one 50 MB line took 38 s when the line was re-joined with every 64 KiB chunk (quadratic); linear is ~1 s here.
  // The bound is generous (shared 2-core machines): it fails only the quadratic reader.
  const big = join(dir, "big.jsonl");
  const text = "x".repeat(50 * 1024 * 1024);
  writeFileSync(big, JSON.stringify({ a: "first" }) + "\n" + JSON.stringify({ a: text }) + "\n");
  const t0 = Date.now();
  const rows = await readJsonlLocated(big, z.object({ a: z.string() }));
  const seconds = (Date.now() - t0) / 1000;
  assert.deepEqual(
    rows.map((r) => [r.line, r.value.a.length]),
    [
      [1, 5],
      [2, text.length],
    ],
  );
  assert.ok(seconds < 15, `reading a 50 MB line took ${seconds.toFixed(1)} s`);
  rmSync(big);
  // lines of many lengths around the 64 KiB chunk size, CRLF ends split across chunks, no newline at the end
  const lens = [1, 65535, 65536, 65537, 3, 131071, 0, 200000, 7];
  const lines = lens.map((n, i) => JSON.stringify({ a: "é".repeat(Math.floor(n / 2)) + String(i) }));
  const mixed = join(dir, "mixed.jsonl");
  writeFileSync(mixed, lines.map((l, i) => l + (i % 2 ? "\r\n" : "\n")).join("") + JSON.stringify({ a: "end" }));
  const got = await readJsonlLocated(mixed, z.object({ a: z.string() }));
  assert.deepEqual(
    got.map((r) => r.value.a),
    [...lines.map((l) => (JSON.parse(l) as { a: string }).a), "end"],
  );
  assert.deepEqual(
    got.map((r) => r.line),
    lens.map((_, i) => i + 1).concat([lens.length + 1]),
  );
});
