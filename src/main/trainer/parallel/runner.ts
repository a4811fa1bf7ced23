import { Worker } from 'node:worker_threads'
import type { RunConfig } from '@shared/config'
import { StudioError } from '@shared/errors'
import { locateBuilt } from '../../util/locate'
import type { BaseSpec, ModelFamily } from '../model/family'
import { emaDecayAt, Gan, ganOptionsFromConfig, sliceInputs, type GanState } from '../model/gan'
import type { FlatNet } from '../model/params'
import type { Rng } from '../model/rng'
import type { GanRunner, StepNumbers } from '../model/runner'
import type { FromWorker, ToWorker, WorkerInit } from './shared'

/**
 * Data-parallel training on CPU cores: each step's batch is split into one shard per worker
 * thread; every worker runs a single-threaded wasm backend on its shard, writes its gradients
 * into shared memory, and after all have finished each one sums the shards' gradients over its
 * own slice of the parameters and applies Adam and the EMA there. The coordinator (this thread)
 * draws all of the step's randomness, so a run depends on its seed and worker count only.
 *
 * Why: XNNPACK's own threads speed up only the large convolutions (the element-wise work, small
 * convolutions and the JavaScript between kernels run on one thread), while shards on separate
 * threads keep every core busy for the whole step.
 */

/** Smallest shard worth a worker of its own. */
const MIN_SHARD = 4
/** Worker threads at most (each holds a copy of the activations of its shard). */
const MAX_WORKERS = 8

/** Workers for `batch` images on `cores` cores (1 means: no point in going parallel). */
export function workersFor(batch: number, cores: number): number {
  return Math.max(1, Math.min(MAX_WORKERS, cores, Math.floor(batch / MIN_SHARD)))
}

interface Pending {
  resolve: (msg: FromWorker) => void
  reject: (err: Error) => void
}

class WorkerHandle {
  private pending: Pending | null = null
  private failure: Error | null = null

  constructor(
    readonly worker: Worker,
    readonly index: number
  ) {
    worker.on('message', (msg: FromWorker) => {
      const p = this.pending
      this.pending = null
      if (!p) return
      if (msg.type === 'error') p.reject(new StudioError('crashed', `Training worker ${index + 1} failed: ${msg.message}`))
      else p.resolve(msg)
    })
    const fail = (err: Error): void => {
      this.failure = err
      const p = this.pending
      this.pending = null
      p?.reject(err)
    }
    worker.on('error', (err) => fail(new StudioError('crashed', `Training worker ${index + 1} crashed: ${err.message}`)))
    worker.on('exit', (code) => {
      if (code !== 0) fail(new StudioError('crashed', `Training worker ${index + 1} stopped unexpectedly (exit code ${code}).`))
    })
  }

  /** Waits for the next message (ready, or the reply to `msg`). */
  request(msg?: ToWorker, transfer: ArrayBuffer[] = []): Promise<FromWorker> {
    if (this.failure) return Promise.reject(this.failure)
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject }
      if (msg) this.worker.postMessage(msg, transfer)
    })
  }
}

export class ParallelRunner implements GanRunner {
  private constructor(
    private readonly gan: Gan,
    private readonly workers: WorkerHandle[],
    private readonly real: Float32Array
  ) {}

  /**
   * Starts `count` workers for `config` (parameters initialised from the config's seed). Fails
   * with a StudioError when the built worker file is missing or a worker cannot start.
   */
  static async start(config: RunConfig, count: number): Promise<ParallelRunner> {
    const entry = locateBuilt('main/train-worker.js', import.meta.url)
    const gan = new Gan(ganOptionsFromConfig(config), true)
    const g = gan.g as FlatNet
    const d = gan.d as FlatNet
    const shared = (floats: number): Float32Array => new Float32Array(new SharedArrayBuffer(floats * 4))
    const r = config.preprocess.resolution
    const gGrads = shared(count * g.layout.size)
    const dGrads = shared(count * d.layout.size)
    const real = shared(config.batchSize * r * r * 3)
    const handles: WorkerHandle[] = []
    try {
      for (let index = 0; index < count; index++) {
        const init: WorkerInit = {
          config,
          index,
          workers: count,
          g: { values: g.values, m: g.m, v: g.v, ema: g.ema },
          d: { values: d.values, m: d.m, v: d.v, ema: null },
          gGrads,
          dGrads,
          real
        }
        handles.push(new WorkerHandle(new Worker(entry, { workerData: init }), index))
      }
      await Promise.all(handles.map((h) => h.request()))
    } catch (err) {
      await Promise.all(handles.map((h) => h.worker.terminate()))
      gan.dispose()
      throw err
    }
    return new ParallelRunner(gan, handles, real)
  }

  get family(): ModelFamily {
    return this.gan.family
  }

  get spec(): BaseSpec {
    return this.gan.spec
  }

  get rng(): Rng {
    return this.gan.rng
  }

  realBuffer(batch: number): Float32Array {
    const r = this.spec.resolution
    return this.real.subarray(0, batch * r * r * 3)
  }

  async step(batch: number): Promise<StepNumbers> {
    const inputs = this.gan.drawInputs(batch, this.spec.resolution)
    const n = this.workers.length
    const replies = await Promise.all(
      this.workers.map((w, i) => {
        const from = Math.floor((i * batch) / n)
        const to = Math.floor(((i + 1) * batch) / n)
        return w.request({ type: 'grads', from, to, total: batch, inputs: sliceInputs(inputs, this.spec.latentDim, from, to) })
      })
    )
    const sum: StepNumbers = { gLoss: 0, dLoss: 0, dReal: 0, dFake: 0, r1: inputs.applyR1 ? 0 : null }
    for (const reply of replies) {
      if (reply.type !== 'grads') throw new Error(`unexpected reply ${reply.type}`)
      const s = reply.scalars
      sum.gLoss += s.gLoss
      sum.dLoss += s.dLoss
      sum.dReal += s.dReal
      sum.dFake += s.dFake
      if (sum.r1 !== null) sum.r1 += s.r1 ?? 0
    }
    const g = this.gan.g
    const d = this.gan.d
    g.step += 1
    d.step += 1
    const { enabled, decay } = this.gan.options.ema
    const emaDecay = enabled ? emaDecayAt(decay, g.step) : 0
    await Promise.all(this.workers.map((w) => w.request({ type: 'update', gStep: g.step, dStep: d.step, emaDecay })))
    return sum
  }

  async generate(latents: Float32Array, count: number): Promise<Float32Array> {
    const reply = await this.workers[0]!.request({ type: 'generate', latents, count })
    if (reply.type !== 'images') throw new Error(`unexpected reply ${reply.type}`)
    return reply.images
  }

  state(): Promise<GanState> {
    return this.gan.state()
  }

  async load(state: GanState): Promise<void> {
    this.gan.load(state)
  }

  describe(): string {
    return `${this.workers.length} worker threads`
  }

  async dispose(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()))
    this.gan.dispose()
  }
}
