/**
 * Weights are checked for NaN and infinity where they are read (safetensors checkpoints, Hugging Face directories,
 * adapters): a model with a broken tensor otherwise loads, answers empty text or NUL characters, and its failure is
 * later blamed on training. The error names the tensor and the file.
 */
import { CheckpointError } from "./checkpoint-error.js";

/** A tensor holds NaN or an infinite value; bad input (the file is broken), never a failure of training. */
export class NonFiniteWeightsError extends CheckpointError {
  override name = "NonFiniteWeightsError";
}

function fail(file: string, tensor: string, index: number, value: number): never {
  throw new NonFiniteWeightsError(
    `${file}: tensor "${tensor}" holds ${Number.isNaN(value) ? "NaN" : value > 0 ? "+Infinity" : "-Infinity"} ` +
      `(element ${index}): the weights are broken; use another checkpoint`,
  );
}

/** Throws NonFiniteWeightsError when `values` (elements `first`.. of the tensor) hold NaN or an infinity. */
export function assertFinite(values: Float32Array, tensor: string, file: string, first = 0): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    // v - v is 0 for every finite v, NaN for NaN and the infinities: one test for both
    if (v - v !== 0) fail(file, tensor, first + i, v);
  }
}

/** The same for bf16 bits: an all-ones exponent is an infinity or NaN. */
export function assertFiniteBf16(bits: Uint16Array, tensor: string, file: string, first = 0): void {
  for (let i = 0; i < bits.length; i++)
    if ((bits[i] & 0x7f80) === 0x7f80) {
      const f = new Float32Array(new Uint32Array([bits[i] << 16]).buffer)[0];
      fail(file, tensor, first + i, f);
    }
}
