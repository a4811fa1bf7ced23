/*
 * GAN Studio native CPU kernels: a packed single-precision GEMM and the three 2-D convolutions
 * built on it (forward, input gradient, filter gradient), all NHWC with HWIO filters.
 *
 * Every routine is single-threaded and deterministic: the trainer runs one worker thread per
 * core, and a given shape always sums in the same order. Scratch memory (packed panels, im2col
 * columns) lives in a gs_scratch owned by the caller: one per Node environment (thread).
 */
#ifndef GS_KERNELS_H
#define GS_KERNELS_H

#include <stddef.h>

typedef struct {
  float *pack_a;
  size_t cap_a;
  float *pack_b;
  size_t cap_b;
  float *cols;
  size_t cap_cols;
  double *acc; /* the element-wise reductions' accumulators */
  size_t cap_acc;
} gs_scratch;

/* Frees the scratch buffers (the struct itself stays the caller's). */
void gs_scratch_free(gs_scratch *s);
/* Makes s->cols hold at least `floats` floats; 0 on success, -1 when out of memory. */
int gs_scratch_cols(gs_scratch *s, size_t floats);
/* Makes s->acc hold at least `count` doubles; 0 on success, -1 when out of memory. */
int gs_scratch_acc(gs_scratch *s, size_t count);

/* "AVX2/FMA" or "portable" (GCC/clang vector extensions: SSE2 on x86, NEON on arm64). */
const char *gs_isa(void);

/* Forces the portable micro-kernel (tests compare the two); returns the previous setting. */
int gs_force_portable(int on);

/*
 * C[m×n] (row stride ldc) = op(A)[m×k] · op(B)[k×n], plus C's old contents when `accumulate`.
 * op(A) = A (row-major m×k, stride lda) or, with trans_a, Aᵀ of a row-major k×m A; op(B) alike.
 * Returns 0, or -1 when scratch memory could not be allocated (C is then unspecified).
 */
int gs_sgemm(gs_scratch *s, int trans_a, int trans_b, long m, long n, long k, const float *a, long lda, const float *b, long ldb,
             float *c, long ldc, int accumulate);

/* Geometry of a 2-D convolution: x [n,h,w,c], filter [kh,kw,c,co], y [n,oh,ow,co]. */
typedef struct {
  long n, h, w, c;
  long kh, kw, co;
  long oh, ow;
  long sh, sw;
  long pt, pl; /* padding before the first row / column; the rest is implied by oh, ow */
} gs_conv;

/* Activations applied after the bias (tfjs' fused-conv names). */
enum { GS_ACT_LINEAR = 0, GS_ACT_RELU = 1, GS_ACT_RELU6 = 2, GS_ACT_LEAKYRELU = 3, GS_ACT_SIGMOID = 4, GS_ACT_ELU = 5 };

/* y = conv(x, filter). */
int gs_conv2d(gs_scratch *s, const gs_conv *g, const float *x, const float *filter, float *y);
/* dx [n,h,w,c] from dy [n,oh,ow,co]: the transposed convolution. */
int gs_conv2d_backprop_input(gs_scratch *s, const gs_conv *g, const float *dy, const float *filter, float *dx);
/* dfilter [kh,kw,c,co] from x and dy. */
int gs_conv2d_backprop_filter(gs_scratch *s, const gs_conv *g, const float *x, const float *dy, float *dfilter);
/* y[r, j] = act(y[r, j] + bias[j]) over `rows` rows of `cols` (bias may be NULL; nbias 1 broadcasts). */
void gs_bias_act(float *y, long rows, long cols, const float *bias, long nbias, int act, float alpha);

/* Element-wise kernels (elementwise.c); activation codes of their own: */
enum { GS_EW_LINEAR = 0, GS_EW_RELU = 1, GS_EW_LEAKYRELU = 2, GS_EW_TANH = 3, GS_EW_SIGMOID = 4 };
/* dx = dy · act'(x), from the activation's output y. */
void gs_ew_act_grad(const float *dy, const float *y, float *dx, long n, int act, float alpha);
/* y[r, k] = act(x[r, k] + bias[k]). */
void gs_ew_bias_act(const float *x, const float *bias, float *y, long rows, long c, int act, float alpha);
/* out[k] = Σ_r x[r, k] · (w ? w[r / per_sample] : 1); acc: c doubles of scratch. */
void gs_ew_channel_sum(const float *x, const float *w, float *out, long rows, long c, long per_sample, double *acc);
/* Per-row norm over the last axis: y = x̂ · γ + β, with x̂ and 1/σ kept for the backward. */
void gs_ew_channel_norm(const float *x, const float *gamma, const float *beta, float *y, float *xhat, float *rstd, long rows, long c, double eps);
/* Gated linear unit over the last axis: x [rows, 2c] = [a | b] → y = a·σ(b), gate = σ(b) [rows, c]. */
void gs_ew_glu(const float *x, float *y, float *gate, long rows, long c);
/* Its backward: dx [rows, 2c] = [dy·σ | dy·a·σ(1−σ)]. */
void gs_ew_glu_grad(const float *dy, const float *x, const float *gate, float *dx, long rows, long c);
/* Its backward: dx, and dγ, dβ summed over rows (sample-weighted when w); acc: 2c doubles. */
void gs_ew_channel_norm_grad(const float *dy, const float *xhat, const float *rstd, const float *gamma, const float *w, float *dx, float *dgamma, float *dbeta,
                             long rows, long c, long per_sample, double *acc);

#endif
