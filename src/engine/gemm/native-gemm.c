/* mst's native GEMM: the WebAssembly kernel's order of operations in C, so every build gives the wasm bits. */

/*
 * The promise (see src/engine/wasm/gemm-kernels.ts): every C element is accumulated from +0 by `acc = acc + a * b`
 * (a rounded multiply, then a rounded add: this file MUST be compiled with -ffp-contract=off and without
 * -ffast-math) in increasing k within a KC-deep slice; each slice's sum then updates C as `C * beta + acc * alpha`
 * (beta on the first slice, 1 after; the first slice with beta = 0 stores `acc * alpha` without reading C). Nothing
 * else touches an element, so the vector width (4, 8 or 16 lanes), the micro-tile shape, the cache blocking of M and
 * N, and which thread computes which tile never change a rounding. Only KC splits k, and it is the wasm kernel's.
 *
 * Built by native-build.ts with one of: -DMST_ISA_AVX512 (x86-64-v4), -DMST_ISA_AVX2 (x86-64-v3), or nothing
 * (4-lane GCC vectors: NEON on arm64, SSE on x86-64, scalar elsewhere).
 */

#if defined(MST_ISA_AVX512) || defined(MST_ISA_AVX2)
#include <immintrin.h>
#endif
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__FAST_MATH__)
#error "native-gemm.c must not be built with -ffast-math: it would reorder the sums"
#endif

#if defined(MST_ISA_AVX512)
/*
 * 256-bit vectors with AVX-512's 32 registers: 12 x 2 accumulators. Measured on AMD EPYC (Zen 4, 1 thread, 512^3,
 * 2026-12-07, interleaved): 512-bit 8 x 32 tiles 62 GFLOP/s, 256-bit 12 x 16 tiles 86-90, and a build fusing into
 * 512-bit FMA (other bits) 85-90: Zen 4 splits each 512-bit operation in two, and multiply-then-add at 256 bits
 * keeps its multiply and add pipes as busy as FMA keeps its FMA pipes.
 */
#define VW 8 /* lanes per vector */
#define MR 12
#elif defined(MST_ISA_AVX2)
#define VW 8
#define MR 4 /* 4 x 2 accumulators leave room in the 16 ymm registers for the products */
#else
#define VW 4
#define MR 4
#endif
#define NV 2          /* vectors per micro-tile row */
#define NR (NV * VW)  /* micro-tile columns */
#define KC 256        /* the k slice: fixed by the wasm kernel (gemm-blocked.ts), part of the results */
#define MC 144        /* rows of A packed at once (L2); the packed block is padded to whole MR panels */
#define NC 512        /* columns of B packed at once (L2/L3) */
#define MAX_THREADS 64
/*
 * Products that skip the panels (direct() below): few rows, few columns, a shallow k, or few multiply-adds in all.
 * Set from timings of both paths on the avx512 build (2026-12-07, AMD EPYC Zen 4, 1 thread, CPU time), with the
 * operands hot in cache and, closer to a training step, rotated through 24 sets so each product finds them in L3: the
 * direct path was as fast or faster inside these bounds (LoRA's rank-8 factors and attention heads 2-4x; weight
 * gradients of 64 columns with k 1280-4096, 172x64xk TN, 75 GFLOP/s against 41 packed, cold), the panels faster on
 * large products with many columns (384x384x1024 TN 91 against 76, cold).
 */
#define DIRECT_MAX_M 32
#define DIRECT_MAX_N 64
#define DIRECT_MAX_K 16
#define DIRECT_MAX_MNK (1L << 23)

typedef float vf __attribute__((vector_size(VW * 4)));
/* the same vector type at 4-byte alignment: loads and stores of C rows at any column */
typedef float vfu __attribute__((vector_size(VW * 4), aligned(4)));

/* One product, as Gemm.sgemm: row-major, op(A) (M,K), op(B) (K,N), C (M,N), strides in floats. */
typedef struct {
  int transA, transB, M, N, K;
  float alpha, beta;
  const float *A;
  int lda;
  const float *B;
  int ldb;
  float *C;
  int ldc;
  /* non-null: B is a frozen NF4 or bf16 matrix, dequantised while packing (B is then NULL: a path that reads B
     directly instead of through pack_b must not take such a product) */
  const struct packed_b *packedB;
} product;

/* A frozen NF4 or bf16 matrix that mst_sgemm_packed dequantises while it multiplies (see below). */
struct packed_b {
  int format;             /* PACKED_NF4 or PACKED_BF16 */
  const uint8_t *codes;   /* NF4: two 4-bit code indices per byte, the first value in the high nibble */
  const float *absmax;    /* NF4 without double quantisation: one absmax per block of 64; NULL with it */
  const uint8_t *absmaxQ; /* NF4 with double quantisation: per block, an index into map */
  const float *scale2;    /* ... per 256 blocks, their scale */
  float offset;           /* ... the mean absmax, added last */
  const float *map;       /* ... the 256-value dynamic map */
  const float *code;      /* NF4's 16 code values */
  const uint16_t *bits;   /* bf16: the top 16 bits of each float32 */
  int64_t off;            /* flat row-major index of op(B)'s origin in the stored matrix */
};

