/*
 * N-API binding of the native CPU kernels (kernels.h) for the wasm backend's convolution and
 * matmul kernels. Tensors arrive as Float32Arrays that view the wasm heap, so nothing is copied:
 * the kernels read and write the backend's own memory. Geometry comes as one Int32Array.
 *
 * Plain node_api.h (ABI-stable), so one build loads in Node and in Electron; context-aware, so
 * every worker thread that loads it gets its own scratch memory (instance data), freed when that
 * thread's environment ends. Every length is checked against the geometry before any kernel
 * runs: a mistake on the JavaScript side throws instead of writing past a tensor.
 */
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>

#include "kernels.h"

#define CHECK(env, call)                                  \
  do {                                                    \
    if ((call) != napi_ok) {                              \
      napi_throw_error((env), NULL, "native kernels: " #call " failed"); \
      return NULL;                                        \
    }                                                     \
  } while (0)

static void free_scratch(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  gs_scratch_free((gs_scratch *)data);
  free(data);
}

static gs_scratch *scratch(napi_env env) {
  void *data = NULL;
  if (napi_get_instance_data(env, &data) != napi_ok) return NULL;
  return (gs_scratch *)data;
}

/* A Float32Array argument's data, and its length in floats; NULL (with an exception) otherwise. */
static float *f32(napi_env env, napi_value v, size_t need, const char *what) {
  bool is_typed = false;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed) {
    napi_throw_type_error(env, NULL, what);
    return NULL;
  }
  napi_typedarray_type type;
  size_t length = 0;
  void *data = NULL;
  if (napi_get_typedarray_info(env, v, &type, &length, &data, NULL, NULL) != napi_ok || type != napi_float32_array) {
    napi_throw_type_error(env, NULL, what);
    return NULL;
  }
  if (length < need) {
    napi_throw_range_error(env, NULL, what);
    return NULL;
  }
  return (float *)data;
}

/* An Int32Array argument with at least `count` entries. */
static const int32_t *i32(napi_env env, napi_value v, size_t count) {
  bool is_typed = false;
  napi_typedarray_type type;
  size_t length = 0;
  void *data = NULL;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, v, &type, &length, &data, NULL, NULL) != napi_ok || type != napi_int32_array || length < count) {
    napi_throw_type_error(env, NULL, "native kernels: geometry must be an Int32Array");
    return NULL;
  }
  return (const int32_t *)data;
}

static napi_value out_of_memory(napi_env env) {
  napi_throw_error(env, NULL, "native kernels: out of memory for scratch buffers");
  return NULL;
}

/* isa() → "AVX2/FMA" | "portable" */
static napi_value Isa(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  CHECK(env, napi_create_string_utf8(env, gs_isa(), NAPI_AUTO_LENGTH, &out));
  return out;
}

/* forcePortable(on) → the previous setting (tests run the portable micro-kernel on x86 too). */
static napi_value ForcePortable(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  bool on = false;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_value_bool(env, argv[0], &on) != napi_ok) {
    napi_throw_type_error(env, NULL, "forcePortable(on: boolean)");
    return NULL;
  }
  napi_value out;
  CHECK(env, napi_get_boolean(env, gs_force_portable(on), &out));
  return out;
}

/*
 * matmul(a, b, c, geom) with geom = [batch, m, n, k, transA, transB, aBatched, bBatched]:
 * for each batch index, c[i] = op(a[i or 0]) · op(b[i or 0]); a is [m,k] (or [k,m] with transA),
 * b is [k,n] (or [n,k] with transB), c is [m,n].
 */
static napi_value Matmul(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4) {
    napi_throw_type_error(env, NULL, "matmul(a, b, c, geometry)");
    return NULL;
  }
  const int32_t *g = i32(env, argv[3], 8);
  if (!g) return NULL;
  const long batch = g[0], m = g[1], n = g[2], k = g[3];
  const int ta = g[4] != 0, tb = g[5] != 0, a_batched = g[6] != 0, b_batched = g[7] != 0;
  if (batch < 0 || m < 0 || n < 0 || k < 0) {
    napi_throw_range_error(env, NULL, "matmul: negative size");
    return NULL;
  }
  const size_t as = (size_t)(m * k), bs = (size_t)(k * n), cs = (size_t)(m * n);
  const float *a = f32(env, argv[0], a_batched ? as * batch : as, "matmul: a must be a Float32Array of the given size");
  if (!a) return NULL;
  const float *b = f32(env, argv[1], b_batched ? bs * batch : bs, "matmul: b must be a Float32Array of the given size");
  if (!b) return NULL;
  float *c = f32(env, argv[2], cs * batch, "matmul: c must be a Float32Array of the given size");
  if (!c) return NULL;
  gs_scratch *s = scratch(env);
  for (long i = 0; i < batch; i++) {
    if (gs_sgemm(s, ta, tb, m, n, k, a + (a_batched ? i * as : 0), ta ? m : k, b + (b_batched ? i * bs : 0), tb ? k : n, c + i * cs, n, 0))
      return out_of_memory(env);
  }
  return NULL;
}

