import { Session } from 'node:inspector/promises'
import { relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as tf from '@tensorflow/tfjs'
import { BatchSource, makeRunner } from '../../src/main/trainer/train'
import { describeActiveBackend, initBackend } from '../../src/main/trainer/tf/backends'
import { collectGarbage, GC_EVERY_STEPS } from '../../src/main/trainer/tf/memory'
import type { StepScalars } from '../../src/main/trainer/model/runner'
import { benchConfig, benchPixels, type TrainCase } from './train-bench'

/**
 * `--profile`: where one training step's time goes on `wasm`, in one thread (the trainer's runner
 * with one worker: the same kernels, Adam and EMA as each data-parallel worker runs on its shard).
 *
 * - Wall time of the loop's parts over several steps: batch assembly from the uint8 cache, the
 *   step, reading the losses back, and the full GC (which the trainer runs every GC_EVERY_STEPS).
 * - Every tfjs kernel of one step (tf.profile: each kernel's wall time), with multiply-adds for
 *   convolutions and matrix products, hence the rate they reach against one core's peak.
 * - A V8 sampling profile of the steps: self time in WebAssembly, in the garbage collector, in tfjs'
 *   JavaScript, and in the project's own JavaScript by file (element-wise kernels, Adam + EMA,
 *   tape, batch assembly, …).
 */

export interface KernelRow {
  name: string
  calls: number
  ms: number
  /** Multiply-adds (convolutions and matrix products; 0 for the rest). */
  macs: number
}

export interface ProfileResult {
  arch: string
  resolution: number
  batch: number
  model: { gChannels: number; dChannels: number; latentDim: number }
  detail: string
  steps: number
  /** Wall time per step of each part of the loop, in ms. */
  parts: { batch: number; step: number; readLosses: number; gc: number; total: number }
  /** CPU time of this process per step over the same steps (one thread: equals wall time on a quiet machine). */
  cpuMsPerStep: number
  kernels: KernelRow[]
  /** Sum of kernel wall times in the profiled step (ms) and the profiled step's wall time. */
  kernelMs: number
  profiledStepMs: number
  /** V8 self time per category over the sampled steps (ms per step) and the top functions. */
  cpu: { category: string; ms: number }[]
  topFunctions: { name: string; where: string; ms: number }[]
}

/** Multiply-adds of one kernel call from its input and output shapes (0 when not a conv/matmul). */
export function kernelMacs(name: string, inputShapes: (number[] | null)[], outputShapes: number[][]): number {
  const prod = (s: number[] | null | undefined) => (s ? s.reduce((a, b) => a * b, 1) : 0)
  const out = outputShapes[0]
  switch (name) {
    case 'Conv2D':
    case 'FusedConv2D': {
      const f = inputShapes[1]
      return f && out ? prod(out) * f[0]! * f[1]! * f[2]! : 0
    }
    case 'Conv2DBackpropInput': {
      // inputs: dy, filter [kh, kw, in, out]: every dy element meets kh·kw·in weights
      const dy = inputShapes[0]
      const f = inputShapes[1]
      return dy && f ? prod(dy) * f[0]! * f[1]! * f[2]! : 0
    }
    case 'Conv2DBackpropFilter': {
      // inputs: x, dy; output: the filter [kh, kw, in, out]
      const dy = inputShapes[1]
      return dy && out ? prod(dy) * out[0]! * out[1]! * out[2]! : 0
    }
    case 'MatMul':
    case 'BatchMatMul':
    case '_FusedMatMul': {
      const a = inputShapes[0]
      return a && out ? prod(a) * out[out.length - 1]! : 0
    }
    default:
      return 0
  }
}

export const CONV_KERNELS = ['Conv2D', 'FusedConv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter']

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)))

