/*
 * Element-wise kernels of the training engine (src/main/trainer/nn/kernels.ts), in C for the wasm
 * backend: activation gradients, bias + activation, the per-pixel channel norm and its backward,
 * and per-channel sums. The same maths as the JavaScript loops, in the same order of rows, with
 * double accumulators where those use them; plain loops the compiler vectorises.
 */
#include <math.h>

#include "kernels.h"

static inline float act_one(float v, int act, float alpha) {
  switch (act) {
    case GS_EW_RELU: return v < 0.f ? 0.f : v;
    case GS_EW_LEAKYRELU: return v < 0.f ? v * alpha : v;
    case GS_EW_TANH: return tanhf(v);
    case GS_EW_SIGMOID: return 1.f / (1.f + expf(-v));
    default: return v;
  }
}

void gs_ew_act_grad(const float *dy, const float *y, float *dx, long n, int act, float alpha) {
  switch (act) {
    case GS_EW_RELU:
      for (long i = 0; i < n; i++) dx[i] = y[i] > 0.f ? dy[i] : 0.f;
      break;
    case GS_EW_LEAKYRELU:
      for (long i = 0; i < n; i++) dx[i] = y[i] > 0.f ? dy[i] : dy[i] * alpha;
      break;
    case GS_EW_TANH:
      for (long i = 0; i < n; i++) dx[i] = dy[i] * (1.f - y[i] * y[i]);
      break;
    case GS_EW_SIGMOID:
      for (long i = 0; i < n; i++) dx[i] = dy[i] * y[i] * (1.f - y[i]);
      break;
    default:
      for (long i = 0; i < n; i++) dx[i] = dy[i];
  }
}

void gs_ew_bias_act(const float *x, const float *bias, float *y, long rows, long c, int act, float alpha) {
  for (long r = 0; r < rows; r++) {
    const float *xr = x + r * c;
    float *yr = y + r * c;
    for (long k = 0; k < c; k++) yr[k] = xr[k] + bias[k];
  }
  const long n = rows * c;
  switch (act) {
    case GS_EW_RELU:
      for (long i = 0; i < n; i++) y[i] = y[i] < 0.f ? 0.f : y[i];
      break;
    case GS_EW_LEAKYRELU:
      for (long i = 0; i < n; i++) y[i] = y[i] < 0.f ? y[i] * alpha : y[i];
      break;
    case GS_EW_LINEAR:
      break;
    default:
      for (long i = 0; i < n; i++) y[i] = act_one(y[i], act, alpha);
  }
}

void gs_ew_channel_sum(const float *x, const float *w, float *out, long rows, long c, long per_sample, double *acc) {
  for (long k = 0; k < c; k++) acc[k] = 0.0;
  for (long r = 0; r < rows; r++) {
    const double scale = w ? (double)w[r / per_sample] : 1.0;
    if (scale == 0.0) continue;
    const float *xr = x + r * c;
    if (scale == 1.0)
      for (long k = 0; k < c; k++) acc[k] += xr[k];
    else
      for (long k = 0; k < c; k++) acc[k] += (double)xr[k] * scale;
  }
  for (long k = 0; k < c; k++) out[k] = (float)acc[k];
}

void gs_ew_channel_norm(const float *x, const float *gamma, const float *beta, float *y, float *xhat, float *rstd, long rows, long c, double eps) {
  for (long r = 0; r < rows; r++) {
    const float *xr = x + r * c;
    double mean = 0.0;
    for (long k = 0; k < c; k++) mean += xr[k];
    mean /= (double)c;
    double v = 0.0;
    for (long k = 0; k < c; k++) {
      const double d = xr[k] - mean;
      v += d * d;
    }
    const double rs = 1.0 / sqrt(v / (double)c + eps);
    rstd[r] = (float)rs;
    float *hr = xhat + r * c;
    float *yr = y + r * c;
    for (long k = 0; k < c; k++) {
      const float h = (float)((xr[k] - mean) * rs);
      hr[k] = h;
      yr[k] = h * gamma[k] + beta[k];
    }
  }
}

void gs_ew_channel_norm_grad(const float *dy, const float *xhat, const float *rstd, const float *gamma, const float *w, float *dx, float *dgamma, float *dbeta,
                             long rows, long c, long per_sample, double *acc) {
  double *dg = acc, *db = acc + c;
  for (long k = 0; k < c; k++) dg[k] = db[k] = 0.0;
  for (long r = 0; r < rows; r++) {
    const float *dyr = dy + r * c, *hr = xhat + r * c;
    double mg = 0.0, mgx = 0.0;
    for (long k = 0; k < c; k++) {
      const double g = (double)(dyr[k] * gamma[k]);
      mg += g;
      mgx += g * hr[k];
    }
    mg /= (double)c;
    mgx /= (double)c;
    const double rs = rstd[r];
    float *dxr = dx + r * c;
    for (long k = 0; k < c; k++) {
      const double g = (double)(dyr[k] * gamma[k]);
      dxr[k] = (float)(rs * (g - mg - hr[k] * mgx));
    }
    const double s = w ? (double)w[r / per_sample] : 1.0;
    if (s == 0.0) continue;
    for (long k = 0; k < c; k++) {
      const double d = (double)dyr[k] * s;
      dg[k] += d * hr[k];
      db[k] += d;
    }
  }
  for (long k = 0; k < c; k++) {
    dgamma[k] = (float)dg[k];
    dbeta[k] = (float)db[k];
  }
}

void gs_ew_glu(const float *x, float *y, float *gate, long rows, long c) {
  for (long r = 0; r < rows; r++) {
    const float *a = x + r * 2 * c, *b = a + c;
    float *yr = y + r * c, *gr = gate + r * c;
    for (long k = 0; k < c; k++) {
      const float s = 1.f / (1.f + expf(-b[k]));
      gr[k] = s;
      yr[k] = a[k] * s;
    }
  }
}

void gs_ew_glu_grad(const float *dy, const float *x, const float *gate, float *dx, long rows, long c) {
  for (long r = 0; r < rows; r++) {
    const float *g = dy + r * c, *s = gate + r * c, *a = x + r * 2 * c;
    float *da = dx + r * 2 * c, *db = da + c;
    for (long k = 0; k < c; k++) {
      da[k] = g[k] * s[k];
      db[k] = g[k] * a[k] * s[k] * (1.f - s[k]);
    }
  }
}