/* A's rows i0.. (mc of them) and k's p0.. (kc) into MR-row panels, k-major, rows past mc zero. */
static void pack_a(const product *p, int i0, int mc, int p0, int kc, float *dst) {
  for (int ir = 0; ir < mc; ir += MR) {
    int rows = mc - ir < MR ? mc - ir : MR;
    if (p->transA) {
      /* op(A)(i, k) = A[k][i]: a panel's rows are contiguous for each k */
      for (int k = 0; k < kc; k++) {
        memcpy(dst + k * MR, p->A + (size_t)(p0 + k) * p->lda + i0 + ir, sizeof(float) * rows);
        for (int i = rows; i < MR; i++) dst[k * MR + i] = 0.0f;
      }
    } else {
      /* each row of A is contiguous in k: read it once, scatter into the panel */
      for (int i = 0; i < rows; i++) {
        const float *a = p->A + (size_t)(i0 + ir + i) * p->lda + p0;
        for (int k = 0; k < kc; k++) dst[k * MR + i] = a[k];
      }
      for (int i = rows; i < MR; i++)
        for (int k = 0; k < kc; k++) dst[k * MR + i] = 0.0f;
    }
    dst += (size_t)MR * kc;
  }
}

#if VW == 8
/*
 * out[q] = (src[0][q], src[ld][q], ..., src[7 ld][q]): eight rows of eight floats transposed in registers (pairs
 * interleaved, then quads, then 128-bit halves). Moves values only, so no path's bits depend on it.
 */
static inline __attribute__((always_inline)) void transpose8(const float *src, size_t ld, __m256 out[8]) {
  __m256 r[8], t[8];
  for (int q = 0; q < 8; q++) r[q] = _mm256_loadu_ps(src + (size_t)q * ld);
  for (int q = 0; q < 8; q += 2) {
    t[q] = _mm256_unpacklo_ps(r[q], r[q + 1]);
    t[q + 1] = _mm256_unpackhi_ps(r[q], r[q + 1]);
  }
  for (int q = 0; q < 8; q += 4) {
    r[q] = _mm256_shuffle_ps(t[q], t[q + 2], 0x44);
    r[q + 1] = _mm256_shuffle_ps(t[q], t[q + 2], 0xEE);
    r[q + 2] = _mm256_shuffle_ps(t[q + 1], t[q + 3], 0x44);
    r[q + 3] = _mm256_shuffle_ps(t[q + 1], t[q + 3], 0xEE);
  }
  for (int q = 0; q < 4; q++) {
    out[q] = _mm256_permute2f128_ps(r[q], r[q + 4], 0x20);
    out[q + 4] = _mm256_permute2f128_ps(r[q], r[q + 4], 0x31);
  }
}
#endif

/* op(B)'s columns j0.. (nc of them) and k's p0.. (kc) into NR-column panels, k-major, columns past nc zero. */
static void pack_b(const product *p, int j0, int nc, int p0, int kc, float *dst) {
  for (int jr = 0; jr < nc; jr += NR) {
    int cols = nc - jr < NR ? nc - jr : NR;
    if (!p->transB) {
      for (int k = 0; k < kc; k++) {
        memcpy(dst + k * NR, p->B + (size_t)(p0 + k) * p->ldb + j0 + jr, sizeof(float) * cols);
        for (int j = cols; j < NR; j++) dst[k * NR + j] = 0.0f;
      }
    } else {
      /* op(B)(k, j) = B[j][k]: each stored row is contiguous in k */
      int k0 = 0;
#if VW == 8
      /* a full panel: eight k of its 16 stored rows at a time, as two 8 x 8 transposes, stored as whole panel rows */
      if (cols == NR)
        for (; k0 + 8 <= kc; k0 += 8)
          for (int h = 0; h < NR; h += 8) {
            __m256 t[8];
            transpose8(p->B + (size_t)(j0 + jr + h) * p->ldb + p0 + k0, (size_t)p->ldb, t);
            for (int q = 0; q < 8; q++) _mm256_storeu_ps(dst + (size_t)(k0 + q) * NR + h, t[q]);
          }
#endif
      for (int j = 0; j < cols; j++) {
        const float *b = p->B + (size_t)(j0 + jr + j) * p->ldb + p0;
        for (int k = k0; k < kc; k++) dst[k * NR + j] = b[k];
      }
      for (int j = cols; j < NR; j++)
        for (int k = k0; k < kc; k++) dst[k * NR + j] = 0.0f;
    }
    dst += (size_t)NR * kc;
  }
}

/*
 * One micro-tile of MRN <= MR rows by NVN <= NV vectors (both compile-time constants, so the accumulators stay in
 * registers): acc[i][v] = sum over the slice of a(i, k) * b(k, v) (multiply, then add), then the C update on the
 * rows x cols valid part at c. a(i, k) is a[i * ars + k * acs] and b(k, v) the vector at b + k * bs + v * VW: packed
 * panels (ars 1, acs MR, bs NR) or the operands in place (direct products below). mode 0: C = acc * alpha; mode 1:
 * C = C * beta + acc * alpha. Whole rows of NVN vectors are stored as vectors, a partial last column block element by
 * element; the operations per element are the same either way.
 */
