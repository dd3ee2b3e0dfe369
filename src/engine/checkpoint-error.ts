/** The one error of checkpoint reading and writing: the message names the file and the key or tensor at fault. */

/** Raised for a missing, malformed, mismatched or unsupported checkpoint file; the message names the file and field. */
export class CheckpointError extends Error {
  override name = "CheckpointError";
}
