/* Elementwise ops of the engine in C, each the exact arithmetic of its JavaScript loop (same bits, wider vectors). */

/*
 * JavaScript computes in float64 and rounds to float32 when it stores into a Float32Array, so each function here does
 * every operation in double, in the same order, and converts to float where the JS stores (double, then float: the
 * same two roundings). Built into the native GEMM's library (native-build.ts) with -ffp-contract=off, so no multiply
 * and add fuse. The JS loops stay the reference and the fallback (src/engine/ops/native-ops.ts says when).
 */

#include <stdint.h>

/*
 * RoPE (ops/rope.ts rotate): every head of every row rotated by its row's angle; sign -1 rotates back (backward).
 * out may alias inp: each pair is read before it is written. Returns -1 (nothing written) when a position is outside
 * 0..maxPos-1, 0 otherwise.
 */
int mst_rope(float *out, const float *inp, const int32_t *pos, const float *cos_t, const float *sin_t, int sign, int N,
             int nh, int hd, int maxPos) {
  for (int n = 0; n < N; n++)
    if (pos[n] < 0 || pos[n] >= maxPos) return -1;
  const int half = hd / 2;
  const double sg = sign;
  for (int n = 0; n < N; n++) {
    const float *c = cos_t + (long)pos[n] * half, *s = sin_t + (long)pos[n] * half;
    for (int h = 0; h < nh; h++) {
      float *o = out + ((long)n * nh + h) * hd;
      const float *x = inp + ((long)n * nh + h) * hd;
      /* pair i reads x[i], x[half + i] and writes only those two places: no pair depends on another, in place too */
#pragma GCC ivdep
      for (int i = 0; i < half; i++) {
        const double ci = c[i], si = sg * s[i];
        const double a = x[i], b = x[half + i];
        o[i] = (float)(a * ci - b * si);
        o[half + i] = (float)(b * ci + a * si);
      }
    }
  }
  return 0;
}

/* ---- exp as ops/fast-exp.ts computes it ---- */

#define FAST_R 100.0
#define EXP_CHUNK 256 /* keys per pass of the softmax's exp (a multiple of 4) */
#define ROUND_MAGIC 6755399441055744.0

/* Its table of 2^(k/32), handed over from JavaScript (Math.pow's values, not libm's), and the offset of k = 0. */
static const double *pow2_32;
static int k_off;
static double steps_log2e, ln2_steps;

/* Called once with fast-exp.ts's own constants; the kernels below refuse to run before it. */
void mst_fast_exp_init(const double *table, int kOff, double stepsLog2e, double ln2Steps) {
  pow2_32 = table;
  k_off = kOff;
  steps_log2e = stepsLog2e;
  ln2_steps = ln2Steps;
}

/* fastExp for -100 <= x <= 100 (the caller keeps other x, NaN included, away: JavaScript takes them). */
static inline double fast_exp(double x) {
  /* (x c + m) - m rounds to an integer: IEEE arithmetic (no -ffast-math) keeps the two operations */
  const double kf = x * steps_log2e + ROUND_MAGIC - ROUND_MAGIC;
  const double r = x - kf * ln2_steps;
  const double r2 = r * r;
  const double p = 1 + r + r2 * (0.5 + r * (1.0 / 6) + r2 * (1.0 / 24));
  return p * pow2_32[(int)kf + k_off];
}

/*
 * The causal softmax of ops/attention.ts (its JavaScript loop) over `count` blocks of `rows` rows of L, block b at
 * s + offs[b]: row t sees keys 0..off+t. A row holding an exp argument outside [-100, 100] (or NaN) is left untouched
 * and flagged done[b * rows + t] = 0 for the JavaScript loop (Math.exp's bits are V8's); every other row gets 1.
 * Returns the flagged count (-1 before mst_fast_exp_init).
 */