static inline __attribute__((always_inline)) void tile(const int MRN, const int NVN, int kc, const float *a, size_t ars,
                                                        size_t acs, const float *b, size_t bs, float *c, int ldc,
                                                        int rows, int cols, int mode, float alpha, float beta) {
  vf acc[MR][NV];
  for (int i = 0; i < MRN; i++)
    for (int v = 0; v < NVN; v++) acc[i][v] = (vf){0};
  for (int k = 0; k < kc; k++) {
    vf bv[NV];
    for (int v = 0; v < NVN; v++) bv[v] = *(const vfu *)(b + k * bs + v * VW);
    for (int i = 0; i < MRN; i++) {
      const float av = a[i * ars + k * acs];
      for (int v = 0; v < NVN; v++) acc[i][v] = acc[i][v] + bv[v] * av;
    }
  }
  if (cols == NVN * VW) {
    for (int i = 0; i < MRN && i < rows; i++)
      for (int v = 0; v < NVN; v++) {
        vfu *cp = (vfu *)(c + (size_t)i * ldc + v * VW);
        if (mode) *cp = *cp * beta + acc[i][v] * alpha;
        else *cp = acc[i][v] * alpha;
      }
    return;
  }
  float tmp[MR][NR] __attribute__((aligned(64)));
  for (int i = 0; i < MRN; i++)
    for (int v = 0; v < NVN; v++) *(vf *)&tmp[i][v * VW] = acc[i][v];
  for (int i = 0; i < rows; i++)
    for (int j = 0; j < cols; j++) {
      float *cp = c + (size_t)i * ldc + j;
      *cp = mode ? *cp * beta + tmp[i][j] * alpha : tmp[i][j] * alpha;
    }
}

/* A packed micro-tile of `rows` rows: the smallest multiple of 4 rows that covers them (the panel is zero-padded). */
static void micro(int kc, const float *pa, const float *pb, float *c, int ldc, int rows, int cols, int mode,
                  float alpha, float beta) {
#if MR > 8
  if (rows > 8) tile(MR, NV, kc, pa, 1, MR, pb, NR, c, ldc, rows, cols, mode, alpha, beta);
  else
#endif
#if MR > 4
  if (rows > 4) tile(MR > 8 ? 8 : MR, NV, kc, pa, 1, MR, pb, NR, c, ldc, rows, cols, mode, alpha, beta);
  else
#endif
    tile(4, NV, kc, pa, 1, MR, pb, NR, c, ldc, rows, cols, mode, alpha, beta);
}

/* Per-thread packing buffers, allocated on a thread's first product. */
static _Thread_local float *scratch_a, *scratch_b, *scratch_e;

static int ensure_scratch(void) {
  if (scratch_a) return 1;
  scratch_a = aligned_alloc(64, sizeof(float) * KC * ((MC + MR - 1) / MR) * MR);
  scratch_b = aligned_alloc(64, sizeof(float) * KC * ((NC + NR - 1) / NR) * NR);
  /* the edge tile of the direct path (KC x NR), or the skinny path's SJ <= NR dequantised rows (KC each) */
  scratch_e = aligned_alloc(64, sizeof(float) * KC * NR);
  if (!(scratch_a && scratch_b && scratch_e)) {
    free(scratch_a), free(scratch_b), free(scratch_e);
    scratch_a = scratch_b = scratch_e = NULL;
    return 0;
  }
  return 1;
}

static void pack_b_packed(const product *p, int j0, int nc, int p0, int kc, float *dst); /* after the exports */
static void packed_run(const struct packed_b *b, int64_t i, int n, float *out);

/* Rows r0..r1, columns c0..c1 of C, Goto's loop order (as gemm-blocked.ts; any range gives the same bits). */
static void blocked(const product *p, int r0, int r1, int c0, int c1) {
  float *pa = scratch_a, *pb = scratch_b;
  for (int jc = c0; jc < c1; jc += NC) {
    int nc = c1 - jc < NC ? c1 - jc : NC;
    for (int pc = 0; pc < p->K; pc += KC) {
      int kc = p->K - pc < KC ? p->K - pc : KC;
      if (p->packedB) pack_b_packed(p, jc, nc, pc, kc, pb);
      else pack_b(p, jc, nc, pc, kc, pb);
      int first = pc == 0;
      int mode = first && p->beta == 0.0f ? 0 : 1;
      float beta = first ? p->beta : 1.0f;
      for (int ic = r0; ic < r1; ic += MC) {
        int mc = r1 - ic < MC ? r1 - ic : MC;
        pack_a(p, ic, mc, pc, kc, pa);
        for (int jr = 0; jr < nc; jr += NR)
          for (int ir = 0; ir < mc; ir += MR) {
            int rows = mc - ir < MR ? mc - ir : MR, cols = nc - jr < NR ? nc - jr : NR;
            micro(kc, pa + (size_t)ir * kc, pb + (size_t)jr * kc, p->C + (size_t)(ic + ir) * p->ldc + jc + jr, p->ldc,
                  rows, cols, mode, p->alpha, beta);
          }
      }
    }
  }
}

/* ---- direct products: nothing packed into panels ---- */

/*
 * Small and skinny products (attention heads, LoRA's rank-r factors, decode steps) spend longer packing than
 * multiplying. Here op(A) is read in place whatever its transpose, op(B) in place when it is stored row-major (not
 * transB), else transposed once per KC x NC block into the scratch; only a partial last column block is copied into
 * a zero-padded tile (so no load reads past the operand). Same slices, same per-element operations: same bits.
 */

/* A tile of exactly `rows` rows (nothing past them is read: the operand may end there), NVN vectors wide. */
#define TILE_CASE(n)                                                                                                  \
  case n:                                                                                                             \
    if (nvn == NV) tile(n, NV, kc, a, ars, acs, b, bs, c, ldc, rows, cols, mode, alpha, beta);                        \
    else tile(n, 1, kc, a, ars, acs, b, bs, c, ldc, rows, cols, mode, alpha, beta);                                   \
    break;
