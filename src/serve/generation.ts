/**
 * One request's generations (n choices for each prompt) on the scheduler: per-choice text with stop sequences, the
 * sampled tokens and their log-probs, and callbacks as text becomes safe to send (streaming) or at the end.
 */
import type { FinishReason, SampledToken, SequenceSpec } from "./batcher.js";
import { internalError } from "./errors.js";
import type { ServedModel } from "./models.js";
import type { ServeScheduler } from "./scheduler.js";
import { StopTextStream } from "./text-stream.js";

export interface GenerationParams {
  /** Most new tokens, per prompt (already bounded by the context). */
  maxNew: number[];
  temperature: number;
  topP: number;
  /** The request's seed; each choice draws from its own stream derived from it. Null: a fresh random seed. */
  seed: number | null;
  stops: string[];
  /** Stop at the model's stop ids (false: vLLM's ignore_eos). */
  useStopIds: boolean;
  /** Log-probs of sampled tokens are wanted. */
  logprobs: boolean;
  /** Top alternatives per position (0: none). */
  topLogprobs: number;
}

/** The state of one choice. */
export interface ChoiceState {
  index: number;
  prompt: number;
  stream: StopTextStream;
  /** Sampled tokens that are part of the output (stop ids excluded). */
  tokens: SampledToken[];
  /** Every sampled token, the stop id included (usage counts these). */
  sampled: number;
  finish: FinishReason | null;
}

export interface GenerationListener {
  /** New safe text of a choice, with the tokens sampled since its last delta (streaming). */
  onDelta?(choice: ChoiceState, text: string, tokens: SampledToken[]): void;
  /** A choice ended (after its last delta). */
  onFinish?(choice: ChoiceState): void;
}

export interface Generation {
  /** Resolves with every choice when all ended; rejects if the model failed. */
  done: Promise<ChoiceState[]>;
  /** Frees every choice's cache row (the client went away); `done` then resolves with the choices as they are. */
  cancel(): void;
}

/** The stop ids of a served model (its format's, else the tokenizer's EOS). */
export function stopIdsOf(served: ServedModel): number[] {
  return served.format.stopIds ?? (served.tokenizer.eosId >= 0 ? [served.tokenizer.eosId] : []);
}

/** Starts `n` choices for each prompt; choice index = prompt * n + i, as OpenAI orders them. Throws 429 when queued full. */
export function startGeneration(
  scheduler: ServeScheduler,
  served: ServedModel,
  prompts: number[][],
  n: number,
  p: GenerationParams,
  listener: GenerationListener = {},
): Generation {
  const decode = (ids: readonly number[]) => served.tokenizer.decode(ids);
  const stopIds = p.useStopIds ? stopIdsOf(served) : [];
  const seedBase = p.seed ?? `${Date.now()}/${Math.random()}`;
  const choices: ChoiceState[] = [];
  let left = prompts.length * n;
  let resolveDone!: (c: ChoiceState[]) => void;
  let rejectDone!: (e: Error) => void;
  const done = new Promise<ChoiceState[]>((res, rej) => {
    resolveDone = res;
    rejectDone = rej;
  });
  let failed = false;
  const specs: SequenceSpec[] = [];
  prompts.forEach((ids, pi) => {
    for (let i = 0; i < n; i++) {
      const c: ChoiceState = {
        index: pi * n + i,
        prompt: pi,
        stream: new StopTextStream(decode, p.stops, listener.onDelta !== undefined),
        tokens: [],
        sampled: 0,
        finish: null,
      };
      choices.push(c);
      let pending: SampledToken[] = [];
      specs.push({
        prompt: ids,
        maxNew: p.maxNew[pi],
        temperature: p.temperature,
        topP: p.topP,
        seed: `${seedBase}/${c.index}`,
        stopIds,
        topLogprobs: p.topLogprobs,
        onToken: (t) => {
          c.sampled++;
          if (t.isStop) return false;
          c.tokens.push(t);
          pending.push(t);
          const text = c.stream.push(t.id);
          if (text.length > 0) {
            listener.onDelta?.(c, text, pending);
            pending = [];
          }
          return c.stream.stopped;
        },
        onDone: (finish) => {
          c.finish = finish;
          const rest = c.stream.flush();
          if (rest.length > 0 || pending.length > 0) listener.onDelta?.(c, rest, pending);
          pending = [];
          listener.onFinish?.(c);
          if (--left === 0 && !failed) resolveDone(choices);
        },
        onError: (e) => {
          if (failed) return;
          failed = true;
          for (const q of seqs) q.cancel();
          rejectDone(internalError(`the model failed while generating: ${e.message}`));
        },
      });
    }
  });
  const seqs = scheduler.submit(served.model, specs);
  const cancel = () => {
    for (const q of seqs) q.cancel();
    // cancelled sequences never call onDone: settle here so the request's handler ends (and a drain can finish)
    if (!failed && left > 0) {
      left = 0;
      resolveDone(choices);
    }
  };
  return { done, cancel };
}