/** A V8 profile node's category: where its self time counts. */
export function categorize(functionName: string, url: string): string {
  if (functionName === '(garbage collector)') return 'garbage collection'
  if (functionName === '(idle)') return 'idle'
  if (functionName === '(program)') return 'V8 and native code outside JavaScript'
  if (url.startsWith('wasm://') || /^(\$|wasm-function)/.test(functionName)) return 'WebAssembly (XNNPACK and tfjs-wasm kernels)'
  if (url.includes('/node_modules/@tensorflow/')) return 'tfjs JavaScript (engine, kernel dispatch, tensor bookkeeping)'
  const path = url.startsWith('file://') ? fileURLToPath(url) : url
  if (path.includes('/src/main/trainer/')) {
    const file = relative(resolve(ROOT, 'src/main/trainer'), path)
    const names: Record<string, string> = {
      'nn/kernels.ts': 'JS element-wise kernels (nn/kernels.ts: bias, activations, norms, GLU, pooling)',
      'model/params.ts': 'JS Adam, EMA and parameter tensors (model/params.ts)',
      'nn/augment.ts': 'JS augmentation (nn/augment.ts)',
      'train.ts': 'JS batch assembly from the uint8 cache (train.ts BatchSource)',
      'nn/tape.ts': 'JS tape (nn/tape.ts)',
      'nn/ops.ts': 'JS ops (nn/ops.ts)',
      'tf/wasm-kernels.ts': 'JS gradient kernels around XNNPACK (tf/wasm-kernels.ts)'
    }
    return names[file] ?? `JS ${file}`
  }
  // Calls into native addons (the native CPU kernels) are sampled as functions with no script.
  if (url === '' || url.startsWith('node:')) return 'Node.js internals and native addons (the native CPU kernels)'
  return 'other JavaScript'
}

interface CpuProfileNode {
  id: number
  callFrame: { functionName: string; url: string }
  hitCount?: number
}

