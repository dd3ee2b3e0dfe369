/** Finds the JSON object in a model's plain-text answer (bare, fenced in ``` blocks, or inside prose). */

/** Thrown when no JSON object can be parsed out of the text. */
export class JsonExtractError extends Error {
  override name = "JsonExtractError";
}

function tryParse(s: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(s) };
  } catch {
    return { ok: false };
  }
}

/** Index one past the `}` or `]` that closes the bracket at `start`, skipping brackets inside strings; -1 if none. */
function matchingClose(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

/**
 * The JSON value in `text`: the whole text if it parses, else the first ```json fenced block that parses, else the
 * first balanced `{...}` span that parses. Models often wrap JSON in prose or fences even when asked not to.
 */
export function extractJson(text: string): unknown {
  const whole = tryParse(text.trim());
  if (whole.ok) return whole.value;
  for (const m of text.matchAll(/```(?:json|JSON)?\s*\n?([\s\S]*?)```/g)) {
    const r = tryParse(m[1].trim());
    if (r.ok) return r.value;
  }
  for (let i = text.indexOf("{"); i >= 0; i = text.indexOf("{", i + 1)) {
    const end = matchingClose(text, i);
    if (end < 0) break;
    const r = tryParse(text.slice(i, end));
    if (r.ok) return r.value;
  }
  const preview = text.length > 200 ? `${text.slice(0, 200)}...` : text;
  throw new JsonExtractError(`no JSON object found in the answer: ${JSON.stringify(preview)}`);
}
