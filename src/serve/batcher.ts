/**
 * Continuous batching over one model's KV cache: every sequence owns a cache row; each step first prefills the
 * sequences that arrived since the last step (into free rows) and then decodes one token for every sequence already
 * running, so requests join a batch that is mid-generation at the next step instead of waiting for it to finish.
 * With `maxBatch` 1 the same code serves one sequence at a time (the "no batching" baseline of bench/serve.ts).
 */
import { Rng } from "../data/rng.js";
import type { KvCache } from "../engine/kv-cache.js";
import type { LlamaModel } from "../engine/model.js";
import { drawToken, logprobAndEntropy, topLogprobsOf } from "../engine/sampler.js";

/** One sampled token handed to its sequence's owner. */
export interface SampledToken {
  id: number;
  /** log p(id) under the untempered model distribution (as the engine's sampler reports). */
  logprob: number;
  /** The k most likely [id, log p] pairs at this position when the sequence asked for them. */
  top: Array<[number, number]> | null;
  /** The token is one of the sequence's stop ids (generation ends; it is not part of the text). */
  isStop: boolean;
}

export type FinishReason = "stop" | "length";

/** What a caller submits: one prompt's generation with its own sampling settings and stream of draws. */
export interface SequenceSpec {
  prompt: number[];
  /** Most new tokens (the caller has checked prompt length + maxNew - 1 <= the batcher's context). */
  maxNew: number;
  temperature: number;
  topP: number;
  seed: number | string;
  stopIds: readonly number[];
  /** Top log-probs to record per position (0: none). */
  topLogprobs: number;
  /** Called for every sampled token; returning true ends the sequence with "stop" (a stop string matched). */
  onToken(t: SampledToken): boolean | void;
  /** Called once at the end (never after `cancel`). */
  onDone(finish: FinishReason): void;
  /** Called once if the model failed while this sequence was in the batch. */
  onError(e: Error): void;
}

/** A submitted sequence; `cancel()` frees its row at the next step (a client that went away). */
export class Sequence {
  cancelled = false;
  row = -1;
  /** Tokens in the cache for this sequence (its prompt, then every generated token but the last). */
  pos = 0;
  generated = 0;
  last = -1;
  readonly rng: Rng;
  readonly stop: Set<number>;

  constructor(readonly spec: SequenceSpec) {
    this.rng = new Rng(spec.seed);
    this.stop = new Set(spec.stopIds);
  }

  cancel(): void {
    this.cancelled = true;
  }
}

export interface BatcherOptions {
  /** Sequences decoded together (cache rows). 1 = no batching. */
  maxBatch: number;
  /** Positions per cache row (prompt + generated tokens), at most the model's maxSeq. */
  context: number;
}

export class ModelBatcher {
  readonly waiting: Sequence[] = [];
  private running: Sequence[] = [];
  private cache: KvCache | null = null;
  /** Cache rows allocated so far: the cache grows with the concurrency actually seen, up to maxBatch. */
  private rows = 0;
  private free: number[] = [];
  private readonly probs: Float64Array;
  private readonly order: Uint32Array;

  constructor(
    readonly model: LlamaModel,
    readonly options: BatcherOptions,
  ) {
    if (!(options.maxBatch >= 1)) throw new RangeError(`ModelBatcher: maxBatch must be >= 1, got ${options.maxBatch}`);
    if (!(options.context >= 1 && options.context <= model.config.maxSeq))
      throw new RangeError(`ModelBatcher: context must be in [1, ${model.config.maxSeq}], got ${options.context}`);
    this.probs = new Float64Array(model.config.vocabSize);
    this.order = new Uint32Array(model.config.vocabSize);
  }

  get runningCount(): number {
    return this.running.length;
  }

  hasWork(): boolean {
    return this.running.length > 0 || this.waiting.length > 0;
  }

  submit(seq: Sequence): void {
    const s = seq.spec;
    if (s.prompt.length === 0 || s.prompt.length + s.maxNew - 1 > this.options.context || s.maxNew < 1)
      throw new RangeError(
        `ModelBatcher: prompt of ${s.prompt.length} tokens + ${s.maxNew} new does not fit ${this.options.context} positions`,
      );
    this.waiting.push(seq);
  }