export async function runProfile(c: TrainCase & { profileSteps: number }): Promise<ProfileResult> {
  await initBackend('wasm', { wasmThreads: 1 })
  const config = benchConfig({ ...c, backend: 'wasm' })
  const runner = await makeRunner(config, 'wasm', 1, () => undefined)
  const batches = new BatchSource(benchPixels(256, c.resolution), 256, c.resolution, config.seed, config.augment.xflip)
  const b = c.batch
  let seen = 0
  const release = (s: StepScalars) => {
    if (typeof s.gLoss !== 'number') tf.dispose([s.gLoss, s.dLoss, s.dReal, s.dFake, ...(s.r1 ? [s.r1] : [])] as tf.Tensor[])
  }
  const read = async (s: StepScalars) => {
    if (typeof s.gLoss !== 'number') await (s.gLoss as tf.Scalar).data()
  }
  try {
    for (let i = 0; i < Math.max(2, c.warmupSteps); i++) {
      batches.fill(runner.realBuffer(b), b, seen, runner.rng)
      seen += b
      const s = await runner.step(b)
      await read(s)
      release(s)
    }
    collectGarbage()

    // The loop's parts, timed separately.
    const parts = { batch: 0, step: 0, readLosses: 0, gc: 0, total: 0 }
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    for (let i = 0; i < c.profileSteps; i++) {
      let t = performance.now()
      batches.fill(runner.realBuffer(b), b, seen, runner.rng)
      seen += b
      parts.batch += performance.now() - t
      t = performance.now()
      const s = await runner.step(b)
      parts.step += performance.now() - t
      t = performance.now()
      await read(s) // every step here; the trainer reads every logEvery steps
      parts.readLosses += performance.now() - t
      release(s)
    }
    parts.total = performance.now() - t0
    const cpu = process.cpuUsage(cpu0)
    let t = performance.now()
    collectGarbage()
    const gcMs = performance.now() - t
    const n = c.profileSteps
    const perStep = { batch: parts.batch / n, step: parts.step / n, readLosses: parts.readLosses / n, gc: gcMs / GC_EVERY_STEPS, total: parts.total / n + gcMs / GC_EVERY_STEPS }

    // Every kernel of one step.
    batches.fill(runner.realBuffer(b), b, seen, runner.rng)
    seen += b
    let scalars: StepScalars | null = null
    t = performance.now()
    const info = await tf.profile(async () => {
      scalars = await runner.step(b)
      await read(scalars)
      return []
    })
    const profiledStepMs = performance.now() - t
    if (scalars) release(scalars)
    const rows = new Map<string, KernelRow>()
    let kernelMs = 0
    for (const k of info.kernels) {
      // `…__op` entries are op scopes around kernels that are listed themselves.
      if (k.name.endsWith('__op')) continue
      const ms = Number(k.kernelTimeMs) || 0
      kernelMs += ms
      const row = rows.get(k.name) ?? { name: k.name, calls: 0, ms: 0, macs: 0 }
      row.calls += 1
      row.ms += ms
      row.macs += kernelMacs(k.name, k.inputShapes as (number[] | null)[], k.outputShapes as number[][])
      rows.set(k.name, row)
    }

    // A V8 CPU profile of the same loop (GC as the trainer runs it: one full collection here).
    const session = new Session()
    session.connect()
    await session.post('Profiler.enable')
    await session.post('Profiler.setSamplingInterval', { interval: 200 })
    await session.post('Profiler.start')
    for (let i = 0; i < n; i++) {
      batches.fill(runner.realBuffer(b), b, seen, runner.rng)
      seen += b
      const s = await runner.step(b)
      if ((i + 1) % config.logEvery === 0 || i === n - 1) await read(s)
      release(s)
    }
    collectGarbage()
    const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: { nodes: CpuProfileNode[]; startTime: number; endTime: number; samples: number[] } }
    session.disconnect()
    const totalHits = profile.nodes.reduce((sum, node) => sum + (node.hitCount ?? 0), 0)
    const msPerHit = totalHits > 0 ? (profile.endTime - profile.startTime) / 1000 / totalHits : 0
    const categories = new Map<string, number>()
    const functions = new Map<string, { name: string; where: string; ms: number }>()
    for (const node of profile.nodes) {
      const hits = node.hitCount ?? 0
      if (!hits) continue
      const { functionName, url } = node.callFrame
      const category = categorize(functionName, url)
      categories.set(category, (categories.get(category) ?? 0) + (hits * msPerHit) / n)
      const where = url.startsWith('file://') ? relative(ROOT, fileURLToPath(url)) : url.replace(/^wasm:\/\/wasm\//, 'wasm module ')
      const key = `${functionName}@${where}`
      const f = functions.get(key) ?? { name: functionName || '(anonymous)', where, ms: 0 }
      f.ms += (hits * msPerHit) / n
      functions.set(key, f)
    }
    return {
      arch: config.model.arch,
      resolution: c.resolution,
      batch: b,
      model: { gChannels: config.model.gChannels, dChannels: config.model.dChannels, latentDim: config.model.latentDim },
      detail: `${describeActiveBackend()}, ${runner.describe()}`,
      steps: n,
      parts: perStep,
      cpuMsPerStep: (cpu.user + cpu.system) / 1000 / n,
      kernels: [...rows.values()].sort((x, y) => y.ms - x.ms),
      kernelMs,
      profiledStepMs,
      cpu: [...categories.entries()].map(([category, ms]) => ({ category, ms })).sort((x, y) => y.ms - x.ms),
      topFunctions: [...functions.values()].sort((x, y) => y.ms - x.ms).slice(0, 15)
    }
  } finally {
    await runner.dispose()
  }
}

/** Multiply-adds per cycle per core that the peak assumes: one 4-lane f32 SIMD multiply-add. */
export const MACS_PER_CYCLE = 4
/** With the native kernels' AVX2/FMA micro-kernel: two 8-lane fused multiply-adds a cycle. */
export const NATIVE_AVX2_MACS_PER_CYCLE = 16

