/** On-disk response cache for providers: one JSON file per request, keyed by a SHA-256 of (model, prompt, options). */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { withPath } from "../data/fs-errors.js";

const CACHE_FORMAT = "mst-provider-cache/1";
let tmpSeq = 0;

/** What a cache file holds; tolerant of extra fields, strict on the ones read back. */
const CacheEntrySchema = z.object({
  format: z.literal(CACHE_FORMAT),
  key: z.string(),
  text: z.string(),
  finishReason: z.enum(["stop", "length", "error"]),
  /** Top log-probs per generated token, when they were asked for and the server returned them. */
  topLogprobs: z.array(z.array(z.object({ token: z.string(), logprob: z.number() }))).optional(),
  createdAt: z.string(),
});
export type CacheEntry = z.infer<typeof CacheEntrySchema>;

/** Hash of any JSON value with sorted object keys, so `{a, b}` and `{b, a}` give the same key. */
export function cacheKey(value: unknown): string {
  return createHash("sha256").update(stableJson(value)).digest("hex");
}

function stableJson(value: unknown): string {
  if (value === undefined) return "null";
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(",")}}`;
}

/**
 * A directory of answers. A file that is unreadable or from another format version counts as a miss (and is
 * overwritten on the next store), so a corrupt cache costs a request, never a wrong answer.
 */
export class ResponseCache {
  constructor(readonly dir: string) {}

  private path(key: string): string {
    return join(this.dir, key.slice(0, 2), `${key}.json`);
  }

  get(key: string): CacheEntry | undefined {
    let text: string;
    try {
      text = readFileSync(this.path(key), "utf8");
    } catch {
      return undefined;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return undefined;
    }
    const parsed = CacheEntrySchema.safeParse(json);
    return parsed.success && parsed.data.key === key ? parsed.data : undefined;
  }

  /** Writes atomically (temp file + rename) so a killed run never leaves half a file. */
  set(key: string, value: Pick<CacheEntry, "text" | "finishReason" | "topLogprobs">): void {
    const file = this.path(key);
    const entry: CacheEntry = { format: CACHE_FORMAT, key, ...value, createdAt: new Date().toISOString() };
    const tmp = `${file}.${process.pid}.${tmpSeq++}.tmp`;
    // a full disk names the cache file, and leaves no temp file (a later run must not read half an answer)
    withPath(file, "write cache entry", () => {
      mkdirSync(join(this.dir, key.slice(0, 2)), { recursive: true });
      try {
        writeFileSync(tmp, JSON.stringify(entry));
        renameSync(tmp, file);
      } catch (e) {
        rmSync(tmp, { force: true });
        throw e;
      }
    });
  }
}
