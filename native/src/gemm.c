/*
 * Packed single-precision GEMM in the style of BLIS/GotoBLAS: C is computed in MR×NR tiles by a
 * register-blocked micro-kernel that reads A and B from packed panels sized for the caches.
 *
 *   for jc over n in NC columns:            B block (KC×NC) lives in L3/L2
 *     for pc over k in KC steps:              pack B[pc:pc+KC, jc:jc+NC] into NR-wide panels
 *       for ic over m in MC rows:               pack A[ic:ic+MC, pc:pc+KC] into MR-tall panels (L2)
 *         for jr, ir: micro-kernel on one MR×NR tile of C, KC multiply-adds deep (B panel in L1)
 *
 * Two micro-kernels share the packed format (MR = 6, NR = 16): one with AVX2/FMA intrinsics
 * (12 accumulator registers of 8 floats), chosen at run time when the CPU has both, and a
 * portable one written with GCC/clang vector extensions (4-wide: SSE2 on x86, NEON on arm64).
 * The summation order depends only on the shape, so results are deterministic.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#define GS_X86 1
#include <immintrin.h>
#endif

#define MR 6
#define NR 16
#define MC 144 /* multiple of MR: an A block of MC×KC floats is 144 KiB, for L2 */
#define KC 256 /* one B micro-panel, KC×NR floats, is 16 KiB: half of L1 */
#define NC 3072

#define MIN(a, b) ((a) < (b) ? (a) : (b))

/* ── Scratch memory ─────────────────────────────────────────────────────────────────────── */

static void *aligned_alloc64(size_t bytes) {
#if defined(_WIN32)
  return _aligned_malloc(bytes, 64);
#else
  void *p = NULL;
  return posix_memalign(&p, 64, bytes) == 0 ? p : NULL;
#endif
}

static void aligned_free(void *p) {
#if defined(_WIN32)
  _aligned_free(p);
#else
  free(p);
#endif
}

/* Makes *buf hold at least `floats` floats (contents not kept). 0 on success. */
static int ensure(float **buf, size_t *cap, size_t floats) {
  if (*cap >= floats) return 0;
  aligned_free(*buf);
  *buf = aligned_alloc64(floats * sizeof(float));
  *cap = *buf ? floats : 0;
  return *buf ? 0 : -1;
}

int gs_scratch_cols(gs_scratch *s, size_t floats) { return ensure(&s->cols, &s->cap_cols, floats); }

void gs_scratch_free(gs_scratch *s) {
  aligned_free(s->pack_a);
  aligned_free(s->pack_b);
  aligned_free(s->cols);
  free(s->acc);
  memset(s, 0, sizeof(*s));
}

int gs_scratch_acc(gs_scratch *s, size_t count) {
  if (count <= s->cap_acc) return 0;
  double *p = realloc(s->acc, count * sizeof(double));
  if (!p) return -1;
  s->acc = p;
  s->cap_acc = count;
  return 0;
}

/* ── Instruction-set choice ─────────────────────────────────────────────────────────────── */

static int force_portable = 0;

#ifdef GS_X86
static int cpu_has_avx2_fma(void) {
  static int known = -1; /* written once with the same value by whichever thread comes first */
  int v = __atomic_load_n(&known, __ATOMIC_RELAXED);
  if (v < 0) {
    __builtin_cpu_init();
    v = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    __atomic_store_n(&known, v, __ATOMIC_RELAXED);
  }
  return v;
}
#endif

static int use_avx2(void) {
#ifdef GS_X86
  return !__atomic_load_n(&force_portable, __ATOMIC_RELAXED) && cpu_has_avx2_fma();
#else
  return 0;
#endif
}

const char *gs_isa(void) { return use_avx2() ? "AVX2/FMA" : "portable"; }

int gs_force_portable(int on) { return __atomic_exchange_n(&force_portable, on ? 1 : 0, __ATOMIC_RELAXED); }

/* ── Micro-kernels: c[MR×NR] (= or +=) Σ_p a[p·MR + i] · b[p·NR + j] ────────────────────── */

#ifdef GS_X86
__attribute__((target("avx2,fma"))) static void ukernel_avx2(long kc, const float *restrict a, const float *restrict b, float *restrict c,
                                                             long ldc, int acc) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
