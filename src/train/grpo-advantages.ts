/**
 * GRPO's group-relative advantages (TRL 1.13 `_generate_and_score_completions`): each completion's reward minus the
 * mean reward of its prompt's group, divided by a standard deviation per `scaleRewards`. No value head, no GAE: every
 * token of a completion gets the completion's advantage.
 */
import type { GrpoScaleRewards } from "./grpo-config.js";

/** Added to the standard deviation before dividing (TRL's constant), so a group of equal rewards gives 0, not NaN. */
export const GRPO_STD_EPS = 1e-4;

/** Sample standard deviation with Bessel's correction (TRL's nanstd); 0 for fewer than two values. */
export function besselStd(xs: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  let s = 0;
  for (const x of xs) s += x;
  const mean = s / n;
  let v = 0;
  for (const x of xs) v += (x - mean) * (x - mean);
  return Math.sqrt(v / (n - 1));
}

export interface GroupAdvantages {
  /** One advantage per completion, in input order. */
  advantages: number[];
  /** Share of groups whose rewards are all equal (they teach nothing): TRL's frac_reward_zero_std. */
  zeroStdShare: number;
}

/**
 * Advantages of `rewards`, where completions with the same `groups[i]` answered the same prompt. A group may be
 * smaller than G (a null reward dropped a completion); a group of one gets advantage 0.
 *
 * ```ts
 * groupAdvantages([1, 0, 0, 0], [0, 0, 0, 0], "group").advantages; // [1.4997, -0.4999, -0.4999, -0.4999]
 * ```
 */
export function groupAdvantages(
  rewards: readonly number[],
  groups: readonly number[],
  scale: GrpoScaleRewards,
): GroupAdvantages {
  if (rewards.length !== groups.length)
    throw new Error(`groupAdvantages: ${rewards.length} rewards but ${groups.length} group ids`);
  const members = new Map<number, number[]>();
  groups.forEach((g, i) => {
    const m = members.get(g);
    if (m) m.push(i);
    else members.set(g, [i]);
  });
  const mean = new Float64Array(rewards.length);
  const std = new Float64Array(rewards.length);
  let zero = 0;
  for (const idx of members.values()) {
    const rs = idx.map((i) => rewards[i]);
    const m = rs.reduce((a, b) => a + b, 0) / rs.length;
    const s = besselStd(rs);
    if (rs.every((r) => r === rs[0])) zero++;
    for (const i of idx) {
      mean[i] = m;
      std[i] = s;
    }
  }
  if (scale === "batch") std.fill(besselStd(rewards));
  const advantages = rewards.map((r, i) => (scale === "none" ? r - mean[i] : (r - mean[i]) / (std[i] + GRPO_STD_EPS)));
  return { advantages, zeroStdShare: members.size > 0 ? zero / members.size : 0 };
}
