import * as tf from '@tensorflow/tfjs'
import { NATIVE_ACTIVATIONS, nativeKernels } from './native'

/**
 * What `@tensorflow/tfjs-backend-wasm` needs to train GANs well, built from the wasm backend's own
 * kernels so the work stays inside XNNPACK / the wasm heap.
 *
 * Added (wasm has none):
 * - Conv2DBackpropFilter: dW[kh,kw,ci,co] = Σ_{n,oh,ow} x[n, oh·s+kh−p, ow·s+kw−p, ci] · dy[n,oh,ow,co],
 *   which is a stride-1 conv of x (batch and channels swapped) with dy as the filter, dilated by
 *   the forward stride.
 * - DepthwiseConv2dNativeBackpropFilter: the same idea as a depthwise conv over (batch × channel).
 * - DepthwiseConv2dNativeBackpropInput: a Conv2DBackpropInput with the block-diagonal full filter.
 *
 * Replaced (wasm has one, but slow or wrong):
 * - Conv2DBackpropInput (conv2dTranspose, and dx of every conv): s×s phase convolutions on
 *   XNNPACK instead of a scalar loop.
 * - BatchMatMul with transposeA (dense weight gradients): transpose, then XNNPACK.
 * - Conv2D / FusedConv2D / depthwise with 'same' padding: explicit padding, because XNNPACK's
 *   TF-SAME mode gives wrong results for some shapes.
 *
 * Native (native/, via native.ts): where the addon is loaded, Conv2D, FusedConv2D,
 * Conv2DBackpropInput, Conv2DBackpropFilter and BatchMatMul on float32 NHWC tensors run as im2col
 * GEMMs with an AVX2/FMA micro-kernel directly on the wasm heap (views, no copies); shapes it
 * does not cover (dilation, channels-first, PReLU, empty tensors) keep the paths below.
 *
 * The kernels call other kernels' `kernelFunc` directly (not tf ops), so no tensors are tracked by
 * the engine while they run; every temporary is released with `backend.disposeData`.
 * Building them from tf ops instead breaks tidy's bookkeeping inside `optimizer.minimize`.
 */

type Info = tf.TensorInfo
type Backend = { disposeData(dataId: object, force?: boolean): boolean; makeOutput(shape: number[], dtype: tf.DataType): Info }
type Pad = 'same' | 'valid' | number | number[][]
type ExplicitPad = [[number, number], [number, number], [number, number], [number, number]]

const WASM = 'wasm'

function run(backend: Backend, kernelName: string, inputs: Record<string, Info>, attrs: Record<string, unknown>): Info {
  const kernel = tf.getKernel(kernelName, WASM)
  if (!kernel) throw new Error(`The wasm backend has no ${kernelName} kernel`)
  const out = kernel.kernelFunc({ inputs, attrs: attrs as tf.NamedAttrMap, backend })
  return (Array.isArray(out) ? out[0] : out) as Info
}

/** A reshaped view that shares `t`'s data (no copy, no extra reference). Never dispose a view. */
function view(t: Info, shape: number[]): Info {
  return { dataId: t.dataId, shape, dtype: t.dtype }
}

/** Runs `body` and frees every temporary it registered with `temp`, except the returned tensor. */
function withTemps(backend: Backend, body: (temp: (t: Info) => Info) => Info): Info {
  const temps: Info[] = []
  const temp = (t: Info): Info => {
    temps.push(t)
    return t
  }
  try {
    const out = body(temp)
    for (const t of temps) if (t.dataId !== out.dataId) backend.disposeData(t.dataId)
    return out
  } catch (err) {
    for (const t of temps) backend.disposeData(t.dataId)
    throw err
  }
}

function assertChannelsLast(dataFormat: unknown, kernel: string): void {
  if (dataFormat !== undefined && dataFormat !== 'NHWC' && dataFormat !== 'channelsLast')
    throw new Error(`wasm ${kernel} supports only NHWC (channels-last) data, got ${String(dataFormat)}`)
}

// ── Native kernels ───────────────────────────────────────────────────────────────────────

type HeapBackend = Backend & { typedArrayFromHeap(t: Info): Float32Array }
type ConvInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>

function isChannelsLast(dataFormat: unknown): boolean {
  return dataFormat === undefined || dataFormat === 'NHWC' || dataFormat === 'channelsLast'
}

