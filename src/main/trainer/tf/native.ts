import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { unpackedPath } from '../../util/locate'

/**
 * The native CPU kernels (native/: a packed SGEMM with an AVX2/FMA micro-kernel and the 2-D
 * convolutions built on it), which the wasm backend's convolution and matmul kernels call when
 * they are here (wasm-kernels.ts). The addon works on Float32Array views of the wasm heap, so no
 * tensor is copied; each call is single-threaded (the trainer runs one worker thread per core,
 * and every thread loads the addon for itself).
 *
 * It is built by the install step (scripts/postinstall.mjs, node-gyp) and may be missing: no
 * compiler, an unsupported platform, a failed build. Then, or with GAN_STUDIO_NATIVE=0, every
 * kernel stays on XNNPACK and the reason is kept for the backend's description (once per thread:
 * the load is tried once).
 */

/** The addon's interface (native/src/addon.c). Geometry arrays are described there. */
export interface NativeKernels {
  /** "AVX2/FMA" or "portable" (vector extensions: SSE2 on x86, NEON on arm64). */
  isa(): string
  /** Use the portable micro-kernel even where AVX2/FMA is available (tests); returns the previous setting. */
  forcePortable(on: boolean): boolean
  /** geometry: [batch, m, n, k, transA, transB, aBatched, bBatched] */
  matmul(a: Float32Array, b: Float32Array, c: Float32Array, geometry: Int32Array): void
  /** geometry: [n, h, w, c, kh, kw, co, oh, ow, strideH, strideW, padTop, padLeft]; act: NATIVE_ACTIVATIONS. */
  conv2d(x: Float32Array, filter: Float32Array, y: Float32Array, geometry: Int32Array, bias?: Float32Array | null, act?: number, alpha?: number): void
  conv2dBackpropInput(dy: Float32Array, filter: Float32Array, dx: Float32Array, geometry: Int32Array): void
  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, dfilter: Float32Array, geometry: Int32Array): void
  /** Element-wise kernels of nn/kernels.ts (activation codes GS_EW_* in kernels.h: linear 0, relu 1, leakyrelu 2, tanh 3, sigmoid 4). */
  actGrad(dy: Float32Array, y: Float32Array, dx: Float32Array, act: number, alpha: number): void
  biasAct(x: Float32Array, bias: Float32Array, y: Float32Array, act: number, alpha: number): void
  channelSum(x: Float32Array, w: Float32Array | null, out: Float32Array, perSample: number): void
  channelNorm(x: Float32Array, gamma: Float32Array, beta: Float32Array, y: Float32Array, xhat: Float32Array, rstd: Float32Array, epsilon: number): void
  glu(x: Float32Array, y: Float32Array, gate: Float32Array, c: number): void
  gluGrad(dy: Float32Array, x: Float32Array, gate: Float32Array, dx: Float32Array, c: number): void
  channelNormGrad(dy: Float32Array, xhat: Float32Array, rstd: Float32Array, gamma: Float32Array, w: Float32Array | null, dx: Float32Array, dgamma: Float32Array, dbeta: Float32Array, perSample: number): void
}

/** tfjs' fused activations that the native epilogue applies, by the addon's codes (kernels.h). */
export const NATIVE_ACTIVATIONS: Readonly<Record<string, number>> = { linear: 0, relu: 1, relu6: 2, leakyrelu: 3, sigmoid: 4, elu: 5 }

/** Where the build puts the addon, relative to the project (or the packaged app's unpacked) root. */
export const ADDON_RELATIVE = join('native', 'build', 'Release', 'gan_studio_native.node')

export interface NativeStatus {
  /** The loaded addon's instruction set, or null when it is not in use. */
  isa: string | null
  /** Why the native kernels are not in use (null when they are). */
  reason: string | null
  /** Loads tried in this thread so far (0 or 1: the result is kept). */
  attempts: number
}

interface LoadState {
  kernels: NativeKernels | null
  reason: string | null
}

const requireHere = createRequire(import.meta.url)
let loaded: LoadState | null = null
let attempts = 0
let enabled = true
/** Overrides where the addon is looked for (tests: simulate a missing build). */
let addonPathOverride: string | null = null

/** `native/build/Release/…` above this module: src/main/trainer/tf under tests, out/main(/chunks) when built, app.asar.unpacked when packaged. */
function findAddon(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, ADDON_RELATIVE)
    for (const file of [unpackedPath(candidate), candidate]) if (existsSync(file)) return file
    const parent = dirname(dir)
    if (parent === dir) break
    dir = parent
  }
  return null
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err)
  return (msg.split('\n')[0] ?? msg).trim()
}

function load(): LoadState {
  attempts++
  const setting = process.env.GAN_STUDIO_NATIVE
  if (setting === '0' || setting === 'false' || setting === 'off') return { kernels: null, reason: `switched off (GAN_STUDIO_NATIVE=${setting})` }
  const file = addonPathOverride ?? findAddon()
  if (!file || !existsSync(file)) return { kernels: null, reason: `not built (no ${file ?? ADDON_RELATIVE}; see the install notes)` }
  try {
    const kernels = requireHere(file) as NativeKernels
    if (typeof kernels.conv2d !== 'function' || typeof kernels.isa !== 'function') return { kernels: null, reason: `${file} is not the kernels addon` }
    if (typeof kernels.channelNorm !== 'function' || typeof kernels.glu !== 'function') return { kernels: null, reason: `${file} is an older build without the element-wise kernels (npm run build:native)` }
    return { kernels, reason: null }
  } catch (err) {
    return { kernels: null, reason: `could not be loaded (${firstLine(err)})` }
  }
}

/** The native kernels, or null when they are missing or switched off. Loaded once per thread. */
export function nativeKernels(): NativeKernels | null {
  loaded ??= load()
  return enabled ? loaded.kernels : null
}

/** Whether the native kernels are in use in this thread, and why not. */
export function nativeStatus(): NativeStatus {
  loaded ??= load()
  if (!loaded.kernels) return { isa: null, reason: loaded.reason, attempts }
  if (!enabled) return { isa: null, reason: 'switched off in this process', attempts }
  return { isa: loaded.kernels.isa(), reason: null, attempts }
}

/** e.g. "native kernels (AVX2/FMA)" or "native kernels off: not built (…)". */
export function describeNative(): string {
  const s = nativeStatus()
  return s.isa ? `native kernels (${s.isa})` : `native kernels off: ${s.reason}`
}

/**
 * Turns the native kernels off (or back on) in this thread, for comparisons; returns the previous
 * setting. Training processes use GAN_STUDIO_NATIVE=0 instead, which every worker thread inherits.
 */
export function setNativeEnabled(on: boolean): boolean {
  const previous = enabled
  enabled = on
  return previous
}

/** Tests: forget the loaded addon and look for it at `path` (null: the usual place) on the next use. */
export function reloadNativeForTests(path: string | null): void {
  addonPathOverride = path
  loaded = null
  attempts = 0
}