/* geom = [n, h, w, c, kh, kw, co, oh, ow, sh, sw, pt, pl] → gs_conv, checked. */
static int conv_geometry(napi_env env, napi_value v, gs_conv *g) {
  const int32_t *a = i32(env, v, 13);
  if (!a) return -1;
  for (int i = 0; i < 13; i++)
    if (a[i] < 0) {
      napi_throw_range_error(env, NULL, "conv: negative size in the geometry");
      return -1;
    }
  *g = (gs_conv){a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12]};
  if (g->sh < 1 || g->sw < 1 || g->kh < 1 || g->kw < 1) {
    napi_throw_range_error(env, NULL, "conv: strides and filter sizes must be at least 1");
    return -1;
  }
  return 0;
}

enum { FORWARD, INPUT_GRAD, FILTER_GRAD };

/* Shared argument handling of the three convolutions: (first, second, out, geometry). */
static napi_value conv_call(napi_env env, napi_callback_info info, int which) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4) {
    napi_throw_type_error(env, NULL, "conv(first, second, out, geometry, …)");
    return NULL;
  }
  gs_conv g;
  if (conv_geometry(env, argv[3], &g)) return NULL;
  const size_t xs = (size_t)(g.n * g.h * g.w * g.c), ys = (size_t)(g.n * g.oh * g.ow * g.co), fs = (size_t)(g.kh * g.kw * g.c * g.co);
  gs_scratch *s = scratch(env);
  int rc = 0;
  if (which == FORWARD) {
    const float *x = f32(env, argv[0], xs, "conv2d: x must be a Float32Array of the given size");
    const float *w = x ? f32(env, argv[1], fs, "conv2d: filter must be a Float32Array of the given size") : NULL;
    float *y = w ? f32(env, argv[2], ys, "conv2d: y must be a Float32Array of the given size") : NULL;
    if (!y) return NULL;
    // Optional epilogue: bias (Float32Array of co or 1 values, or null), activation code, alpha.
    const float *bias = NULL;
    size_t nbias = 0;
    int32_t act = GS_ACT_LINEAR;
    double alpha = 0.2;
    if (argc >= 5) {
      napi_valuetype t;
      CHECK(env, napi_typeof(env, argv[4], &t));
      if (t != napi_null && t != napi_undefined) {
        if (!(bias = f32(env, argv[4], 1, "conv2d: bias must be a Float32Array"))) return NULL;
        CHECK(env, napi_get_typedarray_info(env, argv[4], NULL, &nbias, NULL, NULL, NULL));
        if (nbias != 1 && nbias != (size_t)g.co) {
          napi_throw_range_error(env, NULL, "conv2d: bias must have 1 or out-channels values");
          return NULL;
        }
      }
    }
    if (argc >= 6) CHECK(env, napi_get_value_int32(env, argv[5], &act));
    if (argc >= 7) CHECK(env, napi_get_value_double(env, argv[6], &alpha));
    rc = gs_conv2d(s, &g, x, w, y);
    if (!rc && (bias || act != GS_ACT_LINEAR)) gs_bias_act(y, g.n * g.oh * g.ow, g.co, bias, (long)nbias, act, (float)alpha);
  } else if (which == INPUT_GRAD) {
    const float *dy = f32(env, argv[0], ys, "conv2dBackpropInput: dy must be a Float32Array of the given size");
    const float *w = dy ? f32(env, argv[1], fs, "conv2dBackpropInput: filter must be a Float32Array of the given size") : NULL;
    float *dx = w ? f32(env, argv[2], xs, "conv2dBackpropInput: dx must be a Float32Array of the given size") : NULL;
    if (!dx) return NULL;
    rc = gs_conv2d_backprop_input(s, &g, dy, w, dx);
  } else {
    const float *x = f32(env, argv[0], xs, "conv2dBackpropFilter: x must be a Float32Array of the given size");
    const float *dy = x ? f32(env, argv[1], ys, "conv2dBackpropFilter: dy must be a Float32Array of the given size") : NULL;
    float *dw = dy ? f32(env, argv[2], fs, "conv2dBackpropFilter: dfilter must be a Float32Array of the given size") : NULL;
    if (!dw) return NULL;
    rc = gs_conv2d_backprop_filter(s, &g, x, dy, dw);
  }
  return rc ? out_of_memory(env) : NULL;
}