function isUnitDilation(dilations: unknown): boolean {
  if (dilations === undefined || dilations === null) return true
  if (typeof dilations === 'number') return dilations === 1
  return Array.isArray(dilations) && dilations.every((d) => d === 1)
}

const allFloat = (...ts: Info[]): boolean => ts.every((t) => t.dtype === 'float32' && t.shape.every((d) => d > 0))

/** The addon's geometry array; one per thread, refilled per call (the addon reads it synchronously). */
const convGeometry = new Int32Array(13)

function fillConvGeometry(info: ConvInfo): Int32Array {
  convGeometry.set([
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.filterHeight,
    info.filterWidth,
    info.outChannels,
    info.outHeight,
    info.outWidth,
    info.strideHeight,
    info.strideWidth,
    info.padInfo.top,
    info.padInfo.left
  ])
  return convGeometry
}

/** computeConv2DInfo for a supported native convolution, else null. */
function nativeConvInfo(
  xShape: number[],
  filterShape: number[],
  attrs: { strides: number | [number, number]; pad: Pad; dataFormat?: unknown; dilations?: unknown; dimRoundingMode?: 'floor' | 'round' | 'ceil' }
): ConvInfo | null {
  if (!isChannelsLast(attrs.dataFormat) || !isUnitDilation(attrs.dilations) || xShape.length !== 4 || filterShape.length !== 4) return null
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad as 'same',
    attrs.dimRoundingMode
  )
  if (info.outHeight <= 0 || info.outWidth <= 0 || info.padInfo.top < 0 || info.padInfo.left < 0) return null
  return info
}

/**
 * Conv2D / FusedConv2D on the native kernels, bias and activation applied after the GEMM
 * (FusedConv2D's `preluActivationWeights` are not: PReLU keeps XNNPACK). Null when not covered.
 */
function nativeConv2D(args: Parameters<tf.KernelFunc>[0], fused: boolean): Info | null {
  const native = nativeKernels()
  if (!native) return null
  const { x, filter, bias, preluActivationWeights } = args.inputs as { x: Info; filter: Info; bias?: Info; preluActivationWeights?: Info }
  const attrs = args.attrs as unknown as ConvGradAttrs & { activation?: string; leakyreluAlpha?: number }
  const activation = fused ? (attrs.activation ?? 'linear') : 'linear'
  const act = NATIVE_ACTIVATIONS[activation]
  if (act === undefined || preluActivationWeights || !allFloat(x, filter)) return null
  const co = filter.shape[3]!
  if (bias && (bias.dtype !== 'float32' || (tf.util.sizeFromShape(bias.shape) !== co && tf.util.sizeFromShape(bias.shape) !== 1))) return null
  const info = nativeConvInfo(x.shape, filter.shape, attrs)
  if (!info || info.inChannels !== filter.shape[2]) return null
  const b = args.backend as HeapBackend
  const y = b.makeOutput([info.batchSize, info.outHeight, info.outWidth, co], 'float32')
  // Views are taken after the last allocation: growing the heap detaches earlier ones.
  native.conv2d(
    b.typedArrayFromHeap(x),
    b.typedArrayFromHeap(filter),
    b.typedArrayFromHeap(y),
    fillConvGeometry(info),
    bias ? b.typedArrayFromHeap(bias) : null,
    act,
    attrs.leakyreluAlpha ?? 0.2
  )
  return y
}

/** dx of a convolution (and the transposed convolution) on the native kernels, or null. */
function nativeConv2DBackpropInput(backend: HeapBackend, dy: Info, filter: Info, attrs: ConvGradAttrs & { inputShape: number[] }): Info | null {
  const native = nativeKernels()
  if (!native || !allFloat(dy, filter) || attrs.inputShape.some((d) => d <= 0)) return null
  const info = nativeConvInfo(attrs.inputShape, filter.shape, attrs)
  if (!info) return null
  const expected = [info.batchSize, info.outHeight, info.outWidth, info.outChannels]
  if (dy.shape.length !== 4 || dy.shape.some((d, i) => d !== expected[i]) || info.inChannels !== filter.shape[2]) return null
  const dx = backend.makeOutput(attrs.inputShape, 'float32')
  native.conv2dBackpropInput(backend.typedArrayFromHeap(dy), backend.typedArrayFromHeap(filter), backend.typedArrayFromHeap(dx), fillConvGeometry(info))
  return dx
}

