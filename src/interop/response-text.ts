/**
 * The response text a reward scores, from what an engine sends: the special-token cleanup (chat-template markers and
 * end-of-turn tokens of the Llama-3, Qwen2.5/Qwen3 and Gemma families) shared with the generated Python glue, and the
 * split of OpenRLHF's query (`decode(encode(prompt) + response)`) into prompt and response.
 */

/**
 * Tokens that end a turn or a sequence: Llama-3 <|eot_id|> <|eom_id|> <|end_of_text|>, Qwen <|im_end|> <|endoftext|>,
 * Gemma <end_of_turn> <eos>, SentencePiece </s>. The response ends at the first one; what follows is not the answer.
 */
export const END_OF_TURN_PATTERN = String.raw`<\|eot_id\|>|<\|eom_id\|>|<\|end_of_text\|>|<\|im_end\|>|<\|endoftext\|>|<end_of_turn>|<eos>|</s>`;

/** Other special-token text a decoded output may carry (removed): any <|...|> marker, Gemma's and SentencePiece's. */
export const SPECIAL_TOKEN_PATTERN = String.raw`<\|[^|>]*\|>|<s>|<bos>|<pad>|<unk>|<mask>|<start_of_turn>|<start_of_image>|<end_of_image>|<image_soft_token>`;

const END = new RegExp(END_OF_TURN_PATTERN);
const SPECIAL = new RegExp(SPECIAL_TOKEN_PATTERN, "g");

/** The answer in a decoded response: cut at the first end-of-turn token, other special-token text removed. */
export function cleanResponse(text: string): string {
  const end = text.search(END);
  return (end < 0 ? text : text.slice(0, end)).replace(SPECIAL, "");
}

/** The same cleanup in Python (stdlib `re`), for the generated reward glue and graders: defines clean_response(text). */
export const PY_CLEAN_RESPONSE = [
  `_END = re.compile(${JSON.stringify(END_OF_TURN_PATTERN)})`,
  `_SPECIAL = re.compile(${JSON.stringify(SPECIAL_TOKEN_PATTERN)})`,
  "",
  "",
  "def clean_response(text):",
  '    """The answer in a decoded output: cut at the first end-of-turn token, other special-token text removed."""',
  '    return _SPECIAL.sub("", _END.split(text, 1)[0])',
].join("\n");

/** The non-whitespace characters of a text with their positions in it. */
function solid(text: string): { chars: string; at: number[] } {
  let chars = "";
  const at: number[] = [];
  for (let i = 0; i < text.length; i++)
    if (!/\s/.test(text[i])) {
      chars += text[i];
      at.push(i);
    }
  return { chars, at };
}

/**
 * The response part of OpenRLHF's query. The query is the prompt's tokens decoded again plus the response, which is
 * the prompt text only when decoding gives it back: tokenizers clean up spaces (Llama-3's " ," -> ","), and a long
 * prompt is cut from the left to fit the context. So: the prompt as a prefix when it is one, else the prompt's tail
 * found in the query, compared without whitespace (longest tail first). Null when the prompt cannot be found.
 */
export function splitResponse(query: string, prompt: string): string | null {
  if (prompt === "") return query;
  if (query.startsWith(prompt)) return query.slice(prompt.length);
  const q = solid(query);
  const p = solid(prompt);
  if (p.chars.length === 0) return null;
  const shortest = Math.min(16, p.chars.length);
  for (let len = Math.min(p.chars.length, 512); len >= shortest && len > 0; len >>= 1) {
    const idx = q.chars.indexOf(p.chars.slice(-len));
    if (idx < 0) continue;
    let end = q.at[idx + len - 1] + 1;
    // the prompt's own trailing whitespace (e.g. the "\n\n" after Llama-3's assistant header) is not the response
    let trailing = prompt.length - prompt.trimEnd().length;
    while (trailing > 0 && end < query.length && /\s/.test(query[end])) {
      end++;
      trailing--;
    }
    return query.slice(end);
  }
  return null;
}