int mst_softmax_causal(float *s, const int32_t *offs, int count, int rows, int L, int off, uint8_t *done) {
  if (!pow2_32) return -1;
  int left = 0;
  for (int blk = 0; blk < count; blk++)
    for (int t = 0; t < rows; t++) {
      float *row = s + offs[blk] + (long)t * L;
      int n = (off + t < L - 1 ? off + t : L - 1) + 1;
      /* the row's max in eight lanes: without NaN it is the loop's value (a -0 / +0 tie may pick the other zero,
         which changes no x - max below); with a NaN the row is handed back anyway */
      float lane[8] = {-__builtin_inff(), -__builtin_inff(), -__builtin_inff(), -__builtin_inff(),
                       -__builtin_inff(), -__builtin_inff(), -__builtin_inff(), -__builtin_inff()};
      int j8 = 0;
      for (; j8 + 8 <= n; j8 += 8)
        for (int l = 0; l < 8; l++) lane[l] = row[j8 + l] > lane[l] ? row[j8 + l] : lane[l];
      double max = -__builtin_inf();
      for (int l = 0; l < 8; l++)
        if (lane[l] > max) max = lane[l];
      for (; j8 < n; j8++)
        if (row[j8] > max) max = row[j8];
      int bad = 0;
      for (int j = 0; j < n; j++) {
        const double x = (double)row[j] - max;
        bad |= (x < -FAST_R) | (x > FAST_R) | (x != x);
      }
      const int ok = !bad;
      done[(long)blk * rows + t] = (uint8_t)ok;
      if (!ok) {
        left++;
        continue;
      }
      /* e_j into a double buffer (a loop that vectorises, the table read a gather), then the JavaScript loop's four
         partial sums over it: key j < n4 adds into z[j % 4] in increasing j, the last n % 4 keys into z[0] */
      const int n4 = n - n % 4;
      double z[4] = {0, 0, 0, 0};
      for (int j0 = 0; j0 < n; j0 += EXP_CHUNK) {
        const int m = n - j0 < EXP_CHUNK ? n - j0 : EXP_CHUNK;
        double e[EXP_CHUNK];
        for (int j = 0; j < m; j++) e[j] = fast_exp(row[j0 + j] - max);
        for (int j = 0; j < m; j++) row[j0 + j] = (float)e[j];
        const int full = (n4 - j0 < m ? n4 - j0 : m) & ~3; /* keys of this chunk below n4 (j0 is a multiple of 4) */
        for (int j = 0; j < full; j += 4) {
          z[0] += e[j];
          z[1] += e[j + 1];
          z[2] += e[j + 2];
          z[3] += e[j + 3];
        }
        for (int j = full > 0 ? full : 0; j < m; j++) z[0] += e[j];
      }
      const double z0 = z[0], z1 = z[1], z2 = z[2], z3 = z[3];
      int j;
      const double inv = 1 / (z0 + z1 + (z2 + z3));
      for (j = 0; j < n; j++) row[j] = (float)(row[j] * inv);
      for (; j < L; j++) row[j] = 0.0f;
    }
  return left;
}

/*
 * Attention backward's softmax step (ops/attention.ts attentionBackward) on `heads` (T,T) blocks: with P the
 * probabilities at att + attOff[h] and dP at scratch + scrOff[h], dS = P * (dP - rowsum(P * dP)) over the causal part
 * (keys 0..t), zeros after.
 */
void mst_softmax_causal_bwd(float *scratch, const int32_t *scrOff, const float *att, const int32_t *attOff, int heads,
                            int T) {
  for (int h = 0; h < heads; h++)
    for (int t = 0; t < T; t++) {
      float *d = scratch + scrOff[h] + (long)t * T;
      const float *p = att + attOff[h] + (long)t * T;
      double dot = 0;
      for (int j = 0; j <= t; j++) dot += (double)p[j] * d[j];
      for (int j = 0; j <= t; j++) d[j] = (float)(p[j] * ((double)d[j] - dot));
      for (int j = t + 1; j < T; j++) d[j] = 0.0f;
    }
}

/* ---- SwiGLU forward ---- */

/*
 * ops/swiglu.ts's JavaScript loop on elements from..n-1: s = 1 / (1 + fastExp(-g)) (stored as sig), out = g s up,
 * in double. Elements with |g| > 100 or NaN (fastExp's Math.exp range) are skipped for the JavaScript loop to do;
 * returns how many.
 */
int mst_swiglu_fwd(float *out, float *sig, const float *gate, const float *up, long from, long n) {
  if (!pow2_32) return -1;
  int left = 0;
  for (long i = from; i < n; i++) left += (gate[i] < -FAST_R) | (gate[i] > FAST_R) | (gate[i] != gate[i]);
  if (left == 0) {
    /* the common case without a branch per element, so the loop vectorises (the table read becomes a gather) */
    for (long i = from; i < n; i++) {
      const double g = gate[i];
      const double s = 1 / (1 + fast_exp(-g));
      sig[i] = (float)s;
      out[i] = (float)(g * s * up[i]);
    }
    return 0;
  }
  for (long i = from; i < n; i++) {
    const double g = gate[i];
    if (!(g >= -FAST_R && g <= FAST_R)) continue;
    const double s = 1 / (1 + fast_exp(-g));
    sig[i] = (float)s;
    out[i] = (float)(g * s * up[i]);
  }
  return left;
}

