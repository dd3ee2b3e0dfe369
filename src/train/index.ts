/** Public API of the trainers: SFT, PPO, schedules, advantage math, checkpoints and the metrics log. */
export * from "./errors.js";
export * from "./schedules.js";
export * from "./advantages.js";
export * from "./logit-math.js";
export * from "./checkpoint-store.js";
export * from "./metrics-log.js";
export * from "./trainer-common.js";
export * from "./sft-config.js";
export * from "./sft-batches.js";
export * from "./sft-loss.js";
export * from "./sft.js";
export * from "./ppo-config.js";
export * from "./ppo-loss.js";
export * from "./ppo-rewards.js";
export * from "./rollout.js";
export * from "./ppo.js";
export * from "./presets.js";