/** dW of a convolution on the native kernels, or null. */
function nativeConv2DBackpropFilter(backend: HeapBackend, x: Info, dy: Info, attrs: ConvGradAttrs & { filterShape: number[] }): Info | null {
  const native = nativeKernels()
  if (!native || !allFloat(x, dy) || attrs.filterShape.some((d) => d <= 0)) return null
  const info = nativeConvInfo(x.shape, attrs.filterShape, attrs)
  if (!info) return null
  const expected = [info.batchSize, info.outHeight, info.outWidth, info.outChannels]
  if (dy.shape.length !== 4 || dy.shape.some((d, i) => d !== expected[i])) return null
  const dw = backend.makeOutput(attrs.filterShape, 'float32')
  native.conv2dBackpropFilter(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(dy), backend.typedArrayFromHeap(dw), fillConvGeometry(info))
  return dw
}

const matmulGeometry = new Int32Array(8)

/**
 * BatchMatMul on the native GEMM: any transposes, batch dimensions equal or one side's all 1
 * (broadcast). Null when not covered.
 */
function nativeBatchMatMul(backend: HeapBackend, a: Info, b: Info, transposeA: boolean, transposeB: boolean): Info | null {
  const native = nativeKernels()
  if (!native || a.shape.length < 2 || b.shape.length < 2 || !allFloat(a, b)) return null
  const ra = a.shape.length
  const rb = b.shape.length
  const m = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!
  const k = transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!
  const kb = transposeB ? b.shape[rb - 1]! : b.shape[rb - 2]!
  const n = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!
  if (k !== kb) return null
  const outerA = a.shape.slice(0, -2)
  const outerB = b.shape.slice(0, -2)
  const outer = tf.backend_util.assertAndGetBroadcastShape(outerA, outerB)
  const batch = tf.util.sizeFromShape(outer)
  const batchA = tf.util.sizeFromShape(outerA)
  const batchB = tf.util.sizeFromShape(outerB)
  if ((batchA !== 1 && batchA !== batch) || (batchB !== 1 && batchB !== batch)) return null
  const c = backend.makeOutput([...outer, m, n], 'float32')
  matmulGeometry.set([batch, m, n, k, transposeA ? 1 : 0, transposeB ? 1 : 0, batchA === batch && batch > 1 ? 1 : 0, batchB === batch && batch > 1 ? 1 : 0])
  native.matmul(backend.typedArrayFromHeap(a), backend.typedArrayFromHeap(b), backend.typedArrayFromHeap(c), matmulGeometry)
  return c
}

/** dW of a 2-D convolution: [KH, KW, Cin, Cout]. */
function conv2dBackpropFilterImpl(
  backend: Backend,
  x: Info,
  dy: Info,
  filterShape: [number, number, number, number],
  strides: number | [number, number],
  pad: Pad,
  dimRoundingMode: 'floor' | 'round' | 'ceil' | undefined
): Info {
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad as 'same',
    dimRoundingMode
  )
  const { filterHeight: kh, filterWidth: kw, inHeight, inWidth, outHeight, outWidth, strideHeight, strideWidth } = info
  const top = info.padInfo.top
  const left = info.padInfo.left
  const bottom = kh + (outHeight - 1) * strideHeight - inHeight - top
  const right = kw + (outWidth - 1) * strideWidth - inWidth - left
  return withTemps(backend, (temp) => {
    // x: [N,H,W,Ci] → [Ci,H,W,N] ("batch" Ci, channels N); dy: [N,OH,OW,Co] → [OH,OW,N,Co] (the filter).
    const xT = temp(run(backend, 'Transpose', { x }, { perm: [3, 1, 2, 0] }))
    const dyT = temp(run(backend, 'Transpose', { x: dy }, { perm: [1, 2, 0, 3] }))
    const explicit: ExplicitPad = [
      [0, 0],
      [top, Math.max(bottom, 0)],
      [left, Math.max(right, 0)],
      [0, 0]
    ]
    let dw = temp(
      run(
        backend,
        'Conv2D',
        { x: xT, filter: dyT },
        { strides: [1, 1], pad: explicit, dataFormat: 'NHWC', dilations: [strideHeight, strideWidth], dimRoundingMode: undefined }
      )
    )
    // With 'valid' padding and a stride that does not divide the input, trailing rows/cols of x
    // are never read by the forward conv; the conv above then yields a larger map — crop it.
    if (dw.shape[1] !== kh || dw.shape[2] !== kw) {
      dw = temp(run(backend, 'Slice', { x: dw }, { begin: [0, 0, 0, 0], size: [dw.shape[0]!, kh, kw, dw.shape[3]!] }))
    }
    return run(backend, 'Transpose', { x: dw }, { perm: [1, 2, 0, 3] })
  })
}