/*
 * The WebAssembly SIMD kernel's SwiGLU forward (wasm/simd-kernels.ts swigluFwd, float32 lanes) on n elements (a
 * multiple of 4): its exp by range reduction (clamp to [-87, 88], k by a rounding bias, r = x - k ln2_hi - k ln2_lo, a
 * degree-5 Horner polynomial, 2^k from the bias's bits) and then s = 1 / (exp(-g) + 1), out = g s up, in float.
 */
static inline float wasm_exp(float x) {
  const float round_bias = (float)(1.5 * 8388608.0 + 127), log2e = (float)1.4426950408889634;
  const float ln2_hi = (float)0.693359375, ln2_lo = (float)-2.1219444e-4;
  /* f32x4.max / min: NaN in, NaN out */
  if (x != x) return x + 0.0f;
  x = x > -87.0f ? x : -87.0f;
  x = x < 88.0f ? x : 88.0f;
  const float t = x * log2e + round_bias;
  const float k = t - round_bias;
  const float r = x - k * ln2_hi - k * ln2_lo;
  float p = (float)1.98756915e-4;
  p = p * r + (float)1.39819995e-3;
  p = p * r + (float)8.33345191e-3;
  p = p * r + (float)4.16657959e-2;
  p = p * r + (float)1.66666655e-1;
  p = p * r + (float)5.00000012e-1;
  const float e = p * (r * r) + r + 1.0f;
  union {
    float f;
    uint32_t u;
  } two = {.f = t};
  two.u <<= 23;
  return e * two.f;
}

void mst_swiglu_fwd_f32(float *out, float *sig, const float *gate, const float *up, long n) {
  for (long i = 0; i < n; i++) {
    const float g = gate[i];
    const float s = 1.0f / (wasm_exp(-g) + 1.0f);
    sig[i] = s;
    out[i] = g * s * up[i];
  }
}

/* ---- RMSNorm forward ---- */

/*
 * ops/rmsnorm.ts's JavaScript loop: per row the sum of squares in four interleaved double partial sums,
 * r = 1 / sqrt(sum / C + eps) (stored as rstd), out = x r w.
 */
void mst_rmsnorm_fwd(float *out, float *rstd, const float *inp, const float *w, int N, int C, double eps) {
  const int C4 = C - C % 4;
  for (int n = 0; n < N; n++) {
    const float *x = inp + (long)n * C;
    float *o = out + (long)n * C;
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int c = 0;
    for (; c < C4; c += 4) {
      const double x0 = x[c], x1 = x[c + 1], x2 = x[c + 2], x3 = x[c + 3];
      s0 += x0 * x0, s1 += x1 * x1, s2 += x2 * x2, s3 += x3 * x3;
    }
    for (; c < C; c++) s0 += (double)x[c] * x[c];
    const double r = 1 / __builtin_sqrt((s0 + s1 + (s2 + s3)) / C + eps);
    rstd[n] = (float)r;
    for (c = 0; c < C; c++) o[c] = (float)((double)x[c] * r * w[c]);
  }
}

/* ---- the WebAssembly SIMD kernels' float32 arithmetic (wasm/simd-kernels.ts), for arena buffers ---- */

/* f32.max / f32x4.max: NaN if either is NaN, and +0 above -0. */
static inline float wasm_max(float a, float b) {
  if (a != a || b != b) return a + b;
  if (a == b) return __builtin_signbit(a) ? b : a;
  return a > b ? a : b;
}

/* (l0 + l1) + (l2 + l3): the kernels' horizontal sum of a four-lane accumulator. */
static inline float hsum4(const float acc[4]) { return (acc[0] + acc[1]) + (acc[2] + acc[3]); }

/* swigluBwd: dgate += dout up s (1 + g (1 - s)), dup += dout g s, on n elements (a multiple of 4). */
void mst_swiglu_bwd_f32(float *dgate, float *dup, const float *dout, const float *gate, const float *up,
                        const float *sig, long n) {
  for (long i = 0; i < n; i++) {
    const float g = gate[i], s = sig[i], d = dout[i];
    dgate[i] = dgate[i] + d * up[i] * s * (1.0f + g * (1.0f - s));
    dup[i] = dup[i] + d * g * s;
  }
}

/*
 * rmsFwd: per row (C a multiple of 4) four lane sums of x^2 (lane l takes elements l, l + 4, ...), then
 * r = 1 / sqrt(hsum invC + eps), saved to rstd, and out = x r w.
 */