/* conv2d(x, filter, y, geom, bias?, act?, alpha?) */
static napi_value Conv2d(napi_env env, napi_callback_info info) { return conv_call(env, info, FORWARD); }
/* conv2dBackpropInput(dy, filter, dx, geom) */
static napi_value Conv2dBackpropInput(napi_env env, napi_callback_info info) { return conv_call(env, info, INPUT_GRAD); }
/* conv2dBackpropFilter(x, dy, dfilter, geom) */
static napi_value Conv2dBackpropFilter(napi_env env, napi_callback_info info) { return conv_call(env, info, FILTER_GRAD); }

/* ── Element-wise kernels ─────────────────────────────────────────────────────────────────── */

/* A Float32Array argument (any length), or NULL with an exception; its length in *len. */
static float *f32any(napi_env env, napi_value v, size_t *len, const char *what) {
  bool is_typed = false;
  napi_typedarray_type type;
  void *data = NULL;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed || napi_get_typedarray_info(env, v, &type, len, &data, NULL, NULL) != napi_ok ||
      type != napi_float32_array) {
    napi_throw_type_error(env, NULL, what);
    return NULL;
  }
  return (float *)data;
}

/* A Float32Array or null/undefined (then *out stays NULL); false with an exception otherwise. */
static bool f32opt(napi_env env, napi_value v, float **out, size_t *len, const char *what) {
  napi_valuetype t;
  *out = NULL;
  *len = 0;
  if (napi_typeof(env, v, &t) != napi_ok) return false;
  if (t == napi_null || t == napi_undefined) return true;
  *out = f32any(env, v, len, what);
  return *out != NULL;
}

static bool num(napi_env env, napi_value v, double *out, const char *what) {
  if (napi_get_value_double(env, v, out) != napi_ok) {
    napi_throw_type_error(env, NULL, what);
    return false;
  }
  return true;
}

static napi_value range_error(napi_env env, const char *what) {
  napi_throw_range_error(env, NULL, what);
  return NULL;
}

/* The element-wise kernels' first `n` arguments into argv; false (a RangeError naming the usage thrown) when there are fewer. */
static bool ew_args(napi_env env, napi_callback_info info, napi_value *argv, size_t n, const char *usage) {
  size_t argc = n;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
    napi_throw_error(env, NULL, "native kernels: napi_get_cb_info failed");
    return false;
  }
  if (argc < n) {
    range_error(env, usage);
    return false;
  }
  return true;
}

/* The reductions' double accumulators, from this thread's scratch; NULL when out of memory. */
static double *acc_doubles(napi_env env, long count) {
  gs_scratch *s = scratch(env);
  return gs_scratch_acc(s, (size_t)count) ? NULL : s->acc;
}

/* actGrad(dy, y, dx, act, alpha) */
static napi_value ActGrad(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!ew_args(env, info, argv, 5, "actGrad(dy, y, dx, act, alpha)")) return NULL;
  size_t n1, n2, n3;
  double act, alpha;
  const float *dy = f32any(env, argv[0], &n1, "actGrad: dy must be a Float32Array");
  if (!dy) return NULL;
  const float *y = f32any(env, argv[1], &n2, "actGrad: y must be a Float32Array");
  if (!y) return NULL;
  float *dx = f32any(env, argv[2], &n3, "actGrad: dx must be a Float32Array");
  if (!dx || !num(env, argv[3], &act, "actGrad: act") || !num(env, argv[4], &alpha, "actGrad: alpha")) return NULL;
  if (n1 != n3 || n2 != n3) return range_error(env, "actGrad: dy, y and dx differ in length");
  gs_ew_act_grad(dy, y, dx, (long)n3, (int)act, (float)alpha);
  return NULL;
}

/* biasAct(x, bias, y, act, alpha): rows of bias.length */
static napi_value BiasAct(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!ew_args(env, info, argv, 5, "biasAct(x, bias, y, act, alpha)")) return NULL;
  size_t nx, c, ny;
  double act, alpha;
  const float *x = f32any(env, argv[0], &nx, "biasAct: x must be a Float32Array");
  if (!x) return NULL;
  const float *bias = f32any(env, argv[1], &c, "biasAct: bias must be a Float32Array");
  if (!bias) return NULL;
  float *y = f32any(env, argv[2], &ny, "biasAct: y must be a Float32Array");
  if (!y || !num(env, argv[3], &act, "biasAct: act") || !num(env, argv[4], &alpha, "biasAct: alpha")) return NULL;
  if (c == 0 || nx != ny || nx % c) return range_error(env, "biasAct: sizes do not fit");
  gs_ew_bias_act(x, bias, y, (long)(nx / c), (long)c, (int)act, (float)alpha);
  return NULL;
}

