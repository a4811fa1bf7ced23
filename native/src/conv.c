/*
 * 2-D convolutions (NHWC data, HWIO filters, dilation 1) as GEMMs over im2col matrices:
 *
 *   forward          y[M, co]       = cols(x)[M, K] · W[K, co]
 *   input gradient   dx             = col2im(dy[M, co] · W[K, co]ᵀ)      (scatter-add)
 *   filter gradient  dW[K, co]      = cols(x)[M, K]ᵀ · dy[M, co]
 *
 * with M = n·oh·ow output pixels and K = kh·kw·c filter taps; row (img, oy, ox) of cols(x) holds
 * the input patch that output pixel reads, zeros where it falls in the padding. A filter row
 * (ky, kx, ci) of W is exactly HWIO's memory layout. The columns are built for a band of rows at a
 * time so that scratch memory stays a few MiB whatever the batch; a 1×1, stride-1, unpadded
 * convolution needs none (cols(x) is x itself).
 */
#include <math.h>
#include <string.h>

#include "kernels.h"

/* Floats of im2col columns per band: 4 MiB, about the size of L2 + L3 share on small CPUs. */
#define BAND_FLOATS (1L << 20)
#define MIN_BAND_ROWS 288

static long band_rows(const gs_conv *g, long k) {
  const long m = g->n * g->oh * g->ow;
  long rows = BAND_FLOATS / (k > 0 ? k : 1);
  if (rows < MIN_BAND_ROWS) rows = MIN_BAND_ROWS;
  return rows < m ? rows : m;
}

static int is_pointwise(const gs_conv *g) {
  return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->pt == 0 && g->pl == 0 && g->oh == g->h && g->ow == g->w;
}

/* Valid filter columns [*lo, *hi) for an output column whose patch starts at input column ix0. */
static void valid_taps(long ix0, long k, long size, long *lo, long *hi) {
  *lo = ix0 < 0 ? -ix0 : 0;
  *hi = size - ix0 < k ? size - ix0 : k;
  if (*hi < *lo) *hi = *lo;
}

/* Short runs (few channels) as plain loops: a libc call per run costs more than the copy. */
static inline void zero(float *dst, long count) {
  if (count >= 64) memset(dst, 0, (size_t)count * sizeof(float));
  else
    for (long i = 0; i < count; i++) dst[i] = 0.0f;
}

static inline void copy(float *restrict dst, const float *restrict src, long count) {
  if (count >= 64) memcpy(dst, src, (size_t)count * sizeof(float));
  else
    for (long i = 0; i < count; i++) dst[i] = src[i];
}

/* cols[r, :] for output pixels m0 … m0+rows−1. */
static void im2col(const gs_conv *g, const float *x, long m0, long rows, float *cols) {
  const long c = g->c, k = g->kh * g->kw * c;
  for (long r = 0; r < rows; r++) {
    const long m = m0 + r, ox = m % g->ow, oy = (m / g->ow) % g->oh, img = m / (g->ow * g->oh);
    const long iy0 = oy * g->sh - g->pt, ix0 = ox * g->sw - g->pl;
    float *dst = cols + r * k;
    long lo, hi;
    valid_taps(ix0, g->kw, g->w, &lo, &hi);
    for (long ky = 0; ky < g->kh; ky++, dst += g->kw * c) {
      const long iy = iy0 + ky;
      if (iy < 0 || iy >= g->h) {
        zero(dst, g->kw * c);
        continue;
      }
      // Taps lo … hi−1 read consecutive input pixels: one copy.
      zero(dst, lo * c);
      copy(dst + lo * c, x + ((img * g->h + iy) * g->w + ix0 + lo) * c, (hi - lo) * c);
      zero(dst + hi * c, (g->kw - hi) * c);
    }
  }
}

/* dx += the patches in cols, for output pixels m0 … m0+rows−1 (the transpose of im2col). */
static void col2im_add(const gs_conv *g, const float *cols, long m0, long rows, float *dx) {
  const long c = g->c, k = g->kh * g->kw * c;
  for (long r = 0; r < rows; r++) {
    const long m = m0 + r, ox = m % g->ow, oy = (m / g->ow) % g->oh, img = m / (g->ow * g->oh);
    const long iy0 = oy * g->sh - g->pt, ix0 = ox * g->sw - g->pl;
    long lo, hi;
    valid_taps(ix0, g->kw, g->w, &lo, &hi);
    const long run = (hi - lo) * c;
    for (long ky = 0; ky < g->kh; ky++) {
      const long iy = iy0 + ky;
      if (iy < 0 || iy >= g->h) continue;
      const float *src = cols + r * k + (ky * g->kw + lo) * c;
      float *dst = dx + ((img * g->h + iy) * g->w + ix0 + lo) * c;
      for (long i = 0; i < run; i++) dst[i] += src[i];
    }
  }
}