static void direct_tile(int rows, int nvn, int kc, const float *a, size_t ars, size_t acs, const float *b, size_t bs,
                        float *c, int ldc, int cols, int mode, float alpha, float beta) {
  switch (rows) {
    TILE_CASE(1) TILE_CASE(2) TILE_CASE(3) TILE_CASE(4)
#if MR > 4
    TILE_CASE(5) TILE_CASE(6) TILE_CASE(7) TILE_CASE(8)
#endif
#if MR > 8
    TILE_CASE(9) TILE_CASE(10) TILE_CASE(11) TILE_CASE(12)
#endif
  }
}
#undef TILE_CASE

/*
 * Rows r0..r1, columns c0..c1 of C with op(A) in place (as blocked(): any range gives the same bits). A stored-
 * transposed B is still packed into NR-column panels: transposing into them is what a strided read of B would cost
 * on every row tile instead of once.
 */
static void direct(const product *p, int r0, int r1, int c0, int c1) {
  const size_t ars = p->transA ? 1 : (size_t)p->lda, acs = p->transA ? (size_t)p->lda : 1;
  for (int jc = c0; jc < c1; jc += NC) {
    int nc = c1 - jc < NC ? c1 - jc : NC;
    int nfull = nc / NR * NR, edge = nc - nfull;
    int nve = edge > VW ? NV : 1; /* vectors the last column tile needs */
    for (int pc = 0; pc < p->K; pc += KC) {
      int kc = p->K - pc < KC ? p->K - pc : KC;
      const float *b, *be; /* the full column tiles from b (stride bs, tile jr at b + jr * bt), the edge tile at be */
      size_t bs, bt;
      if (p->transB) {
        pack_b(p, jc, nc, pc, kc, scratch_b); /* panels zero-padded past nc */
        b = scratch_b, bs = NR, bt = kc;
        be = scratch_b + (size_t)nfull * kc;
      } else {
        b = p->B + (size_t)pc * p->ldb + jc, bs = (size_t)p->ldb, bt = 1;
        if (edge)
          for (int k = 0; k < kc; k++)
            for (int j = 0; j < nve * VW; j++) scratch_e[k * NR + j] = j < edge ? b[k * bs + nfull + j] : 0.0f;
        be = scratch_e;
      }
      int first = pc == 0;
      int mode = first && p->beta == 0.0f ? 0 : 1;
      float beta = first ? p->beta : 1.0f;
      for (int ir = r0; ir < r1; ir += MR) {
        int rows = r1 - ir < MR ? r1 - ir : MR;
        const float *a = p->transA ? p->A + (size_t)pc * p->lda + ir : p->A + (size_t)ir * p->lda + pc;
        float *c = p->C + (size_t)ir * p->ldc + jc;
        for (int jr = 0; jr < nfull; jr += NR)
          direct_tile(rows, NV, kc, a, ars, acs, b + jr * bt, bs, c + jr, p->ldc, NR, mode, p->alpha, beta);
        if (edge) direct_tile(rows, nve, kc, a, ars, acs, be, NR, c + nfull, p->ldc, edge, mode, p->alpha, beta);
      }
    }
  }
}

/* ---- skinny products with a stored-transposed B: rows across the vector lanes ---- */

/*
 * Decode steps multiply a few rows (the batch) by a weight stored (N, K), op(B) = B^T: packing B into column panels
 * would cost a pass over the whole weight per call, as much as the product. Here the rows lie across the lanes
 * instead: A's slice is packed k-major (SV vectors of VW rows per k, zero past M), and each output column j walks its
 * stored row B[j][p0..p0+kc) in order, `acc = acc + a(k) * b(k, j)` for every row at once (one broadcast of b). Each
 * element still sums from +0 in increasing k within the slice and then updates C as `C * beta + acc * alpha`: the
 * same operations as tile(), so the same bits. SJ columns at a time share each load of A.
 */
#define SKINNY_MAX_M (2 * VW)
/*
 * Taken by size for any such product of one vector of rows, and of two with at least SKINNY_MIN_N columns. Timed
 * against the direct path (bench/gemm-paths.ts, avx512 build, AMD EPYC Zen 4, 1 thread, 2026-12-07): 8 rows
 * 2.3-4x faster from 32 columns up (8x896x896 78 GFLOP/s against 30, 4x151936x896 22 against 8.3), 1.3x at 16;
 * 16 rows by 16 columns 32 against 51.
 */
#define SKINNY_MIN_N 32
#define SJ 8
_Static_assert(SJ <= NR, "the skinny path dequantises SJ rows of KC into scratch_e (KC x NR)");

static inline __attribute__((always_inline)) void skinny_cols(const int SV, const int NJ, int kc, const float *ap,
                                                               const float *b, size_t ldb, float *c, int ldc, int rows,
                                                               int mode, float alpha, float beta) {
  vf acc[SJ][2];
  for (int j = 0; j < NJ; j++)
    for (int v = 0; v < SV; v++) acc[j][v] = (vf){0};
  for (int k = 0; k < kc; k++) {
    vf av[2];
    for (int v = 0; v < SV; v++) av[v] = *(const vf *)(ap + (size_t)k * SV * VW + v * VW);
    for (int j = 0; j < NJ; j++) {
      const float bk = b[(size_t)j * ldb + k];
      for (int v = 0; v < SV; v++) acc[j][v] = acc[j][v] + av[v] * bk;
    }
  }
  for (int j = 0; j < NJ; j++) {
    float t[2 * VW] __attribute__((aligned(64)));
    for (int v = 0; v < SV; v++) *(vf *)&t[v * VW] = acc[j][v];
    for (int i = 0; i < rows; i++) {
      float *cp = c + (size_t)i * ldc + j;
      *cp = mode ? *cp * beta + t[i] * alpha : t[i] * alpha;
    }
  }
}

