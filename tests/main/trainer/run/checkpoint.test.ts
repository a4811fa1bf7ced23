import { promises as fsp } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { beforeEach, describe, expect, it } from 'vitest'
import { RunConfigSchema } from '@shared/config'
import { latestGoodCheckpoint, listCheckpoints, loadCheckpoint, saveCheckpoint } from '../../../../src/main/trainer/run/checkpoint'

const config = RunConfigSchema.parse({ source: '/x' })
const meta = (step: number) => ({ step, imagesSeen: step * 4, trainingMs: step, appVersion: 'test', config, rng: [1, 2, 3, 4] as [number, number, number, number], gOptStep: step, dOptStep: step })

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gs-ckpt-'))
})

describe('checkpoints', () => {
  it('round-trips tensors, counters and RNG state', async () => {
    const a = tf.tensor([[1, 2], [3, 4]])
    const b = tf.tensor([0.5, -0.25, 8])
    await saveCheckpoint(dir, meta(10), { 'g/a': a, 'd/b': b })
    const ck = await loadCheckpoint(dir)
    expect(ck.name).toBe('step-000010')
    expect(ck.manifest.step).toBe(10)
    expect(ck.manifest.rng).toEqual([1, 2, 3, 4])
    expect(ck.tensors['g/a']!.shape).toEqual([2, 2])
    expect(Array.from(ck.tensors['g/a']!.data)).toEqual([1, 2, 3, 4])
    expect(Array.from(ck.tensors['d/b']!.data)).toEqual([0.5, -0.25, 8])
    tf.dispose([a, b])
  })

  it('falls back to the previous good checkpoint when the newest is damaged or half-written', async () => {
    const t = tf.ones([64])
    await saveCheckpoint(dir, meta(1), { t })
    await saveCheckpoint(dir, meta(2), { t })
    // A crash mid-write leaves a temporary folder: never a candidate.
    await fsp.mkdir(join(dir, 'checkpoints', 'step-000003.tmp-99999-1'), { recursive: true })
    // The newest one is damaged: truncate its tensor file.
    const bin = join(dir, 'checkpoints', 'step-000002', 'tensors.bin')
    await fsp.truncate(bin, 10)
    const skipped: string[] = []
    const good = await latestGoodCheckpoint(dir, (name) => skipped.push(name))
    expect(good?.name).toBe('step-000001')
    expect(skipped).toEqual(['step-000002'])
    // A flipped byte is caught by the checksum too.
    await saveCheckpoint(dir, meta(4), { t })
    const bin4 = join(dir, 'checkpoints', 'step-000004', 'tensors.bin')
    const bytes = await fsp.readFile(bin4)
    bytes[5] = bytes[5]! ^ 0xff
    await fsp.writeFile(bin4, bytes)
    expect((await latestGoodCheckpoint(dir))?.name).toBe('step-000001')
    t.dispose()
  })

  it('keeps only the newest three', async () => {
    const t = tf.ones([4])
    for (const s of [1, 2, 3, 4, 5]) await saveCheckpoint(dir, meta(s), { t })
    expect(await listCheckpoints(dir)).toEqual(['step-000005', 'step-000004', 'step-000003'])
    t.dispose()
  })

  it('says clearly when there is none', async () => {
    await expect(loadCheckpoint(dir)).rejects.toThrow(/has no checkpoint yet/)
    await expect(loadCheckpoint(dir, '../../etc')).rejects.toThrow(/not a checkpoint name/)
    await expect(loadCheckpoint(dir, 'step-000123')).rejects.toThrow(/No checkpoint step-000123/)
  })
})
