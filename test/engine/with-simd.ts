/** Runs `f` with env MST_SIMD set on or off (the engine reads it per call), restoring the old value after. */
export function withSimd<R>(on: boolean, f: () => R): R {
  const prev = process.env.MST_SIMD;
  process.env.MST_SIMD = on ? "1" : "0";
  try {
    return f();
  } finally {
    if (prev === undefined) delete process.env.MST_SIMD;
    else process.env.MST_SIMD = prev;
  }
}