/* NJ <= SJ columns, SV vectors of rows (compile-time constants, so the accumulators stay in registers). */
#define SKINNY_CASE(n)                                                                                                \
  case n:                                                                                                             \
    if (sv == 1) skinny_cols(1, n, kc, ap, b, ldb, c, ldc, rows, mode, alpha, beta);                                  \
    else skinny_cols(2, n, kc, ap, b, ldb, c, ldc, rows, mode, alpha, beta);                                          \
    break;
static void skinny_block(int sv, int nj, int kc, const float *ap, const float *b, size_t ldb, float *c, int ldc,
                         int rows, int mode, float alpha, float beta) {
  switch (nj) {
    SKINNY_CASE(1) SKINNY_CASE(2) SKINNY_CASE(3) SKINNY_CASE(4) SKINNY_CASE(5) SKINNY_CASE(6) SKINNY_CASE(7)
    SKINNY_CASE(8)
  }
}
#undef SKINNY_CASE

#if VW == 8
/*
 * One or two rows (a single stream's decode step): with rows across the lanes most lanes would idle, so eight
 * columns lie across them instead, and an 8 x 8 block of B (eight stored rows, eight k) is transposed in registers;
 * vector q then holds b(k0 + q, j..j+7), and each row adds `a(i, k) * b(k, j)` for k in order. Same operations per
 * element as skinny_cols, so the same bits. A k tail under 8 is gathered one k at a time. Timed against rows across
 * the lanes (bench/gemm-paths.ts, avx512 build, Zen 4, 1 thread): 1x896x896 17 against 11 GFLOP/s, 2x896x896 34
 * against 21, 1x151936x896 7.7 against 6.1; at 4 rows 35 against 42, so from 3 rows on the lanes take the rows.
 * Two or four blocks of columns at once were slower (more streams of B at once).
 */
#define SKINNY_T_MAX_M 2
static inline __attribute__((always_inline)) void skinny_t8(const int MRN, int kc, const float *a, size_t ars,
                                                             size_t acs, const float *b, size_t ldb, float *c, int ldc,
                                                             int mode, float alpha, float beta) {
  vf acc[SKINNY_T_MAX_M];
  for (int i = 0; i < MRN; i++) acc[i] = (vf){0};
  int k = 0;
  for (; k + 8 <= kc; k += 8) {
    __m256 t[8];
    transpose8(b + k, ldb, t);
    /* now t[q] holds b(k + q, the eight columns) */
    for (int q = 0; q < 8; q++) {
      const vf bq = (vf)t[q];
      for (int i = 0; i < MRN; i++) acc[i] = acc[i] + bq * a[i * ars + (size_t)(k + q) * acs];
    }
  }
  for (; k < kc; k++) {
    vf bk;
    for (int q = 0; q < 8; q++) bk[q] = b[(size_t)q * ldb + k];
    for (int i = 0; i < MRN; i++) acc[i] = acc[i] + bk * a[i * ars + (size_t)k * acs];
  }
  for (int i = 0; i < MRN; i++) {
    vfu *cp = (vfu *)(c + (size_t)i * ldc);
    if (mode) *cp = *cp * beta + acc[i] * alpha;
    else *cp = acc[i] * alpha;
  }
}
#endif

/*
 * Columns c0..c1 of C (all M <= SKINNY_MAX_M rows) for a transB product; any column range gives the same bits. A is
 * packed for as many KC slices as the buffer holds, and each group of SJ columns then runs through all of them (its
 * slices in order, C updated after each), so B's rows are read front to back, one stream per column.
 */
