/**
 * The PPO loss of one mini-batch and its gradient with respect to the logits and values (TRL's formulation):
 *   pg  = max(-A r, -A clip(r, 1 - eps, 1 + eps)),  r = exp(logp - logp_old)
 *   vf  = 0.5 max((v - R)^2, (clip(v, v_old - c, v_old + c) - R)^2)
 *   loss = mean_t pg + vfCoef mean_t vf - entCoef mean_t H + klLossCoef mean_t KL(pi || ref)
 * means over the mini-batch's response tokens. Gradients go through logit-math's accumulateRowGrad.
 */
import { accumulateRowGrad, entropyRow, klRow, logSoftmaxRow } from "./logit-math.js";
import type { Rollout } from "./rollout.js";

export interface PpoLossCoefs {
  clipRange: number;
  cliprangeValue: number;
  vfCoef: number;
  entCoef: number;
  /** Coefficient of the exact KL term in the loss (0 unless klMode is "loss"). */
  klLossCoef: number;
  /** 1 / temperature when log-probs are scored on tempered logits, else 1. */
  invTemp: number;
  /** Multiplies every gradient: 1 / (mini-batches per optimizer step), so accumulation averages. */
  gradScale: number;
}

export interface PpoLossStats {
  loss: number;
  pgLoss: number;
  vfLoss: number;
  entropy: number;
  kl: number;
  /** Share of tokens where the clipped policy objective was the active one. */
  clipFrac: number;
  /** Share of tokens where the clipped value loss was the active one. */
  vfClipFrac: number;
  /** 0.5 mean (logp - logp_old)^2, TRL's approximate KL to the rollout policy. */
  approxKl: number;
  tokens: number;
}

/**
 * Flat positions (b*T + prompt_b + j - 1) whose logits score response token j of rollout b, in (b, j) order: the only
 * rows PPO's losses need (`forward(..., { logitRows })`).
 */
export function responseRows(batch: readonly { prompt: number[]; response: number[] }[], T: number): Int32Array {
  const out: number[] = [];
  batch.forEach((r, b) => {
    for (let j = 0; j < r.response.length; j++) out.push(b * T + r.prompt.length + j - 1);
  });
  return Int32Array.from(out);
}

/**
 * Loss of `batch` given the training forward's logits [B, T, V] and values [B, T] (row b = batch[b], right-padded
 * to T). With `dLogits`/`dValues` (same shapes, zeroed by the caller) the gradient times `gradScale` is added.
 * With `compact` the logits (and dLogits) hold only the `responseRows` of the batch, [P, V], in that order.
 */
export function ppoLoss(
  logits: Float32Array, // (B,T,V)
  values: Float32Array, // (B,T)
  T: number,
  V: number,
  batch: readonly Rollout[],
  c: PpoLossCoefs,
  dLogits: Float32Array | null, // (B,T,V)
  dValues: Float32Array | null, // (B,T)
  compact = false,
): PpoLossStats {
  let N = 0;
  for (const r of batch) N += r.response.length;
  const w = 1 / N;
  const logp = new Float64Array(V);
  const s = { pg: 0, vf: 0, ent: 0, kl: 0, clip: 0, vclip: 0, akl: 0 };
  let k = 0;
  batch.forEach((r, b) => {
    for (let j = 0; j < r.response.length; j++, k++) {
      const pos = b * T + r.prompt.length + j - 1;
      const off = (compact ? k : pos) * V;
      const a = r.response[j];
      logSoftmaxRow(logp, logits, off, V, c.invTemp);
      const lp = logp[a];
      const H = entropyRow(logp, V);
      const useKl = c.klLossCoef !== 0 && r.refRows !== null;
      const kl = useKl ? klRow(logp, r.refRows!, j * V, V) : 0;

      const A = r.adv[j];
      const ratio = Math.exp(lp - r.oldLogp[j]);
      const l1 = -A * ratio;
      const l2 = -A * Math.min(Math.max(ratio, 1 - c.clipRange), 1 + c.clipRange);
      // where the clipped term is larger it is constant in logp, so only the unclipped branch has a gradient
      const dPgDlp = l1 >= l2 ? -A * ratio : 0;
      if (l2 > l1) s.clip++;

      const v = values[pos];
      const vOld = r.values[j];
      const R = r.ret[j];
      const vClip = Math.min(Math.max(v, vOld - c.cliprangeValue), vOld + c.cliprangeValue);
      const vf1 = (v - R) * (v - R);
      const vf2 = (vClip - R) * (vClip - R);
      const dVfDv = vf1 >= vf2 ? v - R : 0; // d(0.5 max)/dv; vf2 > vf1 only when v is clipped, i.e. constant
      if (vf2 > vf1) s.vclip++;

      s.pg += Math.max(l1, l2);
      s.vf += 0.5 * Math.max(vf1, vf2);
      s.ent += H;
      s.kl += kl;
      s.akl += 0.5 * (lp - r.oldLogp[j]) * (lp - r.oldLogp[j]);

      if (dLogits) {
        const g = c.gradScale * w;
        accumulateRowGrad(dLogits, off, logp, V, c.invTemp, {
          token: a,
          cLogp: g * dPgDlp,
          cEnt: -g * c.entCoef,
          entropy: H,
          cKl: useKl ? g * c.klLossCoef : 0,
          refLogp: r.refRows ?? undefined,
          refOff: j * V,
          kl,
        });
      }
      if (dValues) dValues[pos] += c.gradScale * w * c.vfCoef * dVfDv;
    }
  });
  const pgLoss = s.pg * w,
    vfLoss = s.vf * w,
    entropy = s.ent * w,
    kl = s.kl * w;
  return {
    loss: pgLoss + c.vfCoef * vfLoss - c.entCoef * entropy + c.klLossCoef * kl,
    pgLoss,
    vfLoss,
    entropy,
    kl,
    clipFrac: s.clip * w,
    vfClipFrac: s.vclip * w,
    approxKl: s.akl * w,
    tokens: N,
  };
}
