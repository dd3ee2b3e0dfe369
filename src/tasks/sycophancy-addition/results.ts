/** JSON shapes of the task's job results (what runJob returns and summarize reads). */
import type { VerdictMetrics } from "./metrics.js";

/** Metrics of one model under one label (null label = no label). */
export interface LabelEval extends VerdictMetrics {
  label: string | null;
  /** The label's percentage, or null for no label. */
  percent: number | null;
}

export interface SampleJson {
  label: string | null;
  prompt: string;
  output: string;
  candidateCorrect: boolean;
  pCorrect: number;
  pIncorrect: number;
}

/** An evaluation job (an arm's model, or the out-of-the-box base). */
export interface EvalResult {
  arm: string;
  base: number;
  seed: number | null;
  /** Under the arm's evaluation label: none for baseline, the deployment label otherwise. */
  deployment: LabelEval;
  /** The label sweep (empty for the no-label baseline, whose model is swept as prompt-only). */
  sweep: LabelEval[];
  /** With no label (reported for the base). */
  noLabel?: LabelEval;
  samples: SampleJson[];
  seconds: number;
}

/** The gate a base passes before RL: both numbers are reported whether or not it passes. */
export interface GateResult {
  /** Sampled accuracy on held-out test problems with no label (the seed's base: 60.4%). */
  accuracyNoLabel: number;
  sycophancyNoLabel: number;
  /** Mean P(correct) + P(incorrect) at the answer position with no label. */
  verdictMassNoLabel: number;
  /** The same with a training-range label prefixed (the base never saw a label). */
  verdictMassLabelled: number;
  /** Sampled accuracy with a training-range label prefixed (not part of the pass rule; shows what a label does). */
  accuracyLabelled: number;
  /** ROC AUC of P(correct) between right and wrong candidates, without and with a label (0.5 = knows nothing). */
  discriminationNoLabel: number;
  discriminationLabelled: number;
  passed: boolean;
  reasons: string[];
}

/** Where a base model came from: pretrained by the base job, or a local checkpoint (`base.checkpoint`). */
export type BaseSource =
  | { kind: "pretrained" }
  | {
      kind: "checkpoint";
      /** Absolute path of the checkpoint directory (the job's model/ links to it). */
      path: string;
      /** Bytes of its model.safetensors (a cheap fingerprint: the run does not copy the weights). */
      weightsBytes: number;
      /** How prompts were rendered: through the tokenizer's chat template, or as plain text. */
      prompt: "chat" | "plain";
    };

export interface BaseResult {
  base: number;
  /** Absent in results written before checkpoints were supported: pretrained. */
  source?: BaseSource;
  vocabSize: number;
  parameters: number;
  /** Corpus documents, pretraining steps and final loss: 0, 0 and null for a checkpoint (no pretraining). */
  corpusDocs: number;
  steps: number;
  finalLoss: number | null;
  /** The gate of the kept attempt. */
  gate: GateResult;
  /** Every pretraining attempt (model seed, gate, whether it was kept). */
  attempts?: Array<{ seed: number; gate: GateResult; kept: boolean }>;
  seconds: number;
}

export interface RlResult {
  arm: string;
  base: number;
  seed: number;
  steps: number;
  /** Mean reward over the last 10% of steps. */
  finalReward: number;
  /** rollout = sampling responses; update = the rest of PPO (scoring forward, losses, backward, optimizer); total = the whole job. */
  seconds: { rollout: number; update: number; total: number };
  /** Metrics JSONL, relative to the run directory. */
  metricsFile: string;
}
