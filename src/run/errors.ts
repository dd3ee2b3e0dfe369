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
  constructor(
    readonly runDir: string,
    /** Whether it is an mst run directory (only then can --force replace it, or --resume continue it). */
    readonly isRun = true,
  ) {
    super(
      isRun
        ? `run directory ${runDir} already exists; pass --force to overwrite it, or --resume ${runDir} to continue it`
        : `${runDir} already exists and is not an empty folder nor an mst run directory; choose another --out`,
    );
  }
}

/** `--force` was asked to replace something that is not an mst run directory: nothing is deleted. */
export class NotARunDirError extends Error {
  override name = "NotARunDirError";
  constructor(
    readonly path: string,
    readonly why: string,
  ) {
    super(`${path}: not an mst run directory (${why}); --force deletes only run directories, so nothing was touched`);
  }
}

/** Another live process works in the run directory (its pid is in run.lock). */
export class RunLockedError extends Error {
  override name = "RunLockedError";
  constructor(
    readonly lockFile: string,
    readonly pid: number,
    readonly host: string,
    /** The pid is a worker of a runner that is gone (it should stop by itself within a second). */
    readonly orphanWorker = false,
  ) {
    super(
      orphanWorker
        ? `${lockFile}: worker process ${pid} of a run whose runner is gone is still running; ` +
            "wait for it to stop, or stop it (kill " +
            `${pid}), then run again`
        : `${lockFile}: the run directory is in use by process ${pid}${host ? ` on ${host}` : ""}; ` +
            "wait for it to finish or stop it (delete the lock file only if that process is gone)",
    );
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
    /**
     * Whether resuming can succeed once the cause is gone (a full disk, a dead server, a killed worker). A job that
     * failed on its own config or data fails the same way on every resume, so the message must not suggest one.
     */
    readonly resumable = true,
    /** The class name of the error the job threw (a checkpoint the user named that is broken is bad input). */
    readonly causeName?: string,
  ) {
    // The first line must stand alone (the CLI prints only it): job, error, log, and how to continue.
    const [first, ...rest] = detail.split("\n");
    const next = resumable
      ? `finished jobs are kept; after fixing the cause continue with: mst run --resume ${runDir}`
      : "resuming would fail the same way: the run's spec or data must change";
    super(`job ${jobId} failed: ${first} (log: ${logFile}; ${next})` + (rest.length > 0 ? `\n${rest.join("\n")}` : ""));
  }
}
