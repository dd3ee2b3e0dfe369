/** Error classes of the run layer; each message names the file (and line / field / job) at fault. */

/** A bad experiment spec: `spec.yaml:7: overrides.ppo.lr: expected number, received string`. */
export class SpecError extends Error {
  override name = "SpecError";
  constructor(
    readonly file: string,
    readonly line: number | null,
    readonly field: string,
    readonly detail: string,
  ) {
    super(`${file}${line !== null ? `:${line}` : ""}: ${field ? `${field}: ` : ""}${detail}`);
  }
}

/** The run directory exists and `--force` was not given (nothing is touched). */
export class RunDirExistsError extends Error {
  override name = "RunDirExistsError";
  constructor(readonly runDir: string) {
    super(`run directory ${runDir} already exists; pass --force to overwrite it, or --resume ${runDir} to continue it`);
  }
}

/** A run directory that cannot be resumed or reported (missing or corrupt files). */
export class RunDirError extends Error {
  override name = "RunDirError";
  constructor(
    readonly file: string,
    readonly detail: string,
  ) {
    super(`${file}: ${detail}`);
  }
}

/** A job threw (or its worker died): the run stops; finished jobs are kept for `--resume`. */
export class JobFailedError extends Error {
  override name = "JobFailedError";
  constructor(
    readonly jobId: string,
    readonly detail: string,
    readonly logFile: string,
    readonly runDir: string,
  ) {
    // The first line must stand alone (the CLI prints only it): job, error, log, and how to continue.
    const [first, ...rest] = detail.split("\n");
    super(
      `job ${jobId} failed: ${first} (log: ${logFile}; finished jobs are kept, continue with: mst run --resume ${runDir})` +
        (rest.length > 0 ? `\n${rest.join("\n")}` : ""),
    );
  }
}