/* channelSum(x, w | null, out, perSample): out.length channels */
static napi_value ChannelSum(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!ew_args(env, info, argv, 4, "channelSum(x, w, out, perSample)")) return NULL;
  size_t nx, nw, c;
  double per;
  float *w;
  const float *x = f32any(env, argv[0], &nx, "channelSum: x must be a Float32Array");
  if (!x || !f32opt(env, argv[1], &w, &nw, "channelSum: w must be a Float32Array or null")) return NULL;
  float *out = f32any(env, argv[2], &c, "channelSum: out must be a Float32Array");
  if (!out || !num(env, argv[3], &per, "channelSum: perSample")) return NULL;
  const long rows = c ? (long)(nx / c) : 0;
  if (c == 0 || nx % c || per < 1 || (w && (double)nw * per < (double)rows)) return range_error(env, "channelSum: sizes do not fit");
  double *acc = acc_doubles(env, (long)c);
  if (!acc) return out_of_memory(env);
  gs_ew_channel_sum(x, w, out, rows, (long)c, (long)per, acc);
  return NULL;
}

/* channelNorm(x, gamma, beta, y, xhat, rstd, epsilon) */
static napi_value ChannelNorm(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  if (!ew_args(env, info, argv, 7, "channelNorm(x, gamma, beta, y, xhat, rstd, epsilon)")) return NULL;
  size_t nx, c, nb, ny, nh, nr;
  double eps;
  const float *x = f32any(env, argv[0], &nx, "channelNorm: x");
  if (!x) return NULL;
  const float *gamma = f32any(env, argv[1], &c, "channelNorm: gamma");
  if (!gamma) return NULL;
  const float *beta = f32any(env, argv[2], &nb, "channelNorm: beta");
  if (!beta) return NULL;
  float *y = f32any(env, argv[3], &ny, "channelNorm: y");
  if (!y) return NULL;
  float *xhat = f32any(env, argv[4], &nh, "channelNorm: xhat");
  if (!xhat) return NULL;
  float *rstd = f32any(env, argv[5], &nr, "channelNorm: rstd");
  if (!rstd || !num(env, argv[6], &eps, "channelNorm: epsilon")) return NULL;
  if (c == 0 || nb != c || nx % c || ny != nx || nh != nx || nr != nx / c) return range_error(env, "channelNorm: sizes do not fit");
  gs_ew_channel_norm(x, gamma, beta, y, xhat, rstd, (long)(nx / c), (long)c, eps);
  return NULL;
}

/* channelNormGrad(dy, xhat, rstd, gamma, w | null, dx, dgamma, dbeta, perSample) */
static napi_value ChannelNormGrad(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  if (!ew_args(env, info, argv, 9, "channelNormGrad(dy, xhat, rstd, gamma, w, dx, dgamma, dbeta, perSample)")) return NULL;
  size_t n, nh, nr, c, nw, ndx, ndg, ndb;
  double per;
  float *w;
  const float *dy = f32any(env, argv[0], &n, "channelNormGrad: dy");
  if (!dy) return NULL;
  const float *xhat = f32any(env, argv[1], &nh, "channelNormGrad: xhat");
  if (!xhat) return NULL;
  const float *rstd = f32any(env, argv[2], &nr, "channelNormGrad: rstd");
  if (!rstd) return NULL;
  const float *gamma = f32any(env, argv[3], &c, "channelNormGrad: gamma");
  if (!gamma || !f32opt(env, argv[4], &w, &nw, "channelNormGrad: w")) return NULL;
  float *dx = f32any(env, argv[5], &ndx, "channelNormGrad: dx");
  if (!dx) return NULL;
  float *dgamma = f32any(env, argv[6], &ndg, "channelNormGrad: dgamma");
  if (!dgamma) return NULL;
  float *dbeta = f32any(env, argv[7], &ndb, "channelNormGrad: dbeta");
  if (!dbeta || !num(env, argv[8], &per, "channelNormGrad: perSample")) return NULL;
  const long rows = c ? (long)(n / c) : 0;
  if (c == 0 || n % c || nh != n || nr != (size_t)rows || ndx != n || ndg != c || ndb != c || per < 1 || (w && (double)nw * per < (double)rows))
    return range_error(env, "channelNormGrad: sizes do not fit");
  double *acc = acc_doubles(env, 2 * (long)c);
  if (!acc) return out_of_memory(env);
  gs_ew_channel_norm_grad(dy, xhat, rstd, gamma, w, dx, dgamma, dbeta, rows, (long)c, (long)per, acc);
  return NULL;
}