static void skinny(const product *p, int r0, int r1, int c0, int c1) {
  const int rows = r1 - r0, sv = rows > VW ? 2 : 1, lanes = sv * VW;
  float *ap = scratch_a; /* holds `group` slices of KC x lanes */
  const int group = KC * ((MC + MR - 1) / MR) * MR / (KC * lanes);
  for (int g0 = 0; g0 < p->K; g0 += group * KC) {
    int gk = p->K - g0 < group * KC ? p->K - g0 : group * KC;
    if (p->transA)
      for (int k = 0; k < gk; k++) {
        memcpy(ap + k * lanes, p->A + (size_t)(g0 + k) * p->lda + r0, sizeof(float) * rows);
        for (int i = rows; i < lanes; i++) ap[k * lanes + i] = 0.0f;
      }
    else {
      for (int i = 0; i < rows; i++) {
        const float *a = p->A + (size_t)(r0 + i) * p->lda + g0;
        for (int k = 0; k < gk; k++) ap[k * lanes + i] = a[k];
      }
      for (int i = rows; i < lanes; i++)
        for (int k = 0; k < gk; k++) ap[k * lanes + i] = 0.0f;
    }
    for (int j = c0; j < c1; j += SJ) {
      int nj = c1 - j < SJ ? c1 - j : SJ;
      for (int pc = g0; pc < g0 + gk; pc += KC) {
        int kc = p->K - pc < KC ? p->K - pc : KC;
        int first = pc == 0;
        int mode = first && p->beta == 0.0f ? 0 : 1;
        float beta = first ? p->beta : 1.0f;
        const float *b = p->B + (size_t)j * p->ldb + pc;
        size_t ldb = (size_t)p->ldb;
        if (p->packedB) {
          /* a packed weight: the slice of each of these columns' stored rows, dequantised as pack_b_packed does */
          for (int t = 0; t < nj; t++)
            packed_run(p->packedB, p->packedB->off + (int64_t)(j + t) * p->ldb + pc, kc, scratch_e + (size_t)t * KC);
          b = scratch_e, ldb = KC;
        }
#if VW == 8
        if (rows <= SKINNY_T_MAX_M && nj == SJ) {
          const size_t ars = p->transA ? 1 : (size_t)p->lda, acs = p->transA ? (size_t)p->lda : 1;
          const float *a = p->transA ? p->A + (size_t)pc * p->lda + r0 : p->A + (size_t)r0 * p->lda + pc;
          float *c = p->C + (size_t)r0 * p->ldc + j;
          if (rows == 1) skinny_t8(1, kc, a, ars, acs, b, ldb, c, p->ldc, mode, p->alpha, beta);
          else skinny_t8(2, kc, a, ars, acs, b, ldb, c, p->ldc, mode, p->alpha, beta);
          continue;
        }
#endif
        skinny_block(sv, nj, kc, ap + (size_t)(pc - g0) * lanes, b, ldb, p->C + (size_t)r0 * p->ldc + j, p->ldc, rows,
                     mode, p->alpha, beta);
      }
    }
  }
}

/* Which path a product takes: forced by mst_gemm_force_path (tests, bench), else by size. */
static int forced_path; /* 0 by size, 1 packed, 2 direct, 3 skinny where it applies (else direct) */

/* Few rows times a stored-transposed B (a decode step's projections): the skinny path. */
static int use_skinny(const product *p) {
  if (!p->transB || p->M > SKINNY_MAX_M) return 0;
  if (forced_path) return forced_path == 3;
  return p->M <= VW || p->N >= SKINNY_MIN_N;
}

static int use_direct(const product *p) {
  if (p->packedB) return 0; /* a packed weight is dequantised by the panel packing (pack_b_packed) */
  if (forced_path) return forced_path >= 2;
  if (p->M <= DIRECT_MAX_M || p->N <= DIRECT_MAX_N || p->K <= DIRECT_MAX_K) return 1;
  /* a stored-transposed A read in place costs a cache line per k: many columns pay for it only within one slice */
  if (p->transA && p->K > KC) return 0;
  return (long)p->M * p->N * p->K <= DIRECT_MAX_MNK;
}

typedef void (*path_fn)(const product *, int, int, int, int);

/* The path of a product: every one computes the same bits, on any range of C. */
static path_fn path_of(const product *p) { return use_skinny(p) ? skinny : use_direct(p) ? direct : blocked; }

/* ---- threads: a small pool; each thread takes one contiguous range of whole micro-tiles of C, never of k ---- */

static struct {
  pthread_mutex_t mu;
  pthread_cond_t go, done;
  int started;         /* worker threads running */
  unsigned generation; /* bumped per posted product */
  int parts;           /* threads taking part in the current product (the caller is part 0) */
  int pending;         /* parts not finished */
  int failed;          /* a worker could not allocate its scratch */
  const product *job;
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0, 0, 0};

/* Part `part` of `parts`: rows split on MR boundaries when M >= N, else columns on NR boundaries. */
static void run_part(const product *p, int part, int parts) {
  int byRows = p->M >= p->N;
  int n = byRows ? p->M : p->N, unit = byRows ? MR : NR;
  int per = ((n + unit - 1) / unit + parts - 1) / parts * unit;
  int lo = part * per < n ? part * per : n, hi = (part + 1) * per < n ? (part + 1) * per : n;
  if (lo >= hi) return;
  path_fn run = path_of(p);
  if (byRows) run(p, lo, hi, 0, p->N);
  else run(p, 0, p->M, lo, hi);
}

static void *worker(void *arg) {
  int index = (int)(intptr_t)arg; /* 1.. */
  unsigned seen = 0;
  int ok = ensure_scratch();
  pthread_mutex_lock(&pool.mu);
  for (;;) {
    while (pool.generation == seen) pthread_cond_wait(&pool.go, &pool.mu);
    seen = pool.generation;
    if (index >= pool.parts) continue;
    const product *p = pool.job;
    int parts = pool.parts;
    pthread_mutex_unlock(&pool.mu);
    if (ok) run_part(p, index, parts);
    pthread_mutex_lock(&pool.mu);
    if (!ok) pool.failed = 1;
    if (--pool.pending == 0) pthread_cond_signal(&pool.done);
  }
  return NULL;
}

/* Starts workers up to `threads - 1`; returns how many threads products can use (1 when none could start). */
static int ensure_workers(int threads) {
  if (threads > MAX_THREADS) threads = MAX_THREADS;
  while (pool.started < threads - 1) {
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&t, &attr, worker, (void *)(intptr_t)(pool.started + 1));
    pthread_attr_destroy(&attr);
    if (rc != 0) break;
    pool.started++;
  }
  return pool.started + 1 < threads ? pool.started + 1 : threads;
}