interface ConvGradAttrs {
  strides: number | [number, number]
  pad: Pad
  dataFormat?: string
  dimRoundingMode?: 'floor' | 'round' | 'ceil'
  dilations?: number | [number, number]
}

function assertNoDilation(dilations: number | [number, number] | undefined, kernel: string): void {
  const d = dilations === undefined ? [1, 1] : typeof dilations === 'number' ? [dilations, dilations] : dilations
  if (d[0] !== 1 || d[1] !== 1) throw new Error(`wasm ${kernel}: dilations greater than 1 are not supported in gradients`)
}

const conv2DBackpropFilter: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const { x, dy } = inputs as { x: Info; dy: Info }
  const a = attrs as unknown as ConvGradAttrs & { filterShape: [number, number, number, number] }
  assertChannelsLast(a.dataFormat, 'Conv2DBackpropFilter')
  const native = nativeConv2DBackpropFilter(backend as HeapBackend, x, dy, a)
  if (native) return native
  return conv2dBackpropFilterImpl(backend as Backend, x, dy, a.filterShape, a.strides, a.pad, a.dimRoundingMode)
}

/**
 * Depthwise dW[kh,kw,c,m] = Σ_{n,oh,ow} x[n, oh·s+kh−p, ow·s+kw−p, c] · dy[n,oh,ow,c·M+m].
 * x → [1,H,W,N·C] and dy → [OH,OW,N·C,M] make that a depthwise conv (dilated by the stride)
 * whose output [1,KH,KW,N·C·M] is summed over n.
 */
const depthwiseBackpropFilter: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const b = backend as Backend
  const { x, dy } = inputs as { x: Info; dy: Info }
  const a = attrs as unknown as ConvGradAttrs & { filterShape: [number, number, number, number] }
  assertChannelsLast(a.dataFormat, 'DepthwiseConv2dNativeBackpropFilter')
  assertNoDilation(a.dilations, 'DepthwiseConv2dNativeBackpropFilter')
  const [n, , , c] = x.shape as [number, number, number, number]
  const [kh, kw, , mult] = a.filterShape
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    a.filterShape,
    a.strides,
    1,
    a.pad as 'same',
    a.dimRoundingMode,
    true
  )
  const { inHeight, inWidth, outHeight, outWidth, strideHeight, strideWidth } = info
  const top = info.padInfo.top
  const left = info.padInfo.left
  const bottom = kh + (outHeight - 1) * strideHeight - inHeight - top
  const right = kw + (outWidth - 1) * strideWidth - inWidth - left
  return withTemps(b, (temp) => {
    const xT = temp(run(b, 'Transpose', { x }, { perm: [1, 2, 0, 3] })) // [H,W,N,C]
    const dyT = temp(run(b, 'Transpose', { x: view(dy, [n, outHeight, outWidth, c * mult]) }, { perm: [1, 2, 0, 3] })) // [OH,OW,N,C·M]
    const explicit: ExplicitPad = [
      [0, 0],
      [top, Math.max(bottom, 0)],
      [left, Math.max(right, 0)],
      [0, 0]
    ]
    let dw = temp(
      run(
        b,
        'DepthwiseConv2dNative',
        { x: view(xT, [1, inHeight, inWidth, n * c]), filter: view(dyT, [outHeight, outWidth, n * c, mult]) },
        { strides: [1, 1], pad: explicit, dilations: [strideHeight, strideWidth], dimRoundingMode: undefined }
      )
    )
    if (dw.shape[1] !== kh || dw.shape[2] !== kw) {
      dw = temp(run(b, 'Slice', { x: dw }, { begin: [0, 0, 0, 0], size: [1, kh, kw, n * c * mult] }))
    }
    // [1,KH,KW,N·C·M] → [KH,KW,N,C·M] → Σ over N → [KH,KW,C·M]
    const summed = temp(run(b, 'Sum', { x: view(dw, [kh, kw, n, c * mult]) }, { axis: [2], keepDims: false }))
    return { ...summed, shape: [kh, kw, c, mult] }
  })
}