/** The peak the convolutions are held against: WebAssembly SIMD's, or AVX2/FMA's when the native kernels ran them. */
export function macsPerCycle(detail: string): { macs: number; what: string } {
  return /native kernels \(AVX2/.test(detail)
    ? { macs: NATIVE_AVX2_MACS_PER_CYCLE, what: 'two 8-lane AVX2 fused multiply-adds' }
    : { macs: MACS_PER_CYCLE, what: 'one 4-lane WASM SIMD multiply-add' }
}

export function printProfile(p: ProfileResult, mhz: number, out: (line?: string) => void, parallel: { imagesPerSec: number; cores: number; detail: string } | null): void {
  const f1 = (x: number) => x.toFixed(1)
  const pct = (x: number, of: number) => `${((x / of) * 100).toFixed(0)}%`
  out(`${p.arch} ${p.resolution} px (G ${p.model.gChannels}, D ${p.model.dChannels}, z ${p.model.latentDim}), batch ${p.batch} — ${p.detail}`)
  const P = p.parts
  out(`  one step: ${f1(P.total)} ms (CPU ${f1(p.cpuMsPerStep)} ms) = step ${f1(P.step)} + batch assembly ${f1(P.batch)} + reading losses ${f1(P.readLosses)} + GC ${f1(P.gc)} (one full GC ÷ ${GC_EVERY_STEPS} steps), mean of ${p.steps}`)
  out(`  kernels in one profiled step (${f1(p.profiledStepMs)} ms with profiling; ${f1(p.kernelMs)} ms inside kernels):`)
  for (const k of p.kernels.slice(0, 14)) {
    const rate = k.macs > 0 && k.ms > 0 ? `  ${(k.macs / k.ms / 1e6).toFixed(2)} GMAC/s` : ''
    out(`    ${k.name.padEnd(28)} ${String(k.calls).padStart(4)} calls ${f1(k.ms).padStart(7)} ms ${pct(k.ms, p.kernelMs).padStart(4)}${rate}`)
  }
  const rest = p.kernels.slice(14)
  if (rest.length) out(`    ${`${rest.length} more kernels`.padEnd(28)} ${String(rest.reduce((s, k) => s + k.calls, 0)).padStart(4)} calls ${f1(rest.reduce((s, k) => s + k.ms, 0)).padStart(7)} ms`)
  const conv = p.kernels.filter((k) => CONV_KERNELS.includes(k.name))
  const convMs = conv.reduce((s, k) => s + k.ms, 0)
  const convMacs = conv.reduce((s, k) => s + k.macs, 0)
  const ghz = mhz / 1000
  if (convMs > 0 && ghz > 0) {
    const rate = convMacs / convMs / 1e6
    const per = macsPerCycle(p.detail)
    const peak = per.macs * ghz
    out(`  convolutions: ${(convMacs / 1e9).toFixed(2)} GMAC a step in ${f1(convMs)} ms = ${rate.toFixed(2)} GMAC/s, ${pct(rate, peak)} of one core's peak (${per.macs} multiply-adds a cycle, ${per.what}, × ${ghz.toFixed(2)} GHz = ${peak.toFixed(1)} GMAC/s)`)
    // On a busy machine wall time includes waiting for a core; CPU time does not.
    const busy = p.cpuMsPerStep > 0 && p.parts.total > 0 ? p.cpuMsPerStep / p.parts.total : 1
    if (busy < 0.9) {
      const cpuRate = rate / busy
      out(
        `    this process ran ${pct(busy, 1)} of the wall time (the machine was busy), so that is a lower bound; scaled to CPU time: ${cpuRate.toFixed(2)} GMAC/s, ${pct(cpuRate, peak)} (rough: a busy virtual machine's CPU accounting and clock are uncertain)`
      )
    }
    if (parallel) {
      const stepsPerSec = parallel.imagesPerSec / p.batch
      const machineRate = (convMacs * stepsPerSec) / 1e9
      out(
        `  whole machine (${parallel.detail}): ${parallel.imagesPerSec.toFixed(1)} img/s → ${machineRate.toFixed(2)} GMAC/s of convolution, ${pct(machineRate, peak * parallel.cores)} of ${parallel.cores} cores' peak (${(peak * parallel.cores).toFixed(1)} GMAC/s)`
      )
    }
  }
  out(`  where the time goes (V8 sampling profile, ms per step):`)
  const total = p.cpu.filter((c) => c.category !== 'idle').reduce((s, c) => s + c.ms, 0)
  for (const c of p.cpu) if (c.category !== 'idle') out(`    ${f1(c.ms).padStart(7)} ms ${pct(c.ms, total).padStart(4)}  ${c.category}`)
  out(`  busiest functions (self time, ms per step):`)
  for (const fn of p.topFunctions.slice(0, 10)) out(`    ${f1(fn.ms).padStart(7)} ms  ${fn.name} ${fn.where}`)
}