/* One product on `threads` threads (the caller's included): the same split at any count, so the same bits. */
static int run_product(const product *p, int threads) {
  if (!ensure_scratch()) return -1;
  if (threads <= 1) {
    path_of(p)(p, 0, p->M, 0, p->N);
    return 0;
  }
  pthread_mutex_lock(&pool.mu);
  int parts = ensure_workers(threads);
  pool.job = p;
  pool.parts = parts;
  pool.pending = parts - 1;
  pool.failed = 0;
  pool.generation++;
  pthread_cond_broadcast(&pool.go);
  pthread_mutex_unlock(&pool.mu);
  run_part(p, 0, parts);
  pthread_mutex_lock(&pool.mu);
  while (pool.pending > 0) pthread_cond_wait(&pool.done, &pool.mu);
  int failed = pool.failed;
  pthread_mutex_unlock(&pool.mu);
  return failed ? -1 : 0;
}

/* ---- exported ---- */

/* Which build this is: "avx512", "avx2" or "generic", and its vector width (bench and env.json print it). */
const char *mst_gemm_isa(void) {
#if defined(MST_ISA_AVX512)
  return "avx512";
#elif defined(MST_ISA_AVX2)
  return "avx2";
#else
  return "generic";
#endif
}

/*
 * Forces every later product onto one path: 1 packed panels, 2 direct, 3 skinny where it applies (few rows, transB;
 * else direct), 0 by size (tests compare every path with the reference).
 */
void mst_gemm_force_path(int path) { forced_path = path; }

/* KC this build splits k at: the loader checks it equals the wasm kernel's. */
int mst_gemm_kc(void) { return KC; }

/*
 * C = alpha * op(A) @ op(B) + beta * C (row-major; K > 0, M > 0, N > 0, extents checked by the caller) on `threads`
 * threads (the caller's included). Returns 0, or -1 when a packing buffer could not be allocated.
 */
int mst_sgemm(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
              int ldb, float beta, float *C, int ldc, int threads) {
  product p = {transA, transB, M, N, K, alpha, beta, A, lda, B, ldb, C, ldc, NULL};
  return run_product(&p, threads);
}

/*
 * `count` products of one shape, product i with its matrices at A + aoff[i], B + boff[i] and C + coff[i] (in floats):
 * attention's per-head products in one call. They run in index order on the calling thread, each as mst_sgemm would,
 * so products adding into the same C do so in that order. Returns 0, or -1 as mst_sgemm.
 */
int mst_sgemm_batch(int count, int transA, int transB, int M, int N, int K, float alpha, const float *A,
                    const int *aoff, int lda, const float *B, const int *boff, int ldb, float beta, float *C,
                    const int *coff, int ldc) {
  if (!ensure_scratch()) return -1;
  for (int i = 0; i < count; i++) {
    product p = {transA, transB, M, N, K, alpha, beta, A + aoff[i], lda, B + boff[i], ldb, C + coff[i], ldc, NULL};
    path_of(&p)(&p, 0, M, 0, N);
  }
  return 0;
}

/* ---- packed B: frozen NF4 or bf16 weights dequantised straight into the packed panel, no float32 copy ---- */

/*
 * The values are exactly those of the JavaScript reference loops (src/engine/quant/nf4.ts, bf16.ts) and of the wasm
 * dequantisers: bf16 is a 16-bit shift; NF4 is `code[index] * absmax`, one float32 multiply, where a block's absmax is
 * stored (float32) or, with double quantisation, `map[q] * scale2[block / 256]` then `+ offset`, two float32
 * operations in that order. The code table and the map are the caller's (the JS tables), so no constant is written
 * twice. Vector lanes do the same multiply as the scalar loop, so every width gives the same values; after that the
 * product is the float32 one, so fused and "dequantise, then mst_sgemm" give the same bits (checked at load).
 */

#define PACKED_NF4 1
#define PACKED_BF16 2
#define NF4_BLOCK 64         /* values per absmax (bitsandbytes' blocksize) */
#define NF4_ABSMAX_BLOCK 256 /* absmaxes per second-level scale (double quantisation) */


/* The absmax of NF4 block `block` (as Nf4Matrix.blockScale). */
static inline float nf4_scale(const struct packed_b *b, int64_t block) {
  if (b->absmax) return b->absmax[block];
  float s = b->map[b->absmaxQ[block]] * b->scale2[block / NF4_ABSMAX_BLOCK];
  return s + b->offset;
}