#pragma GCC unroll 4
  for (long p = 0; p < kc; p++) {
    const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
    __m256 ar;
    ar = _mm256_broadcast_ss(a + 0);
    c00 = _mm256_fmadd_ps(ar, b0, c00), c01 = _mm256_fmadd_ps(ar, b1, c01);
    ar = _mm256_broadcast_ss(a + 1);
    c10 = _mm256_fmadd_ps(ar, b0, c10), c11 = _mm256_fmadd_ps(ar, b1, c11);
    ar = _mm256_broadcast_ss(a + 2);
    c20 = _mm256_fmadd_ps(ar, b0, c20), c21 = _mm256_fmadd_ps(ar, b1, c21);
    ar = _mm256_broadcast_ss(a + 3);
    c30 = _mm256_fmadd_ps(ar, b0, c30), c31 = _mm256_fmadd_ps(ar, b1, c31);
    ar = _mm256_broadcast_ss(a + 4);
    c40 = _mm256_fmadd_ps(ar, b0, c40), c41 = _mm256_fmadd_ps(ar, b1, c41);
    ar = _mm256_broadcast_ss(a + 5);
    c50 = _mm256_fmadd_ps(ar, b0, c50), c51 = _mm256_fmadd_ps(ar, b1, c51);
    a += MR;
    b += NR;
  }
#define GS_STORE(row, lo, hi)                                                                   \
  do {                                                                                          \
    float *r_ = c + (row) * ldc;                                                                \
    if (acc) lo = _mm256_add_ps(lo, _mm256_loadu_ps(r_)), hi = _mm256_add_ps(hi, _mm256_loadu_ps(r_ + 8)); \
    _mm256_storeu_ps(r_, lo);                                                                   \
    _mm256_storeu_ps(r_ + 8, hi);                                                               \
  } while (0)
  GS_STORE(0, c00, c01);
  GS_STORE(1, c10, c11);
  GS_STORE(2, c20, c21);
  GS_STORE(3, c30, c31);
  GS_STORE(4, c40, c41);
  GS_STORE(5, c50, c51);
#undef GS_STORE
}
#endif

typedef float v4f __attribute__((vector_size(16)));

static inline v4f load4(const float *p) {
  v4f v;
  memcpy(&v, p, sizeof(v));
  return v;
}

static inline void store4(float *p, v4f v) { memcpy(p, &v, sizeof(v)); }

static void ukernel_portable(long kc, const float *restrict a, const float *restrict b, float *restrict c, long ldc, int acc) {
  v4f t[MR][NR / 4];
  memset(t, 0, sizeof(t));
  for (long p = 0; p < kc; p++) {
    const v4f b0 = load4(b), b1 = load4(b + 4), b2 = load4(b + 8), b3 = load4(b + 12);
    for (int i = 0; i < MR; i++) {
      const v4f ai = {a[i], a[i], a[i], a[i]};
      t[i][0] += ai * b0;
      t[i][1] += ai * b1;
      t[i][2] += ai * b2;
      t[i][3] += ai * b3;
    }
    a += MR;
    b += NR;
  }
  for (int i = 0; i < MR; i++)
    for (int j = 0; j < NR / 4; j++) {
      float *r = c + i * ldc + 4 * j;
      store4(r, acc ? t[i][j] + load4(r) : t[i][j]);
    }
}

typedef void (*ukernel_fn)(long, const float *, const float *, float *, long, int);

/* ── Packing ────────────────────────────────────────────────────────────────────────────── */

/*
 * op(A)[i0:i0+mc, p0:p0+kc] → MR-row panels, each [kc][MR], rows past the edge zero. Both loops
 * read A along its rows: reading down a column instead (a stride of thousands of floats) would
 * map every line to the same few cache sets.
 */
static void pack_a(int trans, const float *a, long lda, long i0, long p0, long mc, long kc, float *out) {
  if (!trans) {
    for (long ir = 0; ir < mc; ir += MR, out += MR * kc) {
      const long mr = MIN(MR, mc - ir);
      for (long i = 0; i < mr; i++) {
        const float *src = a + (i0 + ir + i) * lda + p0;
        for (long p = 0; p < kc; p++) out[p * MR + i] = src[p];
      }
      for (long i = mr; i < MR; i++)
        for (long p = 0; p < kc; p++) out[p * MR + i] = 0.0f;
    }
    return;
  }
  // Aᵀ: row p0+p of the stored A holds op(A)'s column; spread it over the panels.
  const long full = mc / MR * MR;
  for (long p = 0; p < kc; p++) {
    const float *src = a + (p0 + p) * lda + i0;
    float *dst = out + p * MR;
    long ir = 0;
    for (; ir < full; ir += MR, dst += MR * kc)
      for (long i = 0; i < MR; i++) dst[i] = src[ir + i];
    if (ir < mc) {
      long i = 0;
      for (; ir + i < mc; i++) dst[i] = src[ir + i];
      for (; i < MR; i++) dst[i] = 0.0f;
    }
  }
}