  /** One step: prefill the newcomers that fit, then one decode step for the sequences that were already running. */
  step(): void {
    this.running = this.running.filter((q) => (q.cancelled ? this.release(q) : true));
    const decoding = this.running;
    const newcomers: Sequence[] = [];
    const wanted = this.running.length + this.waiting.filter((q) => !q.cancelled).length;
    if (this.free.length < wanted - this.running.length && this.rows < this.options.maxBatch) this.grow(wanted);
    while (this.free.length > 0 && this.waiting.length > 0) {
      const q = this.waiting.shift()!;
      if (q.cancelled) continue;
      q.row = this.free.pop()!;
      newcomers.push(q);
    }
    const stillRunning: Sequence[] = [];
    this.guard(newcomers, () => {
      if (newcomers.length > 0) this.prefill(newcomers, stillRunning);
    });
    this.guard(decoding, () => {
      if (decoding.length > 0) this.decode(decoding, stillRunning);
    });
    // a failed batch released its rows: those sequences are over
    this.running = stillRunning.filter((q) => q.row >= 0);
  }

  /** Runs `fn`; on an engine error every sequence of that batch fails with it (and the server keeps running). */
  private guard(batch: Sequence[], fn: () => void): void {
    try {
      fn();
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      for (const q of batch) {
        if (q.row >= 0) this.release(q);
        q.spec.onError(err);
      }
    }
  }

  private kv(): KvCache {
    return this.cache!;
  }

  /**
   * Grows the cache to hold `wanted` rows (doubling, at most maxBatch): a big model's cache is
   * layers x rows x context x kvDim x 8 bytes, so it is sized by the load seen, not by --max-batch up front. Rows are
   * the outer dimension, so the old rows are a prefix of the new buffers and keep their contents.
   */
  private grow(wanted: number): void {
    const rows = Math.min(this.options.maxBatch, Math.max(wanted, 2 * this.rows, 1));
    const next = this.model.createKvCache(rows, this.options.context);
    if (this.cache)
      for (let l = 0; l < next.k.length; l++) {
        next.k[l].set(this.cache.k[l]);
        next.v[l].set(this.cache.v[l]);
      }
    for (let r = rows - 1; r >= this.rows; r--) this.free.push(r);
    this.cache = next;
    this.rows = rows;
  }

  /** Right-padded prefill of the newcomers into their own rows; the first token of each comes from its last prompt position. */
  private prefill(batch: Sequence[], keep: Sequence[]): void {
    const V = this.model.config.vocabSize;
    const B = batch.length;
    const T = Math.max(...batch.map((q) => q.spec.prompt.length));
    const tokens = new Int32Array(B * T);
    batch.forEach((q, b) => tokens.set(q.spec.prompt, b * T));
    const rows = Int32Array.from(batch, (q) => q.row);
    const logits = this.model.forwardCached(this.kv(), tokens, B, T, new Int32Array(B), { rows }).logits;
    batch.forEach((q, b) => {
      q.pos = q.spec.prompt.length;
      const o = (b * T + q.spec.prompt.length - 1) * V;
      if (this.emit(q, logits.subarray(o, o + V))) keep.push(q);
    });
  }

  /** One token for each running sequence, at its own position in its own row. */
  private decode(batch: Sequence[], keep: Sequence[]): void {
    const V = this.model.config.vocabSize;
    const B = batch.length;
    const next = Int32Array.from(batch, (q) => q.last);
    const pos = Int32Array.from(batch, (q) => q.pos);
    const rows = Int32Array.from(batch, (q) => q.row);
    const logits = this.model.forwardCached(this.kv(), next, B, 1, pos, { rows }).logits;
    batch.forEach((q, b) => {
      q.pos++;
      if (this.emit(q, logits.subarray(b * V, (b + 1) * V))) keep.push(q);
    });
  }

  /** Draws a token from `row` for `q` and hands it over; false when the sequence ended (its row is free again). */
  private emit(q: Sequence, row: Float32Array): boolean {
    const V = this.model.config.vocabSize;
    const s = q.spec;
    const id = drawToken(row, V, s.temperature, 0, s.topP, q.rng, this.probs, this.order);
    const [logprob] = logprobAndEntropy(row, V, id);
    const top = s.topLogprobs > 0 ? topLogprobsOf(row, V, Math.min(s.topLogprobs, V)) : null;
    const isStop = q.stop.has(id);
    q.generated++;
    q.last = id;
    const stopText = s.onToken({ id, logprob, top, isStop }) === true;
    if (q.cancelled) {
      this.release(q);
      return false;
    }
    if (isStop || stopText || q.generated >= s.maxNew) {
      this.release(q);
      s.onDone(isStop || stopText ? "stop" : "length");
      return false;
    }
    return true;
  }

  private release(q: Sequence): false {
    if (q.row >= 0) this.free.push(q.row);
    q.row = -1;
    return false;
  }
}
