import type { RunConfig } from '@shared/config'
import type { StepInputs } from '../model/gan'
import type { StepNumbers } from '../model/runner'

/** Shared arrays of one network: values, Adam moments, EMA (generator only). */
export interface NetBuffers {
  values: Float32Array
  m: Float32Array
  v: Float32Array
  ema: Float32Array | null
}

/** What a worker starts with (worker_threads workerData). */
export interface WorkerInit {
  config: RunConfig
  index: number
  workers: number
  g: NetBuffers
  d: NetBuffers
  /** One gradient slot per worker, each the network's size. */
  gGrads: Float32Array
  dGrads: Float32Array
  /** The step's real images, NHWC in [-1, 1]. */
  real: Float32Array
}

export type ToWorker =
  | { type: 'grads'; from: number; to: number; total: number; inputs: StepInputs }
  | { type: 'update'; gStep: number; dStep: number; emaDecay: number }
  | { type: 'generate'; latents: Float32Array; count: number }

export type FromWorker =
  | { type: 'ready'; backend: string }
  | { type: 'grads'; scalars: StepNumbers }
  | { type: 'updated' }
  | { type: 'images'; images: Float32Array }
  | { type: 'error'; message: string }

/** [from, to) of `size` floats that worker `index` of `workers` updates. */
export function shareOf(size: number, index: number, workers: number): [number, number] {
  const per = Math.ceil(size / workers)
  return [Math.min(size, index * per), Math.min(size, (index + 1) * per)]
}

/** slots[from,to) ← Σ_k slot k [from,to), in slot order (the same sum on every run). */
export function reduceSlots(slots: Float32Array, size: number, workers: number, from: number, to: number): void {
  for (let k = 1; k < workers; k++) {
    const base = k * size
    for (let i = from; i < to; i++) slots[i] = slots[i]! + slots[base + i]!
  }
}