/** 0/1 tensor of shape [1,1,C,C,1] with ones where the two channel indices agree. */
function channelEye(b: Backend, c: number): Info {
  const eye = new Float32Array(c * c)
  for (let i = 0; i < c; i++) eye[i * c + i] = 1
  const out = b.makeOutput([1, 1, c, c, 1], 'float32')
  const heap = (b as unknown as { typedArrayFromHeap(t: Info): Float32Array }).typedArrayFromHeap(out)
  heap.set(eye)
  return out
}

/**
 * Depthwise dx: a regular Conv2DBackpropInput with the block-diagonal filter
 * full[kh,kw,c,c'·M+m] = w[kh,kw,c,m]·[c = c']. Costs C× the minimum, which is fine for the
 * depthwise layers' sizes; no GAN in the studio uses them on the hot path.
 */
const depthwiseBackpropInput: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const b = backend as Backend
  const { dy, filter } = inputs as { dy: Info; filter: Info }
  const a = attrs as unknown as ConvGradAttrs & { inputShape: [number, number, number, number] }
  assertChannelsLast(a.dataFormat, 'DepthwiseConv2dNativeBackpropInput')
  assertNoDilation(a.dilations, 'DepthwiseConv2dNativeBackpropInput')
  const [kh, kw, c, mult] = filter.shape as [number, number, number, number]
  return withTemps(b, (temp) => {
    const eye = temp(channelEye(b, c))
    const full = temp(run(b, 'Multiply', { a: view(filter, [kh, kw, c, 1, mult]), b: eye }, {}))
    return run(
      b,
      'Conv2DBackpropInput',
      { dy, filter: view(full, [kh, kw, c, c * mult]) },
      { strides: a.strides, pad: a.pad, dataFormat: 'NHWC', dimRoundingMode: a.dimRoundingMode, inputShape: a.inputShape }
    )
  })
}

/**
 * Conv2DBackpropInput (the transposed convolution: conv2dTranspose's forward pass, and dx of every
 * conv) as s×s stride-1 XNNPACK convolutions, one per output phase, interleaved by DepthToSpace.
 * tfjs-backend-wasm's own kernel is a scalar C++ loop.
 *
 * Output row ih = i·s + bh gets Σ_j dy[q − j]·W[r + s·j] with r = (bh + p) mod s and
 * q = i + (bh + p − r)/s: a correlation of dy with the flipped sub-filter W[r::s] (same for
 * columns). Each phase is therefore a stride-1 conv with its own small filter and padding.
 */
