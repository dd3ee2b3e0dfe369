/**
 * Parquet files for verl, written with hyparquet-writer from a small typed column description (strings, int64,
 * structs, lists of structs), so nested columns like `prompt: list<struct<role, content>>` come out as verl's
 * pandas/pyarrow loader expects them.
 */
import { writeFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { parquetWriteBuffer } from "hyparquet-writer";

/** A column type: a UTF-8 string, a 64-bit integer, a double, a struct, or a list (nullable strings with `?`). */
export type PqType = "string" | "string?" | "int64" | "double" | { struct: Record<string, PqType> } | { list: PqType };

interface SchemaElement {
  name: string;
  type?: "BYTE_ARRAY" | "INT64" | "DOUBLE";
  converted_type?: "UTF8" | "LIST";
  repetition_type?: "REQUIRED" | "OPTIONAL" | "REPEATED";
  num_children?: number;
}

function elements(name: string, t: PqType): SchemaElement[] {
  if (t === "string" || t === "string?")
    return [
      { name, type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: t === "string" ? "REQUIRED" : "OPTIONAL" },
    ];
  if (t === "int64") return [{ name, type: "INT64", repetition_type: "REQUIRED" }];
  if (t === "double") return [{ name, type: "DOUBLE", repetition_type: "REQUIRED" }];
  if ("struct" in t) {
    const kids = Object.entries(t.struct);
    return [
      { name, repetition_type: "REQUIRED", num_children: kids.length },
      ...kids.flatMap(([k, v]) => elements(k, v)),
    ];
  }
  // the standard three-level list: <name> (LIST) / list (repeated) / element
  return [
    { name, repetition_type: "REQUIRED", converted_type: "LIST", num_children: 1 },
    { name: "list", repetition_type: "REPEATED", num_children: 1 },
    ...elements("element", t.list),
  ];
}

/** A value as hyparquet-writer takes it: int64 as BigInt, recursively. */
function convert(t: PqType, v: unknown): unknown {
  if (t === "int64") return BigInt(v as number);
  if (typeof t === "string") return v;
  if ("struct" in t) {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(Object.entries(t.struct).map(([k, kt]) => [k, convert(kt, o[k] ?? null)]));
  }
  return (v as unknown[]).map((x) => convert(t.list, x));
}

/** Writes `rows` (objects with every column of `columns`) to `file`; returns the number of rows. */
export function writeParquet(
  file: string,
  columns: Record<string, PqType>,
  rows: readonly Record<string, unknown>[],
): number {
  const names = Object.keys(columns);
  const schema = [{ name: "root", num_children: names.length }, ...names.flatMap((n) => elements(n, columns[n]))];
  const buf = parquetWriteBuffer({
    columnData: names.map((n) => ({ name: n, data: rows.map((r) => convert(columns[n], r[n])) })),
    // hyparquet-writer's SchemaElement type is wider than ours; ours is a valid subset
    schema: schema as Parameters<typeof parquetWriteBuffer>[0]["schema"],
    createdBy: "mst export (hyparquet-writer)",
  });
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, new Uint8Array(buf));
  return rows.length;
}