/* op(B)[p0:p0+kc, j0:j0+nc] → NR-column panels, each [kc][NR], columns past the edge zero (rows read along, as pack_a). */
static void pack_b(int trans, const float *b, long ldb, long p0, long j0, long kc, long nc, float *out) {
  if (trans) {
    for (long jr = 0; jr < nc; jr += NR, out += NR * kc) {
      const long nr = MIN(NR, nc - jr);
      for (long j = 0; j < nr; j++) {
        const float *src = b + (j0 + jr + j) * ldb + p0;
        for (long p = 0; p < kc; p++) out[p * NR + j] = src[p];
      }
      for (long j = nr; j < NR; j++)
        for (long p = 0; p < kc; p++) out[p * NR + j] = 0.0f;
    }
    return;
  }
  const long full = nc / NR * NR;
  for (long p = 0; p < kc; p++) {
    const float *src = b + (p0 + p) * ldb + j0;
    float *dst = out + p * NR;
    long jr = 0;
    for (; jr < full; jr += NR, dst += NR * kc) memcpy(dst, src + jr, NR * sizeof(float));
    if (jr < nc) {
      long j = 0;
      for (; jr + j < nc; j++) dst[j] = src[jr + j];
      for (; j < NR; j++) dst[j] = 0.0f;
    }
  }
}

/* ── The blocked product ────────────────────────────────────────────────────────────────── */

int gs_sgemm(gs_scratch *s, int trans_a, int trans_b, long m, long n, long k, const float *a, long lda, const float *b, long ldb,
             float *c, long ldc, int accumulate) {
  if (m <= 0 || n <= 0) return 0;
  if (k <= 0) {
    if (!accumulate)
      for (long i = 0; i < m; i++) memset(c + i * ldc, 0, (size_t)n * sizeof(float));
    return 0;
  }
  const long kc_max = MIN(KC, k);
  const long nc_max = MIN(NC, (n + NR - 1) / NR * NR);
  const long mc_max = MIN(MC, (m + MR - 1) / MR * MR);
  if (ensure(&s->pack_a, &s->cap_a, (size_t)(mc_max * kc_max)) || ensure(&s->pack_b, &s->cap_b, (size_t)(nc_max * kc_max))) return -1;
  const ukernel_fn kernel =
#ifdef GS_X86
      use_avx2() ? ukernel_avx2 :
#endif
                 ukernel_portable;
  float edge[MR * NR] __attribute__((aligned(64)));

  for (long jc = 0; jc < n; jc += NC) {
    const long nc = MIN(NC, n - jc);
    for (long pc = 0; pc < k; pc += KC) {
      const long kc = MIN(KC, k - pc);
      const int acc = accumulate || pc > 0;
      pack_b(trans_b, b, ldb, pc, jc, kc, nc, s->pack_b);
      for (long ic = 0; ic < m; ic += MC) {
        const long mc = MIN(MC, m - ic);
        pack_a(trans_a, a, lda, ic, pc, mc, kc, s->pack_a);
        for (long jr = 0; jr < nc; jr += NR) {
          const long nr = MIN(NR, nc - jr);
          const float *pb = s->pack_b + jr * kc;
          for (long ir = 0; ir < mc; ir += MR) {
            const long mr = MIN(MR, mc - ir);
            const float *pa = s->pack_a + ir * kc;
            float *ct = c + (ic + ir) * ldc + jc + jr;
            if (mr == MR && nr == NR) {
              kernel(kc, pa, pb, ct, ldc, acc);
            } else {
              kernel(kc, pa, pb, edge, NR, 0);
              for (long i = 0; i < mr; i++)
                for (long j = 0; j < nr; j++) ct[i * ldc + j] = acc ? ct[i * ldc + j] + edge[i * NR + j] : edge[i * NR + j];
            }
          }
        }
      }
    }
  }
  return 0;
}
