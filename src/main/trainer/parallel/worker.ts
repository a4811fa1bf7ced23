import { parentPort, workerData } from 'node:worker_threads'
import * as tf from '@tensorflow/tfjs'
import { ganOptionsFromConfig, stepGradients, type StepContext } from '../model/gan'
import { FlatNet, gatherGrads, makeLayout, type Layout } from '../model/params'
import type { Params } from '../model/family'
import type { StepNumbers } from '../model/runner'
import { initBackend } from '../tf/backends'
import { collectGarbage, GC_EVERY_STEPS } from '../tf/memory'
import { reduceSlots, shareOf, type FromWorker, type ToWorker, type WorkerInit } from './shared'

/**
 * One data-parallel training worker: a single-threaded wasm backend that computes one shard's
 * gradients per step into its own slot of shared memory, then, once every worker is done, sums
 * the slots over its share of the parameters and applies Adam and the EMA there. Parameters,
 * moments and the EMA live in SharedArrayBuffers that every worker and the coordinator see.
 */

const init = workerData as WorkerInit
const port = parentPort!

function send(msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(msg, transfer)
}

async function main(): Promise<void> {
  await initBackend('wasm', { wasmThreads: 1 })
  const options = ganOptionsFromConfig(init.config)
  const { family, spec } = options
  const o = options.optimizer
  const gLayout: Layout = makeLayout(family.generatorParams(spec))
  const dLayout: Layout = makeLayout(family.discriminatorParams(spec))
  const g = new FlatNet(gLayout, { lr: o.gLr, beta1: o.gBeta1, beta2: o.gBeta2 }, true, undefined, init.g)
  const d = new FlatNet(dLayout, { lr: o.dLr, beta1: o.dBeta1, beta2: o.dBeta2 }, false, undefined, init.d)
  const dNames = dLayout.slots.map((s) => s.name)
  const r = spec.resolution
  const imageSize = r * r * 3
  let steps = 0

  const onMessage = (msg: ToWorker): void => {
    if (msg.type === 'grads') {
      // Parameters changed since the last step (or were loaded): make their tensors afresh.
      g.invalidate()
      d.invalidate()
      const gp = g.lookup()
      const dp = d.lookup()
      const params: Params = (name) => (name.startsWith('g/') ? gp(name) : dp(name))
      const ctx: StepContext = { family, spec, options, params, dNames }
      const n = msg.to - msg.from
      const real = tf.tensor4d(init.real.subarray(msg.from * imageSize, msg.to * imageSize), [n, r, r, 3])
      const { gGrads, dGrads, scalars } = stepGradients(ctx, real, msg.inputs, msg.total)
      real.dispose()
      gatherGrads(gLayout, gGrads, init.gGrads.subarray(init.index * gLayout.size, (init.index + 1) * gLayout.size))
      gatherGrads(dLayout, dGrads, init.dGrads.subarray(init.index * dLayout.size, (init.index + 1) * dLayout.size))
      const numbers: StepNumbers = {
        gLoss: scalars.gLoss.dataSync()[0]!,
        dLoss: scalars.dLoss.dataSync()[0]!,
        dReal: scalars.dReal.dataSync()[0]!,
        dFake: scalars.dFake.dataSync()[0]!,
        r1: scalars.r1 ? scalars.r1.dataSync()[0]! : null
      }
      tf.dispose([...gGrads.values(), ...dGrads.values(), scalars.gLoss, scalars.dLoss, scalars.dReal, scalars.dFake, scalars.r1 ?? []])
      if (++steps % GC_EVERY_STEPS === 0) collectGarbage()
      send({ type: 'grads', scalars: numbers })
    } else if (msg.type === 'update') {
      const [gFrom, gTo] = shareOf(gLayout.size, init.index, init.workers)
      reduceSlots(init.gGrads, gLayout.size, init.workers, gFrom, gTo)
      g.adamRange(init.gGrads, msg.gStep, gFrom, gTo)
      g.emaRange(msg.emaDecay, gFrom, gTo)
      const [dFrom, dTo] = shareOf(dLayout.size, init.index, init.workers)
      reduceSlots(init.dGrads, dLayout.size, init.workers, dFrom, dTo)
      d.adamRange(init.dGrads, msg.dStep, dFrom, dTo)
      send({ type: 'updated' })
    } else if (msg.type === 'generate') {
      g.invalidate()
      const p = g.lookup(true)
      const images = tf.tidy(() => family.generate(spec, p, tf.tensor2d(msg.latents, [msg.count, spec.latentDim]), null, { training: false }))
      const data = images.dataSync() as Float32Array
      images.dispose()
      const copy = data.slice()
      send({ type: 'images', images: copy }, [copy.buffer])
    }
  }

  port.on('message', (msg: ToWorker) => {
    try {
      onMessage(msg)
    } catch (err) {
      send({ type: 'error', message: err instanceof Error ? err.message : String(err) })
    }
  })
  send({ type: 'ready', backend: tf.getBackend() })
}

main().catch((err: unknown) => send({ type: 'error', message: err instanceof Error ? err.message : String(err) }))
