/**
 * Generated tokens to text as they arrive: stop sequences cut the text (the stop itself is never sent), and text that
 * could still become a stop sequence, or an unfinished UTF-8 character, is held back until it cannot.
 */

/** The longest suffix of `text` that is a proper prefix of some stop (it may yet complete into that stop). */
function heldBack(text: string, stops: readonly string[]): number {
  let hold = 0;
  for (const s of stops)
    for (let k = Math.min(s.length - 1, text.length); k > hold; k--)
      if (text.endsWith(s.slice(0, k))) {
        hold = k;
        break;
      }
  return hold;
}

export class StopTextStream {
  private readonly ids: number[] = [];
  private full = "";
  private sent = 0;
  private stoppedAt = -1;

  /**
   * `incremental` false (nothing streamed, no stop sequences): tokens are only collected and decoded once at the end,
   * which saves decoding the whole sequence at every token.
   */
  constructor(
    private readonly decode: (ids: readonly number[]) => string,
    private readonly stops: readonly string[],
    private readonly incremental = true,
  ) {}

  /** True once a stop sequence appeared (the text ends before it). */
  get stopped(): boolean {
    return this.stoppedAt >= 0;
  }

  /** The text so far, cut before the first stop sequence. */
  get text(): string {
    if (!this.incremental && this.full.length === 0 && this.ids.length > 0) this.full = this.decode(this.ids);
    return this.stoppedAt >= 0 ? this.full.slice(0, this.stoppedAt) : this.full;
  }

  /** Adds one token; returns the text that is now safe to send (possibly ""). */
  push(id: number): string {
    if (this.stopped) return "";
    this.ids.push(id);
    if (!this.incremental && this.stops.length === 0) return "";
    // decoding the whole sequence (not token by token) keeps multi-token characters and merges right
    this.full = this.decode(this.ids);
    let cut = -1;
    for (const s of this.stops) {
      const at = this.full.indexOf(s);
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    if (cut >= 0) {
      this.stoppedAt = cut;
      return this.take(cut);
    }
    let end = this.full.length - heldBack(this.full, this.stops);
    // a trailing replacement character is usually half of a multi-byte character the next token completes
    while (end > this.sent && this.full.charCodeAt(end - 1) === 0xfffd) end--;
    return this.take(end);
  }

  /** Everything not yet sent (at the end of generation). */
  flush(): string {
    return this.take(this.text.length);
  }

  private take(end: number): string {
    if (end <= this.sent) return "";
    const out = this.full.slice(this.sent, end);
    this.sent = end;
    return out;
  }
}