void mst_rms_fwd_f32(float *out, float *rstd, const float *inp, const float *w, int N, int C, float invC, float eps) {
  for (int n = 0; n < N; n++) {
    const float *x = inp + (long)n * C;
    float *o = out + (long)n * C;
    float acc[4] = {0, 0, 0, 0};
    for (int c = 0; c < C; c += 4)
      for (int l = 0; l < 4; l++) acc[l] = x[c + l] * x[c + l] + acc[l];
    const float r = 1.0f / __builtin_sqrtf(hsum4(acc) * invC + eps);
    rstd[n] = r;
    for (int c = 0; c < C; c++) o[c] = x[c] * r * w[c];
  }
}

/*
 * rmsBwd: with xhat = x r and m = hsum(lane sums of dout w x) r invC: dinp += r (dout w - xhat m), dw += dout xhat
 * (dw accumulated over the rows in row order).
 */
void mst_rms_bwd_f32(float *dinp, float *dw, const float *dout, const float *inp, const float *w, const float *rstd,
                     int N, int C, float invC) {
  for (int n = 0; n < N; n++) {
    const float *x = inp + (long)n * C, *d = dout + (long)n * C;
    float *di = dinp + (long)n * C;
    const float r = rstd[n];
    float acc[4] = {0, 0, 0, 0};
    for (int c = 0; c < C; c += 4)
      for (int l = 0; l < 4; l++) acc[l] = d[c + l] * w[c + l] * x[c + l] + acc[l];
    const float m = hsum4(acc) * r * invC;
    for (int c = 0; c < C; c++) {
      const float xh = x[c] * r;
      dw[c] = dw[c] + d[c] * xh;
      di[c] = di[c] + r * (d[c] * w[c] - xh * m);
    }
  }
}

/*
 * softmaxCausal on `count` (rows, L) blocks at s + offs[b] (L a multiple of 4): row t's n = min(off + t + 1, L) keys
 * over the whole four-lane vectors covering them, lanes past n masked (-inf for the max, 0 after the exp); lane maxima
 * then (l0 max l1) max (l2 max l3); e = exp(x - max) with lane sums; every covered lane times 1 / hsum; the rest 0.
 */
void mst_softmax_causal_f32(float *s, const int32_t *offs, int count, int rows, int L, int off) {
  for (int blk = 0; blk < count; blk++)
    for (int t = 0; t < rows; t++) {
      float *row = s + offs[blk] + (long)t * L;
      const int n = off + t + 1 < L ? off + t + 1 : L;
      const int nb = (n + 3) & ~3;
      float mx[4] = {-__builtin_inff(), -__builtin_inff(), -__builtin_inff(), -__builtin_inff()};
      for (int j = 0; j < nb; j += 4)
        for (int l = 0; l < 4; l++) mx[l] = wasm_max(mx[l], j + l < n ? row[j + l] : -__builtin_inff());
      const float m = wasm_max(wasm_max(mx[0], mx[1]), wasm_max(mx[2], mx[3]));
      float acc[4] = {0, 0, 0, 0};
      for (int j = 0; j < nb; j += 4)
        for (int l = 0; l < 4; l++) {
          const float e = j + l < n ? wasm_exp(row[j + l] - m) : 0.0f;
          row[j + l] = e;
          acc[l] = e + acc[l];
        }
      const float inv = 1.0f / hsum4(acc);
      for (int j = 0; j < nb; j++) row[j] = row[j] * inv;
      for (int j = nb; j < L; j++) row[j] = 0.0f;
    }
}

/* ---- AdamW ---- */

/*
 * engine/optim.ts's update of one tensor, in double as its loop: m = b1 m + c1 g, v = b2 v + c2 g g (stored as float),
 * w = w shrink - (stepSize m) / (sqrt(v) invBc2Sqrt + eps) with the unrounded m and v.
 */
void mst_adamw(float *w, const float *g, float *m, float *v, long n, double b1, double b2, double c1, double c2,
               double shrink, double stepSize, double invBc2Sqrt, double eps) {
  for (long i = 0; i < n; i++) {
    const double gi = g[i];
    const double mi = b1 * m[i] + c1 * gi;
    const double vi = b2 * v[i] + c2 * gi * gi;
    m[i] = (float)mi;
    v[i] = (float)vi;
    w[i] = (float)(w[i] * shrink - (stepSize * mi) / (__builtin_sqrt(vi) * invBc2Sqrt + eps));
  }
}