int gs_conv2d(gs_scratch *s, const gs_conv *g, const float *x, const float *filter, float *y) {
  const long m = g->n * g->oh * g->ow, k = g->kh * g->kw * g->c, co = g->co;
  if (is_pointwise(g)) return gs_sgemm(s, 0, 0, m, co, k, x, k, filter, co, y, co, 0);
  const long band = band_rows(g, k);
  if (m == 0 || gs_scratch_cols(s, (size_t)(band * k))) return m == 0 ? 0 : -1;
  for (long m0 = 0; m0 < m; m0 += band) {
    const long rows = band < m - m0 ? band : m - m0;
    im2col(g, x, m0, rows, s->cols);
    if (gs_sgemm(s, 0, 0, rows, co, k, s->cols, k, filter, co, y + m0 * co, co, 0)) return -1;
  }
  return 0;
}

int gs_conv2d_backprop_input(gs_scratch *s, const gs_conv *g, const float *dy, const float *filter, float *dx) {
  const long m = g->n * g->oh * g->ow, k = g->kh * g->kw * g->c, co = g->co;
  if (is_pointwise(g)) return gs_sgemm(s, 0, 1, m, k, co, dy, co, filter, co, dx, k, 0);
  memset(dx, 0, (size_t)(g->n * g->h * g->w * g->c) * sizeof(float));
  const long band = band_rows(g, k);
  if (m == 0 || gs_scratch_cols(s, (size_t)(band * k))) return m == 0 ? 0 : -1;
  for (long m0 = 0; m0 < m; m0 += band) {
    const long rows = band < m - m0 ? band : m - m0;
    if (gs_sgemm(s, 0, 1, rows, k, co, dy + m0 * co, co, filter, co, s->cols, k, 0)) return -1;
    col2im_add(g, s->cols, m0, rows, dx);
  }
  return 0;
}

int gs_conv2d_backprop_filter(gs_scratch *s, const gs_conv *g, const float *x, const float *dy, float *dfilter) {
  const long m = g->n * g->oh * g->ow, k = g->kh * g->kw * g->c, co = g->co;
  if (is_pointwise(g)) return gs_sgemm(s, 1, 0, k, co, m, x, k, dy, co, dfilter, co, 0);
  if (m == 0) return gs_sgemm(s, 1, 0, k, co, 0, x, k, dy, co, dfilter, co, 0);
  const long band = band_rows(g, k);
  if (gs_scratch_cols(s, (size_t)(band * k))) return -1;
  for (long m0 = 0; m0 < m; m0 += band) {
    const long rows = band < m - m0 ? band : m - m0;
    im2col(g, x, m0, rows, s->cols);
    if (gs_sgemm(s, 1, 0, k, co, rows, s->cols, k, dy + m0 * co, co, dfilter, co, m0 > 0)) return -1;
  }
  return 0;
}

void gs_bias_act(float *y, long rows, long cols, const float *bias, long nbias, int act, float alpha) {
  for (long r = 0; r < rows; r++) {
    float *row = y + r * cols;
    if (bias) {
      if (nbias == 1)
        for (long j = 0; j < cols; j++) row[j] += bias[0];
      else
        for (long j = 0; j < cols; j++) row[j] += bias[j];
    }
    switch (act) {
      case GS_ACT_RELU:
        for (long j = 0; j < cols; j++) row[j] = row[j] > 0.0f ? row[j] : 0.0f;
        break;
      case GS_ACT_RELU6:
        for (long j = 0; j < cols; j++) row[j] = row[j] > 0.0f ? (row[j] < 6.0f ? row[j] : 6.0f) : 0.0f;
        break;
      case GS_ACT_LEAKYRELU:
        for (long j = 0; j < cols; j++) row[j] = row[j] < 0.0f ? alpha * row[j] : row[j];
        break;
      case GS_ACT_SIGMOID:
        for (long j = 0; j < cols; j++) row[j] = 1.0f / (1.0f + expf(-row[j]));
        break;
      case GS_ACT_ELU:
        for (long j = 0; j < cols; j++) row[j] = row[j] > 0.0f ? row[j] : expf(row[j]) - 1.0f;
        break;
      default:
        break;
    }
  }
}