function conv2dBackpropInputPhased(b: HeapBackend, dy: Info, filter: Info, attrs: ConvGradAttrs & { inputShape: number[] }): Info | null {
  const info = tf.backend_util.computeConv2DInfo(
    attrs.inputShape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad as 'same',
    attrs.dimRoundingMode
  )
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co } = info
  const { strideHeight: s, strideWidth: sw, filterHeight: kh, filterWidth: kw } = info
  if (s !== sw || kh < s || kw < s || n * h * w * ci === 0 || dy.shape.some((d) => d === 0)) return null
  const pt = info.padInfo.top
  const pl = info.padInfo.left
  const hs = Math.ceil(h / s)
  const ws = Math.ceil(w / s)

  /** Per phase along one axis: first tap r, tap count J, and the explicit padding before/after. */
  const axisPlan = (bOff: number, p: number, k: number, outLen: number, phaseLen: number) => {
    const r = (bOff + p) % s
    const c = (bOff + p - r) / s
    const taps = Math.ceil((k - r) / s)
    const before = taps - 1 - c
    const after = phaseLen + taps - 1 - outLen - before
    return { r, taps, before, after }
  }

  return withTemps(b, (temp) => {
    const phases: Info[] = []
    for (let bh = 0; bh < s; bh++) {
      const rows = axisPlan(bh, pt, kh, oh, hs)
      for (let bw = 0; bw < s; bw++) {
        const cols = axisPlan(bw, pl, kw, ow, ws)
        // Sub-filter [Jr, Jc, co, ci]: flipped taps r, r+s, … and in/out channels swapped.
        const sub = temp(b.makeOutput([rows.taps, cols.taps, co, ci], 'float32'))
        // Views on the wasm heap go stale when it grows (as makeOutput may), so take them after.
        const subVals = b.typedArrayFromHeap(sub)
        const weights = b.typedArrayFromHeap(filter) // [kh, kw, ci, co]
        let o = 0
        for (let t = 0; t < rows.taps; t++) {
          const fy = rows.r + s * (rows.taps - 1 - t)
          for (let u = 0; u < cols.taps; u++) {
            const fx = cols.r + s * (cols.taps - 1 - u)
            const base = (fy * kw + fx) * ci * co
            for (let oc = 0; oc < co; oc++) for (let ic = 0; ic < ci; ic++) subVals[o++] = weights[base + ic * co + oc]!
          }
        }
        const pad: ExplicitPad = [
          [0, 0],
          [Math.max(rows.before, 0), Math.max(rows.after, 0)],
          [Math.max(cols.before, 0), Math.max(cols.after, 0)],
          [0, 0]
        ]
        let out = temp(run(b, 'Conv2D', { x: dy, filter: sub }, { strides: [1, 1], pad, dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined }))
        const top = Math.max(0, -rows.before)
        const left = Math.max(0, -cols.before)
        if (top !== 0 || left !== 0 || out.shape[1] !== hs || out.shape[2] !== ws) {
          out = temp(run(b, 'Slice', { x: out }, { begin: [0, top, left, 0], size: [n, hs, ws, ci] }))
        }
        phases.push(out)
      }
    }
    if (s === 1) {
      const only = phases[0]!
      return only.shape[1] === h && only.shape[2] === w ? only : run(b, 'Slice', { x: only }, { begin: [0, 0, 0, 0], size: [n, h, w, ci] })
    }
    // Interleave the phases: dx[n, i·s+bh, j·s+bw, :] = phase(bh,bw)[n, i, j, :]. A plain copy
    // here is much faster than the wasm backend's generic DepthToSpace kernel.
    const dx = b.makeOutput([n, h, w, ci], 'float32')
    const out = b.typedArrayFromHeap(dx) // taken after the last allocation
    phases.forEach((phase, p) => {
      const bh = Math.floor(p / s)
      const bw = p % s
      const src = b.typedArrayFromHeap(phase)
      for (let img = 0; img < n; img++) {
        for (let i = 0; i < hs; i++) {
          const y = i * s + bh
          if (y >= h) break
          let from = ((img * hs + i) * ws) * ci
          let to = ((img * h + y) * w + bw) * ci
          for (let j = 0; j < ws; j++) {
            if (j * s + bw >= w) break
            if (ci >= 16) out.set(src.subarray(from, from + ci), to)
            else for (let c = 0; c < ci; c++) out[to + c] = src[from + c]!
            from += ci
            to += s * ci
          }
        }
      }
    })
    return dx
  })
}

let originalBackpropInput: tf.KernelConfig | undefined

const conv2DBackpropInput: tf.KernelFunc = (args) => {
  const { dy, filter } = args.inputs as { dy: Info; filter: Info }
  const attrs = args.attrs as unknown as ConvGradAttrs & { inputShape: number[] }
  const backend = args.backend as HeapBackend
  const channelsLast = isChannelsLast(attrs.dataFormat)
  const out = channelsLast ? (nativeConv2DBackpropInput(backend, dy, filter, attrs) ?? conv2dBackpropInputPhased(backend, dy, filter, attrs)) : null
  if (out) return out
  if (!originalBackpropInput) throw new Error('wasm Conv2DBackpropInput: no fallback kernel')
  return originalBackpropInput.kernelFunc(args)
}

let originalBatchMatMul: tf.KernelConfig | undefined

/**
 * BatchMatMul with transposeA (every dense layer's weight gradient, xᵀ·dy) runs much slower in
 * tfjs-backend-wasm than the plain product, which goes to XNNPACK. Transpose first instead.
 */
const batchMatMul: tf.KernelFunc = (args) => {
  const original = originalBatchMatMul
  if (!original) throw new Error('wasm BatchMatMul: no original kernel')
  const { a, b } = args.inputs as { a: Info; b: Info }
  const attrs = args.attrs as { transposeA?: boolean; transposeB?: boolean }
  const native = nativeBatchMatMul(args.backend as HeapBackend, a, b, attrs.transposeA === true, attrs.transposeB === true)
  if (native) return native
  if (!attrs.transposeA || a.shape.length < 2) return original.kernelFunc(args)
  const backend = args.backend as Backend
  const rank = a.shape.length
  const perm = [...Array(rank - 2).keys(), rank - 1, rank - 2]
  return withTemps(backend, (temp) => {
    const aT = temp(run(backend, 'Transpose', { x: a }, { perm }))
    const out = original.kernelFunc({ ...args, inputs: { a: aT, b }, attrs: { ...args.attrs, transposeA: false } })
    return (Array.isArray(out) ? out[0] : out) as Info
  })
}

