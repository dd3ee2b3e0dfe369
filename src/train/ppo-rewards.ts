/** From scores to advantages for a PPO batch: score whitening, per-token KL penalty, GAE, advantage whitening. */
import { gae, whiten } from "./advantages.js";
import type { Rollout } from "./rollout.js";

export interface AdvantageOptions {
  whitenRewards: boolean;
  whitenAdvantages: boolean;
  /** Per-token reward penalty -klCoef (logp_old - logp_ref); 0 or a missing reference disables it. */
  klRewardCoef: number;
  gamma: number;
  lam: number;
}

/**
 * Fills `rewards`, `adv` and `ret` of every rollout. The score lands on the last response token; with
 * whitenRewards the batch's scores are first whitened to zero mean and unit variance (the raw scores stay in
 * `score`). Advantages are whitened over all response tokens of the batch when asked (TRL's masked_whiten).
 */
export function assignAdvantages(rollouts: readonly Rollout[], o: AdvantageOptions): void {
  const scores = rollouts.map((r) => r.score);
  if (o.whitenRewards && scores.length > 1) whiten(scores);
  rollouts.forEach((r, i) => {
    const L = r.response.length;
    for (let j = 0; j < L; j++) {
      const penalty = o.klRewardCoef !== 0 && r.refLogp ? -o.klRewardCoef * (r.oldLogp[j] - r.refLogp[j]) : 0;
      r.rewards[j] = penalty + (j === L - 1 ? scores[i] : 0);
    }
    gae(r.adv, r.ret, r.rewards, r.values, o.gamma, o.lam);
  });
  if (!o.whitenAdvantages) return;
  let n = 0;
  for (const r of rollouts) n += r.adv.length;
  if (n < 2) return;
  const all = new Float32Array(n);
  let k = 0;
  for (const r of rollouts) {
    all.set(r.adv, k);
    k += r.adv.length;
  }
  whiten(all);
  k = 0;
  for (const r of rollouts) {
    r.adv.set(all.subarray(k, k + r.adv.length));
    k += r.adv.length;
  }
}
