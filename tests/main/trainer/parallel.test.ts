import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { RunConfigSchema } from '@shared/config'
import { ganOptionsFromConfig } from '../../../src/main/trainer/model/gan'
import { LocalRunner, type GanRunner, type StepNumbers } from '../../../src/main/trainer/model/runner'
import { ParallelRunner, workersFor } from '../../../src/main/trainer/parallel/runner'
import { shareOf } from '../../../src/main/trainer/parallel/shared'
import { locateBuilt } from '../../../src/main/util/locate'
import { useWasm } from '../../helpers/backend'

/**
 * Data-parallel training: the same steps as one thread up to float rounding (the gradient sums
 * are added in another order), bit-for-bit reproducible for a given worker count, and resumable.
 * The workers run the built `out/main/train-worker.js` (`npm test` builds before this stage).
 */

const config = RunConfigSchema.parse({
  source: '/x',
  batchSize: 8,
  seed: 3,
  model: { gChannels: 8, dChannels: 8, latentDim: 16 },
  augment: { color: true, translation: true, cutout: true },
  loss: { r1Gamma: 1, r1Every: 2 }
})

function fillReal(runner: GanRunner, step: number): void {
  const buf = runner.realBuffer(config.batchSize)
  for (let i = 0; i < buf.length; i++) buf[i] = Math.sin(i * 0.37 + step * 1.3)
}

async function train(runner: GanRunner, steps: number, from = 0): Promise<StepNumbers[]> {
  const out: StepNumbers[] = []
  for (let s = from; s < from + steps; s++) {
    fillReal(runner, s)
    const r = await runner.step(config.batchSize)
    if (typeof r.gLoss === 'number') out.push(r as StepNumbers)
    else {
      const t = r as unknown as Record<string, tf.Scalar | null>
      const num = (k: string): number => t[k]!.dataSync()[0]!
      out.push({ gLoss: num('gLoss'), dLoss: num('dLoss'), dReal: num('dReal'), dFake: num('dFake'), r1: t.r1 ? num('r1') : null })
      tf.dispose(Object.values(t).filter((v): v is tf.Scalar => v !== null))
    }
  }
  return out
}

async function weights(runner: GanRunner): Promise<Float32Array> {
  const s = await runner.state()
  return Float32Array.from([...s.tensors['g/rgb/kernel']!.data, ...s.tensors['d/out/kernel']!.data, ...s.tensors['ema/g/dense/kernel']!.data.slice(0, 256)])
}

beforeAll(async () => {
  await useWasm()
  locateBuilt('main/train-worker.js', import.meta.url) // fails with "Run `npm run build` first" when absent
})

describe('data-parallel training', () => {
  it('splits work sensibly', () => {
    expect(workersFor(32, 2)).toBe(2)
    expect(workersFor(4, 8)).toBe(1)
    expect(workersFor(256, 64)).toBe(8)
    const parts = [0, 1, 2].map((i) => shareOf(10, i, 3))
    expect(parts).toEqual([[0, 4], [4, 8], [8, 10]])
  })

  it('matches one thread, and repeats itself exactly for the same seed and worker count', async () => {
    const local = new LocalRunner(ganOptionsFromConfig(config))
    const a = await ParallelRunner.start(config, 2)
    const b = await ParallelRunner.start(config, 2)
    try {
      const [lr, ar, br] = [await train(local, 4), await train(a, 4), await train(b, 4)]
      expect(br).toEqual(ar)
      expect(await weights(b)).toEqual(await weights(a))
      ar.forEach((s, i) => {
        expect(s.gLoss).toBeCloseTo(lr[i]!.gLoss, 3)
        expect(s.dLoss).toBeCloseTo(lr[i]!.dLoss, 3)
        expect(s.dReal).toBeCloseTo(lr[i]!.dReal, 3)
      })
      expect(ar[1]!.r1).not.toBeNull()
      const [wl, wa] = [await weights(local), await weights(a)]
      let maxDiff = 0
      for (let i = 0; i < wl.length; i++) maxDiff = Math.max(maxDiff, Math.abs(wl[i]! - wa[i]!))
      expect(maxDiff).toBeLessThan(1e-4)
      const images = await a.generate(new Float32Array(2 * 16).fill(0.5), 2)
      expect(images.length).toBe(2 * 32 * 32 * 3)
      expect(images.every((v) => v >= -1 && v <= 1)).toBe(true)
    } finally {
      await Promise.all([local.dispose(), a.dispose(), b.dispose()])
    }
  })

  it('continues exactly from saved state', async () => {
    const a = await ParallelRunner.start(config, 2)
    const b = await ParallelRunner.start({ ...config, seed: 99 }, 2)
    try {
      await train(a, 3)
      const state = await a.state()
      const expected = await train(a, 2, 3)
      await b.load(state)
      expect(await train(b, 2, 3)).toEqual(expected)
      expect(await weights(b)).toEqual(await weights(a))
    } finally {
      await Promise.all([a.dispose(), b.dispose()])
    }
  })
})
