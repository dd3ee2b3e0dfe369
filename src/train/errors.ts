/** Error classes of the trainers; each message names the step, quantity or file at fault. */

/** A non-finite loss, gradient norm or reward: the run stops and the last good checkpoint is left as it was. */
export class TrainingDivergedError extends Error {
  override name = "TrainingDivergedError";
  constructor(
    /** 1-based optimizer step (SFT) or PPO step at which the value appeared. */
    readonly step: number,
    /** Which quantity went non-finite, e.g. "loss", "grad_norm", "reward". */
    readonly quantity: string,
    readonly value: number,
    /** Directory of the last checkpoint written before the failure, or null when none was written. */
    readonly lastCheckpoint: string | null,
  ) {
    super(
      `training diverged at step ${step}: ${quantity} is ${value}; ` +
        (lastCheckpoint
          ? `last good checkpoint left intact at ${lastCheckpoint}`
          : "no checkpoint had been written yet"),
    );
  }
}

/** A checkpoint directory that cannot be read back or does not match the model/config it is loaded into. */
export class TrainCheckpointError extends Error {
  override name = "TrainCheckpointError";
  constructor(
    readonly path: string,
    readonly detail: string,
  ) {
    super(`${path}: ${detail}`);
  }
}

/** Bad trainer input (config combination, data, model capability): names the field. */
export class TrainConfigError extends Error {
  override name = "TrainConfigError";
  constructor(
    readonly field: string,
    readonly detail: string,
  ) {
    super(`${field}: ${detail}`);
  }
}