/* NF4 values i.. (n of them, inside one block: one scale s) into out. */
static void nf4_segment(const struct packed_b *b, int64_t i, int n, float s, float *out) {
  const uint8_t *codes = b->codes;
  const float *code = b->code;
  int t = 0;
  if (i & 1) {
    out[0] = code[codes[i >> 1] & 15] * s;
    t = 1;
  }
  /* from here i + t is even: whole bytes, the high nibble first */
#if defined(MST_ISA_AVX512)
  {
    /* 8 bytes -> 16 values: each byte twice, shifted by 4 (even lanes) or 0, masked, looked up in the 16-entry table */
    const __m512 table = _mm512_loadu_ps(code), scale = _mm512_set1_ps(s);
    const __m512i shifts = _mm512_set_epi32(0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4);
    const __m512i low4 = _mm512_set1_epi32(15);
    for (; t + 16 <= n; t += 16) {
      __m128i bytes = _mm_loadl_epi64((const __m128i *)(codes + ((i + t) >> 1)));
      __m512i x = _mm512_cvtepu8_epi32(_mm_unpacklo_epi8(bytes, bytes));
      __m512i idx = _mm512_and_si512(_mm512_srlv_epi32(x, shifts), low4);
      _mm512_storeu_ps(out + t, _mm512_mul_ps(_mm512_permutexvar_ps(idx, table), scale));
    }
  }
#elif defined(MST_ISA_AVX2)
  {
    /* 4 bytes -> 8 values; the 16-entry lookup is two 8-entry ones, picked by the index's bit 3 */
    const __m256 lo = _mm256_loadu_ps(code), hi = _mm256_loadu_ps(code + 8), scale = _mm256_set1_ps(s);
    const __m256i shifts = _mm256_set_epi32(0, 4, 0, 4, 0, 4, 0, 4);
    const __m256i low4 = _mm256_set1_epi32(15);
    for (; t + 8 <= n; t += 8) {
      int32_t word;
      memcpy(&word, codes + ((i + t) >> 1), 4);
      __m128i bytes = _mm_cvtsi32_si128(word);
      __m256i x = _mm256_cvtepu8_epi32(_mm_unpacklo_epi8(bytes, bytes));
      __m256i idx = _mm256_and_si256(_mm256_srlv_epi32(x, shifts), low4);
      __m256 v = _mm256_blendv_ps(_mm256_permutevar8x32_ps(lo, idx), _mm256_permutevar8x32_ps(hi, idx),
                                  _mm256_castsi256_ps(_mm256_slli_epi32(idx, 28)));
      _mm256_storeu_ps(out + t, _mm256_mul_ps(v, scale));
    }
  }
#endif
  for (; t + 2 <= n; t += 2) {
    uint8_t byte = codes[(i + t) >> 1];
    out[t] = code[byte >> 4] * s;
    out[t + 1] = code[byte & 15] * s;
  }
  if (t < n) out[t] = code[codes[(i + t) >> 1] >> 4] * s;
}

/* Values i.. (n of them, flat row-major indices of the stored matrix) into out. */
static void packed_run(const struct packed_b *b, int64_t i, int n, float *out) {
  if (b->format == PACKED_BF16) {
    /* a local source pointer: through b->bits the compiler reloads it after every store and will not vectorise */
    const uint16_t *src = b->bits + i;
    for (int t = 0; t < n; t++) {
      uint32_t u = (uint32_t)src[t] << 16;
      memcpy(out + t, &u, 4);
    }
    return;
  }
  while (n > 0) {
    int64_t block = i / NF4_BLOCK;
    int len = (int)((block + 1) * NF4_BLOCK - i);
    if (len > n) len = n;
    nf4_segment(b, i, len, nf4_scale(b, block), out);
    i += len;
    out += len;
    n -= len;
  }
}

/* pack_b for a packed B: the same panels, each value dequantised on the way in. */
static void pack_b_packed(const product *p, int j0, int nc, int p0, int kc, float *dst) {
  const struct packed_b *b = p->packedB;
  float run[KC] __attribute__((aligned(64)));
  for (int jr = 0; jr < nc; jr += NR) {
    int cols = nc - jr < NR ? nc - jr : NR;
    if (!p->transB) {
      /* op(B)(k, j) = B[k][j]: a panel row is a run of the stored row */
      for (int k = 0; k < kc; k++) {
        packed_run(b, b->off + (int64_t)(p0 + k) * p->ldb + j0 + jr, cols, dst + k * NR);
        for (int j = cols; j < NR; j++) dst[k * NR + j] = 0.0f;
      }
    } else {
      /* op(B)(k, j) = B[j][k]: dequantise a stored row's run, then scatter it down the panel's column */
      for (int j = 0; j < cols; j++) {
        packed_run(b, b->off + (int64_t)(j0 + jr + j) * p->ldb + p0, kc, run);
        for (int k = 0; k < kc; k++) dst[k * NR + j] = run[k];
      }
      for (int j = cols; j < NR; j++)
        for (int k = 0; k < kc; k++) dst[k * NR + j] = 0.0f;
    }
    dst += (size_t)NR * kc;
  }
}

/*
 * mst_sgemm with B a frozen packed matrix (format 1: NF4, data = its codes, with absmax, or absmaxQ + scale2 + offset
 * + map, and code; format 2: bf16, data = its bits). op(B) starts at flat index bOff of the stored row-major matrix,
 * whose rows are ldb values apart. The result is that of mst_sgemm on the dequantised matrix, bit for bit. Returns 0,
 * -1 when a packing buffer could not be allocated, -2 for an unknown format.
 */
int mst_sgemm_packed(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda, int format,
                     const void *data, const float *absmax, const uint8_t *absmaxQ, const float *scale2, float offset,
                     const float *map, const float *code, int64_t bOff, int ldb, float beta, float *C, int ldc,
                     int threads) {
  if (format != PACKED_NF4 && format != PACKED_BF16) return -2;
  struct packed_b pk = {format, format == PACKED_NF4 ? (const uint8_t *)data : NULL, absmax, absmaxQ, scale2, offset,
                        map, code, format == PACKED_BF16 ? (const uint16_t *)data : NULL, bOff};
  product p = {transA, transB, M, N, K, alpha, beta, A, lda, NULL, ldb, C, ldc, &pk};
  return run_product(&p, threads);
}
