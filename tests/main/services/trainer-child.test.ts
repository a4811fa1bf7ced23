import { describe, expect, it, vi } from 'vitest'
import type { RunJson } from '@shared/runs'
import { serveTrainer, type TrainJobOptions } from '../../../src/main/trainer/process'
import type { ChildMessage, HostMessage } from '../../../src/main/trainer/child-messages'
import { mergeProgress } from '../../../src/main/trainer/progress-coalescer'
import { fakeRun, tick, until } from './fakes'

/** The child's side of the protocol (src/main/trainer/process.ts) on an in-memory port. */
function port() {
  const out: ChildMessage[] = []
  let listener: ((m: HostMessage) => void) | null = null
  return {
    out,
    port: { postMessage: (m: ChildMessage) => out.push(m), onMessage: (l: (m: HostMessage) => void) => (listener = l) },
    send: (m: HostMessage | { type: 'nonsense' }) => listener?.(m as HostMessage)
  }
}
const init: HostMessage = { type: 'init', datasetsDir: '/d', backendCacheFile: '/c/backends.json', progressIntervalMs: 0 }

describe('the trainer child', () => {
  it('says ready first, refuses jobs before init, ignores unknown messages', async () => {
    const p = port()
    serveTrainer(p.port, { deps: { trainRun: vi.fn() } })
    expect(p.out[0]).toMatchObject({ type: 'ready' })
    p.send({ type: 'nonsense' })
    p.send({ type: 'job', jobId: 'j1', method: 'train', input: { runDir: '/r' } })
    await tick()
    expect(p.out[1]).toEqual({ type: 'failed', jobId: 'j1', error: { code: 'internal', message: 'The trainer was not initialised.' } })
  })

  it('runs a train job with the init paths and control flags, coalescing progress', async () => {
    const p = port()
    let seen: TrainJobOptions | null = null
    const trainRun = async (opts: TrainJobOptions): Promise<RunJson> => {
      seen = opts
      for (let step = 1; step <= 100; step++) opts.emit!({ type: 'progress', progress: { runId: 'r', step, steps: 100, imagesPerSec: 1, etaMs: null, metric: null } })
      opts.emit!({ type: 'sample', sample: { runId: 'r', step: 100, file: 'samples/step-000100.png' } })
      while (!opts.control!.stop) await tick(1)
      return fakeRun({ id: 'r', status: 'stopped' })
    }
    serveTrainer(p.port, { deps: { trainRun } })
    p.send({ ...init, progressIntervalMs: 1000 })
    p.send({ type: 'job', jobId: 'j1', method: 'train', input: { runDir: '/runs/r' } })
    await until(() => expect(seen).not.toBeNull())
    expect(seen).toMatchObject({ runDir: '/runs/r', datasetsDir: '/d', backendCacheFile: '/c/backends.json' })
    const events = p.out.filter((m): m is Extract<ChildMessage, { type: 'event' }> => m.type === 'event').map((m) => m.event)
    // The first progress, then the newest pending one flushed before the sample: order kept, 2 not 100.
    expect(events.map((e) => (e.type === 'progress' ? e.progress.step : e.type))).toEqual([1, 100, 'sample'])
    p.send({ type: 'control', jobId: 'j1', pause: true })
    expect(seen!.control).toEqual({ pause: true, stop: false })
    p.send({ type: 'control', jobId: 'j1', stop: true })
    await until(() => expect(p.out.at(-1)).toMatchObject({ type: 'done', jobId: 'j1', output: { status: 'stopped' } }))
  })

  it('runs tensor jobs side by side with the init cache file, and cancel aborts only the one named', async () => {
    const p = port()
    const walk = vi.fn(async (_input: { runDir: string }, ctx: { signal: AbortSignal; backendCacheFile: string | null; emit: (e: never) => void }) => {
      ctx.emit({ type: 'job-progress', phase: 'render', done: 1, total: 10 } as never)
      while (!ctx.signal.aborted) await tick(1)
      throw Object.assign(new Error('The walk was cancelled.'), { code: 'cancelled' })
    })
    const generate = vi.fn(async () => ({ checkpoint: 'step-000001', step: 1, resolution: 32, outDir: null, images: [], sheet: null }))
    serveTrainer(p.port, { deps: { walk, generate } })
    p.send(init)
    p.send({ type: 'job', jobId: 'w', method: 'walk', input: { runDir: '/runs/r', seeds: [1, 2], seconds: 1, fps: 10, format: 'gif', truncation: 1, upscale: 1 } })
    await until(() => expect(walk).toHaveBeenCalled())
    expect(walk.mock.calls[0]![1].backendCacheFile).toBe('/c/backends.json')
    // Another job is answered while the walk is still running.
    p.send({ type: 'job', jobId: 'g', method: 'generate', input: { runDir: '/runs/r', seeds: [1], truncation: 1, upscale: 1, sheet: false, save: false, collection: 'images' } })
    await until(() => expect(p.out.some((m) => m.type === 'done' && m.jobId === 'g')).toBe(true))
    expect(p.out).toContainEqual({ type: 'event', jobId: 'w', event: { type: 'job-progress', phase: 'render', done: 1, total: 10 } })
    expect(p.out.some((m) => 'jobId' in m && m.jobId === 'w' && m.type !== 'event')).toBe(false)
    p.send({ type: 'cancel', jobId: 'g' })
    p.send({ type: 'cancel', jobId: 'w' })
    await until(() => expect(p.out.at(-1)).toEqual({ type: 'failed', jobId: 'w', error: { code: 'cancelled', message: 'The walk was cancelled.' } }))
  })

  it('exit stops every job, then calls onExit once they have ended', async () => {
    const p = port()
    const onExit = vi.fn()
    const trainRun = async (opts: TrainJobOptions): Promise<RunJson> => {
      while (!opts.control!.stop) await tick(1)
      return fakeRun({ status: 'stopped' })
    }
    serveTrainer(p.port, { deps: { trainRun }, onExit })
    p.send(init)
    p.send({ type: 'job', jobId: 'j1', method: 'train', input: { runDir: '/r' } })
    await tick()
    p.send({ type: 'exit' })
    expect(onExit).not.toHaveBeenCalled()
    await until(() => expect(onExit).toHaveBeenCalledTimes(1))
    p.send({ type: 'job', jobId: 'j2', method: 'train', input: { runDir: '/r' } })
    expect(p.out.at(-1)).toMatchObject({ type: 'failed', jobId: 'j2', error: { code: 'cancelled' } })
  })

  it('probe passes the cache file and the calibrate flag; errors come back as { code, message }', async () => {
    const p = port()
    const probeBackends = vi.fn(async () => [])
    const trainRun = vi.fn(async () => {
      throw Object.assign(new Error('ENOENT: no such file, open /runs/x/run.json'), { code: 'ENOENT', path: '/runs/x/run.json' })
    })
    serveTrainer(p.port, { deps: { probeBackends, trainRun } })
    p.send(init)
    p.send({ type: 'job', jobId: 'p1', method: 'probe', input: { calibrate: true } })
    p.send({ type: 'job', jobId: 't1', method: 'train', input: { runDir: '/runs/x' } })
    await until(() => expect(p.out.filter((m) => m.type === 'done' || m.type === 'failed')).toHaveLength(2))
    expect(probeBackends).toHaveBeenCalledWith({ backendCacheFile: '/c/backends.json', calibrate: true })
    expect(p.out.find((m) => m.type === 'failed')).toEqual({
      type: 'failed',
      jobId: 't1',
      error: { code: 'not-found', message: 'Not found: /runs/x/run.json' }
    })
  })
})

describe('mergeProgress', () => {
  const p = (step: number, withMetric: boolean) => ({
    runId: 'r', step, steps: 10, imagesPerSec: 1, etaMs: null,
    metric: withMetric ? { step, t: 0, imagesSeen: 0, gLoss: 0, dLoss: 0, dReal: 0, dFake: 0, imagesPerSec: 0 } : null
  })
  it('replaces, carries a pending metric along, and sends a pending metric before another', () => {
    expect(mergeProgress(null, p(1, false))).toEqual({ send: null, pending: p(1, false) })
    expect(mergeProgress(p(1, false), p(2, false))).toEqual({ send: null, pending: p(2, false) })
    expect(mergeProgress(p(1, false), p(2, true))).toEqual({ send: null, pending: p(2, true) })
    expect(mergeProgress(p(2, true), p(3, false))).toEqual({ send: null, pending: { ...p(3, false), metric: p(2, true).metric } })
    expect(mergeProgress(p(2, true), p(4, true))).toEqual({ send: p(2, true), pending: p(4, true) })
  })
})
