/**
 * The serving loop: one ModelBatcher per loaded model (names that share a model share its batcher), a bounded queue
 * of waiting sequences across them, and a loop that steps every batcher with work, yielding to the event loop between
 * steps so requests that arrive meanwhile join at the next step.
 */
import type { LlamaModel } from "../engine/model.js";
import { ModelBatcher, Sequence, type BatcherOptions, type SequenceSpec } from "./batcher.js";
import { queueFull } from "./errors.js";

export class ServeScheduler {
  private readonly batchers = new Map<LlamaModel, ModelBatcher>();
  private looping = false;
  private paused = false;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly options: BatcherOptions & { maxQueue: number }) {}

  /** The batcher of a model (created on first use). */
  batcherOf(model: LlamaModel): ModelBatcher {
    let b = this.batchers.get(model);
    if (!b) {
      b = new ModelBatcher(model, {
        maxBatch: this.options.maxBatch,
        context: Math.min(this.options.context, model.config.maxSeq),
      });
      this.batchers.set(model, b);
    }
    return b;
  }

  /** Sequences waiting for a cache row, over every model. */
  get queued(): number {
    let n = 0;
    for (const b of this.batchers.values()) n += b.waiting.filter((q) => !q.cancelled).length;
    return n;
  }

  get running(): number {
    let n = 0;
    for (const b of this.batchers.values()) n += b.runningCount;
    return n;
  }

  /**
   * Queues a request's sequences together (all or none): 429 when they would take the queue past `maxQueue`. The
   * queue counts sequences not yet in a batch, so an idle server takes a request of up to maxQueue choices at once.
   */
  submit(model: LlamaModel, specs: SequenceSpec[]): Sequence[] {
    if (this.queued + specs.length > this.options.maxQueue) throw queueFull(this.options.maxQueue);
    const b = this.batcherOf(model);
    const seqs = specs.map((s) => new Sequence(s));
    for (const q of seqs) b.submit(q);
    this.kick();
    return seqs;
  }

  /** Stops stepping (queued and running sequences wait); for tests and for holding the server still. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.kick();
  }

  /** Resolves when nothing is queued or running (at once when idle). */
  idle(): Promise<void> {
    if (!this.hasWork()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private hasWork(): boolean {
    for (const b of this.batchers.values()) if (b.hasWork()) return true;
    return false;
  }

  private kick(): void {
    if (this.looping || this.paused) return;
    this.looping = true;
    setImmediate(() => void this.loop());
  }

  private async loop(): Promise<void> {
    try {
      while (!this.paused && this.hasWork()) {
        for (const b of this.batchers.values()) if (b.hasWork()) b.step();
        // let sockets deliver new requests (they join at the next step) and flush streamed tokens
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      this.looping = false;
    }
    if (!this.hasWork()) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}