/* glu(x, y, gate, c): x [rows, 2c], y and gate [rows, c] */
static napi_value Glu(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!ew_args(env, info, argv, 4, "glu(x, y, gate, c)")) return NULL;
  size_t nx, ny, ng;
  double c;
  const float *x = f32any(env, argv[0], &nx, "glu: x must be a Float32Array");
  if (!x) return NULL;
  float *y = f32any(env, argv[1], &ny, "glu: y must be a Float32Array");
  if (!y) return NULL;
  float *gate = f32any(env, argv[2], &ng, "glu: gate must be a Float32Array");
  if (!gate || !num(env, argv[3], &c, "glu: c")) return NULL;
  if (c < 1 || ny != ng || nx != 2 * ny || ny % (size_t)c) return range_error(env, "glu: sizes do not fit");
  gs_ew_glu(x, y, gate, (long)(ny / (size_t)c), (long)c);
  return NULL;
}

/* gluGrad(dy, x, gate, dx, c): dy and gate [rows, c], x and dx [rows, 2c] */
static napi_value GluGrad(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!ew_args(env, info, argv, 5, "gluGrad(dy, x, gate, dx, c)")) return NULL;
  size_t ndy, nx, ng, ndx;
  double c;
  const float *dy = f32any(env, argv[0], &ndy, "gluGrad: dy must be a Float32Array");
  if (!dy) return NULL;
  const float *x = f32any(env, argv[1], &nx, "gluGrad: x must be a Float32Array");
  if (!x) return NULL;
  const float *gate = f32any(env, argv[2], &ng, "gluGrad: gate must be a Float32Array");
  if (!gate) return NULL;
  float *dx = f32any(env, argv[3], &ndx, "gluGrad: dx must be a Float32Array");
  if (!dx || !num(env, argv[4], &c, "gluGrad: c")) return NULL;
  if (c < 1 || ng != ndy || nx != 2 * ndy || ndx != nx || ndy % (size_t)c) return range_error(env, "gluGrad: sizes do not fit");
  gs_ew_glu_grad(dy, x, gate, dx, (long)(ndy / (size_t)c), (long)c);
  return NULL;
}

NAPI_MODULE_INIT() {
  gs_scratch *s = calloc(1, sizeof(gs_scratch));
  if (!s || napi_set_instance_data(env, s, free_scratch, NULL) != napi_ok) {
    free(s);
    napi_throw_error(env, NULL, "native kernels: cannot allocate per-thread state");
    return NULL;
  }
  const napi_property_descriptor props[] = {
      {"isa", NULL, Isa, NULL, NULL, NULL, napi_default_jsproperty, NULL},
      {"forcePortable", NULL, ForcePortable, NULL, NULL, NULL, napi_default_jsproperty, NULL},
      {"matmul", NULL, Matmul, NULL, NULL, NULL, napi_default_jsproperty, NULL},
      {"conv2d", NULL, Conv2d, NULL, NULL, NULL, napi_default_jsproperty, NULL},
      {"conv2dBackpropInput", NULL, Conv2dBackpropInput, NULL, NULL, NULL, napi_default_jsproperty, NULL},
      {"conv2dBackpropFilter", NULL, Conv2dBackpropFilter, NULL, NULL, NULL, napi_default_jsproperty, NULL},
      {"actGrad", NULL, ActGrad, NULL, NULL, NULL, napi_default_jsproperty, NULL},
      {"biasAct", NULL, BiasAct, NULL, NULL, NULL, napi_default_jsproperty, NULL},
      {"channelSum", NULL, ChannelSum, NULL, NULL, NULL, napi_default_jsproperty, NULL},
      {"channelNorm", NULL, ChannelNorm, NULL, NULL, NULL, napi_default_jsproperty, NULL},
      {"channelNormGrad", NULL, ChannelNormGrad, NULL, NULL, NULL, napi_default_jsproperty, NULL},
      {"glu", NULL, Glu, NULL, NULL, NULL, napi_default_jsproperty, NULL},
      {"gluGrad", NULL, GluGrad, NULL, NULL, NULL, napi_default_jsproperty, NULL},
  };
  if (napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props) != napi_ok) return NULL;
  return exports;
}