/**
 * tfjs-backend-wasm hands 'same' padding to XNNPACK as its TensorFlow-SAME flag, which computes
 * wrong outputs for some shapes (e.g. a 2×1 kernel with strides [1, 2]: errors of order 1).
 * The same convolution with the padding spelled out is right, so spell it out. Conv2D and
 * FusedConv2D go to the native kernels first, where they are loaded.
 */
function explicitSamePadding(name: string, originalOf: () => tf.KernelConfig | undefined, depthwise: boolean): tf.KernelFunc {
  const nativeFirst = name === 'Conv2D' || name === 'FusedConv2D'
  return (args) => {
    const original = originalOf()
    if (!original) throw new Error('wasm convolution: no original kernel')
    const native = nativeFirst ? nativeConv2D(args, name === 'FusedConv2D') : null
    if (native) return native
    const attrs = args.attrs as unknown as ConvGradAttrs
    if (attrs.pad !== 'same') return original.kernelFunc(args)
    const { x, filter } = args.inputs as { x: Info; filter: Info }
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filter.shape as [number, number, number, number],
      attrs.strides,
      attrs.dilations ?? 1,
      'same',
      attrs.dimRoundingMode,
      depthwise
    )
    const { top, bottom, left, right } = info.padInfo
    const pad: ExplicitPad = [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0]
    ]
    return original.kernelFunc({ ...args, attrs: { ...args.attrs, pad } as unknown as tf.NamedAttrMap })
  }
}

const originals = new Map<string, tf.KernelConfig>()
const SAME_PADDING_FIXES: [string, boolean][] = [
  ['Conv2D', false],
  ['FusedConv2D', false],
  ['DepthwiseConv2dNative', true],
  ['FusedDepthwiseConv2D', true]
]
const samePaddingKernels = new Map(SAME_PADDING_FIXES.map(([name, dw]) => [name, explicitSamePadding(name, () => originals.get(name), dw)]))

const KERNELS: tf.KernelConfig[] = [
  { kernelName: 'Conv2DBackpropFilter', backendName: WASM, kernelFunc: conv2DBackpropFilter },
  { kernelName: 'DepthwiseConv2dNativeBackpropFilter', backendName: WASM, kernelFunc: depthwiseBackpropFilter },
  { kernelName: 'DepthwiseConv2dNativeBackpropInput', backendName: WASM, kernelFunc: depthwiseBackpropInput }
]

/** Names of the kernels this module adds to the wasm backend. */
export const WASM_GRADIENT_KERNELS: readonly string[] = KERNELS.map((k) => k.kernelName)

/**
 * Registers the missing gradient kernels on `wasm`, replaces its Conv2DBackpropInput with the
 * XNNPACK-based one (the original stays as the fallback for cases the phased form does not cover:
 * unequal strides, kernels smaller than the stride) and routes transposeA matmuls through
 * XNNPACK; convolutions and matmuls go to the native kernels where they are loaded. Idempotent.
 */
export function registerWasmGradientKernels(): void {
  for (const config of KERNELS) {
    if (!tf.getKernel(config.kernelName, WASM)) tf.registerKernel(config)
  }
  originalBackpropInput = override('Conv2DBackpropInput', conv2DBackpropInput) ?? originalBackpropInput
  originalBatchMatMul = override('BatchMatMul', batchMatMul) ?? originalBatchMatMul
  for (const [name, kernelFunc] of samePaddingKernels) {
    const original = override(name, kernelFunc)
    if (original) originals.set(name, original)
  }
}

/** Replaces a wasm kernel with `kernelFunc`, returning the original (once; later calls return undefined). */
function override(kernelName: string, kernelFunc: tf.KernelFunc): tf.KernelConfig | undefined {
  const current = tf.getKernel(kernelName, WASM)
  if (!current || current.kernelFunc === kernelFunc) return undefined
  tf.unregisterKernel(kernelName, WASM)
  // Keep the original's setupFunc so it is wired up (cwrap) when the backend initialises.
  tf.registerKernel({ kernelName, backendName: WASM, kernelFunc, setupFunc: current.setupFunc })
  return current
}
