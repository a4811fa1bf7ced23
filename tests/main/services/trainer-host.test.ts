import { describe, expect, it } from 'vitest'
import type { TrainProgress } from '@shared/contract'
import type { RunJson } from '@shared/runs'
import { describeExit } from '../../../src/main/services/child-connection'
import { TrainerHost, type TrainerHostOptions } from '../../../src/main/services/trainer-host'
import type { TrainJobOptions } from '../../../src/main/trainer/process'
import { fakeRun, fakeSpawner, inProcessSpawner, memoryStore, recorder, tick, until, type FakeChild } from './fakes'

function progress(runId: string, step: number): TrainProgress {
  return { runId, step, steps: 100, imagesPerSec: 10, etaMs: 1000, metric: null }
}

function setup(options: Partial<TrainerHostOptions> = {}, runs: Record<string, Partial<RunJson>> = {}) {
  const spawner = fakeSpawner()
  const events = recorder()
  const store = memoryStore({
    '/runs/a': { id: 'a', status: 'stopped' },
    '/runs/b': { id: 'b', status: 'stopped' },
    '/runs/c': { id: 'c', status: 'stopped' },
    ...runs
  })
  const host = new TrainerHost({
    spawn: spawner.spawn,
    emit: events.emit,
    store,
    datasetsDir: '/datasets',
    backendCacheFile: '/cache/backends.json',
    exitGraceMs: 50,
    ...options
  })
  return { host, events, store, children: spawner.children }
}

/** Plays a child through ready → running. */
async function startChild(child: FakeChild, runId: string): Promise<void> {
  child.post({ type: 'ready', pid: 1234 })
  await tick()
  child.post({ type: 'event', jobId: child.jobId, event: { type: 'status', runId, status: 'running', error: null } })
}

function finishChild(child: FakeChild, run: RunJson): void {
  child.post({ type: 'done', jobId: child.jobId, output: run })
}

describe('TrainerHost: the final status', () => {
  it('says stopped only once the job is gone, so a client re-reading the run then sees it stopped', async () => {
    const { host, children, events } = setup()
    host.enqueue('a', '/runs/a')
    await startChild(children[0]!, 'a')
    const seenLive: Array<string | null> = []
    children[0]!.post({ type: 'event', jobId: children[0]!.jobId, event: { type: 'status', runId: 'a', status: 'stopped', error: null } })
    await tick()
    // The child has said it stopped but has not ended its job: the run still has a live job, and no
    // final status has been sent yet (a client told "stopped" now would re-read it as training).
    seenLive.push(host.job('a')?.state ?? null)
    expect(events.of('train.status').map((s) => s.status)).toEqual(['running'])
    finishChild(children[0]!, fakeRun({ id: 'a', status: 'stopped' }))
    await until(() => expect(events.of('train.status').map((s) => s.status)).toEqual(['running', 'stopped']))
    expect(host.job('a')).toBeNull()
    expect(seenLive).toEqual(['stopping'])
  })
})

describe('TrainerHost: the queue', () => {
  it('runs one job at a time, in the order queued', async () => {
    const { host, children, events } = setup()
    expect(host.enqueue('a', '/runs/a').position).toBe(0)
    expect(host.enqueue('b', '/runs/b').position).toBe(1)
    expect(host.enqueue('c', '/runs/c').position).toBe(2)
    expect(children).toHaveLength(1)
    expect(host.jobs().map((j) => [j.runId, j.state])).toEqual([
      ['a', 'starting'],
      ['b', 'queued'],
      ['c', 'queued']
    ])

    await startChild(children[0]!, 'a')
    expect(children[0]!.sent[0]).toEqual({ type: 'init', datasetsDir: '/datasets', backendCacheFile: '/cache/backends.json', progressIntervalMs: 100 })
    expect(children[0]!.job).toMatchObject({ method: 'train', input: { runDir: '/runs/a' } })
    expect(host.job('a')?.state).toBe('running')

    finishChild(children[0]!, fakeRun({ id: 'a', status: 'completed' }))
    await until(() => expect(children).toHaveLength(2))
    expect(children[0]!.sent.at(-1)).toEqual({ type: 'exit' })
    await startChild(children[1]!, 'b')
    expect(children[1]!.job?.input).toEqual({ runDir: '/runs/b' })
    finishChild(children[1]!, fakeRun({ id: 'b', status: 'completed' }))
    await until(() => expect(children).toHaveLength(3))
    await startChild(children[2]!, 'c')
    expect(children[2]!.job?.input).toEqual({ runDir: '/runs/c' })
    finishChild(children[2]!, fakeRun({ id: 'c', status: 'completed' }))
    await until(() => expect(host.jobs()).toEqual([]))

    const statuses = events.of('train.status').map((s) => `${s.runId}:${s.status}`)
    expect(statuses).toEqual(['a:running', 'a:completed', 'b:running', 'b:completed', 'c:running', 'c:completed'])
    expect(events.of('train.log').some((l) => l.runId === 'b' && /Queued/.test(l.message))).toBe(true)
  })

  it('refuses to queue a run twice', () => {
    const { host } = setup()
    host.enqueue('a', '/runs/a')
    expect(() => host.enqueue('a', '/runs/a')).toThrow(/already training or waiting/)
  })

  it('stop and pause take a queued run out of the queue and record it', async () => {
    const { host, children, store, events } = setup()
    host.enqueue('a', '/runs/a')
    host.enqueue('b', '/runs/b')
    host.enqueue('c', '/runs/c')
    await host.stop('b')
    await host.pause('c')
    expect(host.jobs().map((j) => j.runId)).toEqual(['a'])
    expect(store.runs['/runs/b']!.status).toBe('stopped')
    expect(store.runs['/runs/c']!.status).toBe('paused')
    expect(events.of('train.status')).toEqual([
      { runId: 'b', status: 'stopped', error: null },
      { runId: 'c', status: 'paused', error: null }
    ])
    await startChild(children[0]!, 'a')
    finishChild(children[0]!, fakeRun({ id: 'a', status: 'completed' }))
    await until(() => expect(host.jobs()).toEqual([]))
    expect(children).toHaveLength(1)
  })
})

describe('TrainerHost: control', () => {
  it('passes pause, resume and stop through as cooperative flags', async () => {
    const { host, children } = setup()
    host.enqueue('a', '/runs/a')
    const child = children[0]!
    await startChild(child, 'a')
    await host.pause('a')
    expect(child.controls().at(-1)).toEqual({ type: 'control', jobId: child.jobId, pause: true })
    child.post({ type: 'event', jobId: child.jobId, event: { type: 'status', runId: 'a', status: 'paused', error: null } })
    expect(host.job('a')?.state).toBe('paused')

    expect(host.resume('a')).toBe(true)
    expect(child.controls().at(-1)).toEqual({ type: 'control', jobId: child.jobId, pause: false })

    const stopped = host.stop('a')
    expect(child.controls().at(-1)).toEqual({ type: 'control', jobId: child.jobId, stop: true })
    expect(host.job('a')?.state).toBe('stopping')
    expect(() => host.resume('a')).toThrow(/stopping/)
    let done = false
    void stopped.then(() => (done = true))
    await tick()
    expect(done).toBe(false)
    finishChild(child, fakeRun({ id: 'a', status: 'stopped' }))
    await stopped
    expect(host.job('a')).toBeNull()
  })

  it('remembers a pause asked for while the child was still loading', async () => {
    const { host, children } = setup()
    host.enqueue('a', '/runs/a')
    await host.pause('a')
    const child = children[0]!
    expect(child.controls()).toEqual([])
    child.post({ type: 'ready', pid: 1 })
    await tick()
    expect(child.sent.map((m) => m.type)).toEqual(['init', 'job', 'control'])
    expect(child.controls()[0]).toMatchObject({ pause: true })
    expect(child.controls()[0]!.stop).not.toBe(true)
  })

  it('pause/resume/stop of a run without a job do nothing', async () => {
    const { host } = setup()
    expect(await host.pause('zzz')).toBe(false)
    expect(host.resume('zzz')).toBe(false)
    await expect(host.stop('zzz')).resolves.toBeUndefined()
  })
})

describe('TrainerHost: events', () => {
  /** A host whose child (the real child code, in-process) runs `trainRun`. */
  function withChild(trainRun: (opts: TrainJobOptions) => Promise<RunJson>, progressIntervalMs = 100) {
    const events = recorder()
    const spawner = inProcessSpawner({ trainRun })
    const store = memoryStore({ '/runs/a': { id: 'a', status: 'stopped' } })
    const host = new TrainerHost({ spawn: spawner.spawn, emit: events.emit, store, datasetsDir: '/d', backendCacheFile: null, progressIntervalMs })
    return { host, events }
  }

  it('one throttle, in the child at the host’s interval: one progress per interval, the last one never lost', async () => {
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    const { host, events } = withChild(async ({ emit }) => {
      for (let step = 1; step <= 500; step++) emit!({ type: 'progress', progress: progress('a', step) })
      await gate
      // A burst that ends with the job: the last step still arrives, before the final status.
      for (let step = 501; step <= 600; step++) emit!({ type: 'progress', progress: progress('a', step) })
      return fakeRun({ id: 'a', status: 'completed', step: 600 })
    })
    host.enqueue('a', '/runs/a')
    await until(() => expect(events.of('train.progress').map((p) => p.step)).toContain(500))
    expect(events.of('train.progress').map((p) => p.step)).toEqual([1, 500])
    expect(host.job('a')?.step).toBe(500)
    release()
    await until(() => expect(host.jobs()).toEqual([]))
    const names = events.events.map((e) => e.name)
    expect(events.of('train.progress').at(-1)?.step).toBe(600)
    expect(names.lastIndexOf('train.progress')).toBeLessThan(names.lastIndexOf('train.status'))
    expect(events.of('train.progress').length).toBeLessThanOrEqual(4)
  })

  it('never drops a logged metric while coalescing (every chart point arrives, in order)', async () => {
    const { host, events } = withChild(async ({ emit }) => {
      for (let step = 1; step <= 200; step++) {
        const metric = step % 10 === 0 ? { step, t: step, imagesSeen: step, gLoss: 1, dLoss: 1, dReal: 0, dFake: 0, imagesPerSec: 1 } : null
        emit!({ type: 'progress', progress: { ...progress('a', step), metric } })
      }
      return fakeRun({ id: 'a', status: 'completed', step: 200 })
    })
    host.enqueue('a', '/runs/a')
    await until(() => expect(host.jobs()).toEqual([]))
    const sent = events.of('train.progress')
    expect(sent.flatMap((p) => (p.metric ? [p.metric.step] : []))).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 160, 170, 180, 190, 200])
    expect(sent.length).toBeLessThanOrEqual(22)
    expect(sent.at(-1)?.step).toBe(200)
  })

  it('forwards samples and logs, rate-limiting a flood of log lines', async () => {
    const { host, children, events } = setup({ logLinesPerSecond: 5 })
    host.enqueue('a', '/runs/a')
    const child = children[0]!
    await startChild(child, 'a')
    child.post({ type: 'event', jobId: child.jobId, event: { type: 'sample', sample: { runId: 'a', step: 10, file: 'samples/step-000010.png' } } })
    for (let i = 0; i < 50; i++) {
      child.post({ type: 'event', jobId: child.jobId, event: { type: 'log', line: { runId: 'a', level: 'info', message: `line ${i}`, time: '' } } })
    }
    expect(events.of('train.sample')).toEqual([{ runId: 'a', step: 10, file: 'samples/step-000010.png' }])
    expect(events.of('train.log').filter((l) => l.message.startsWith('line'))).toHaveLength(5)
    finishChild(child, fakeRun({ id: 'a', status: 'completed' }))
    await until(() => expect(events.of('train.log').some((l) => l.message === '(45 log lines skipped)')).toBe(true))
  })
})

describe('TrainerHost: a child that dies', () => {
  it('marks the run failed with the reason, says so, and starts the next job', async () => {
    const { host, children, events, store } = setup({}, {
      '/runs/a': { id: 'a', status: 'running', step: 40, latestCheckpoint: 'step-000050', latestCheckpointStep: 50 }
    })
    host.enqueue('a', '/runs/a')
    host.enqueue('b', '/runs/b')
    const child = children[0]!
    await startChild(child, 'a')
    child.post({ type: 'event', jobId: child.jobId, event: { type: 'progress', progress: progress('a', 60) } })
    child.exit({ code: null, signal: 'SIGKILL' })

    await until(() => expect(children).toHaveLength(2))
    const run = store.runs['/runs/a']!
    expect(run.status).toBe('failed')
    expect(run.error?.code).toBe('crashed')
    expect(run.error?.message).toMatch(/killed \(SIGKILL\)/)
    expect(run.error?.message).toMatch(/Resume continues from its last checkpoint \(step 50\)/)
    expect(events.of('train.status').at(-1)).toEqual({ runId: 'a', status: 'failed', error: run.error })
    expect(events.of('train.log').some((l) => l.level === 'error' && l.runId === 'a')).toBe(true)
    expect(host.job('b')?.state).toBe('starting')
  })

  it('says the child ran out of memory (platform reason or V8 text)', async () => {
    for (const exit of [
      { code: 1, signal: null, reason: 'oom' },
      { code: 134, signal: null, stderrTail: 'FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory' }
    ]) {
      const { host, children, store } = setup({}, { '/runs/a': { id: 'a', status: 'running' } })
      host.enqueue('a', '/runs/a')
      await startChild(children[0]!, 'a')
      children[0]!.exit(exit)
      await until(() => expect(store.runs['/runs/a']!.status).toBe('failed'))
      expect(store.runs['/runs/a']!.error?.message).toMatch(/ran out of memory.*smaller batch size/)
      expect(store.runs['/runs/a']!.error?.message).toMatch(/no checkpoint yet; resuming starts again from step 0/)
    }
  })

  it('a child that never says ready counts as crashed and is killed', async () => {
    const { host, children, store } = setup({ readyTimeoutMs: 30 }, { '/runs/a': { id: 'a', status: 'stopped' } })
    host.enqueue('a', '/runs/a')
    await until(() => expect(store.runs['/runs/a']!.status).toBe('failed'))
    expect(store.runs['/runs/a']!.error?.message).toMatch(/did not start in time/)
    expect(children[0]!.killed).toBe(true)
  })

  it('keeps the reason the training loop recorded itself (e.g. diverged)', async () => {
    const diverged = { code: 'diverged' as const, message: 'Training diverged near step 12.' }
    const { host, children, store, events } = setup({}, { '/runs/a': { id: 'a', status: 'failed', error: diverged } })
    host.enqueue('a', '/runs/a')
    await startChild(children[0]!, 'a')
    children[0]!.post({ type: 'failed', jobId: children[0]!.jobId, error: { code: 'diverged', message: 'x' } })
    await until(() => expect(host.jobs()).toEqual([]))
    expect(store.runs['/runs/a']!.error).toEqual(diverged)
    expect(events.of('train.status').at(-1)).toEqual({ runId: 'a', status: 'failed', error: diverged })
  })

  it('records a failure the loop could not record (an error before it started)', async () => {
    const { host, children, store } = setup({}, { '/runs/a': { id: 'a', status: 'stopped' } })
    host.enqueue('a', '/runs/a')
    await startChild(children[0]!, 'a')
    children[0]!.post({ type: 'failed', jobId: children[0]!.jobId, error: { code: 'backend-unavailable', message: 'webgpu: no adapter' } })
    await until(() => expect(store.runs['/runs/a']!.status).toBe('failed'))
    expect(store.runs['/runs/a']!.error).toEqual({ code: 'backend-unavailable', message: 'webgpu: no adapter' })
  })

  it('a crash message from the child is used when it dies', () => {
    expect(describeExit({ code: 1, signal: null }, { code: 'internal', message: 'boom' })).toBe('The training process crashed: boom')
    expect(describeExit({ code: 3, signal: null })).toMatch(/exited unexpectedly \(code 3\)/)
    expect(describeExit({ code: null, signal: 'SIGSEGV' })).toMatch(/SIGSEGV/)
    expect(describeExit({ code: 0, signal: null })).toMatch(/before finishing/)
  })
})

describe('TrainerHost: shutdown and probing', () => {
  it('empties the queue, stops the job with a checkpoint, and kills it after the timeout', async () => {
    const { host, children, store } = setup({}, { '/runs/a': { id: 'a', status: 'running' } })
    host.enqueue('a', '/runs/a')
    host.enqueue('b', '/runs/b')
    await startChild(children[0]!, 'a')
    const down = host.shutdown({ timeoutMs: 50 })
    await tick()
    expect(children[0]!.controls().at(-1)).toMatchObject({ stop: true })
    expect(store.runs['/runs/b']!.status).toBe('stopped')
    await down
    expect(children[0]!.killed).toBe(true)
    expect(children).toHaveLength(1)
    expect(() => host.enqueue('c', '/runs/c')).toThrow(/shutting down/)
  })

  it('a job that stops in time is not killed', async () => {
    const { host, children } = setup()
    host.enqueue('a', '/runs/a')
    await startChild(children[0]!, 'a')
    const down = host.shutdown({ timeoutMs: 5000 })
    await tick()
    finishChild(children[0]!, fakeRun({ id: 'a', status: 'stopped' }))
    await down
    expect(children[0]!.killed).toBe(false)
  })

  it('probes backends in a child once and caches the answer', async () => {
    const { host, children } = setup()
    const statuses = [{ name: 'cpu' as const, available: true, reason: null, imagesPerSec: 1 }]
    const first = host.probeBackends()
    const second = host.probeBackends()
    expect(children).toHaveLength(1)
    children[0]!.post({ type: 'ready', pid: 1 })
    await tick()
    expect(children[0]!.job).toMatchObject({ method: 'probe' })
    children[0]!.post({ type: 'done', jobId: children[0]!.jobId, output: statuses })
    expect(await first).toEqual(statuses)
    expect(await second).toEqual(statuses)
    expect(await host.probeBackends()).toEqual(statuses)
    expect(children).toHaveLength(1)
  })
})

describe('TrainerHost with the real child code in-process (fake engine)', () => {
  it('streams events and honours pause, resume and stop between steps', async () => {
    const store = memoryStore({ '/runs/a': { id: 'a', status: 'stopped' } })
    let stepsRun = 0
    const trainRun = async (opts: TrainJobOptions): Promise<RunJson> => {
      const emit = opts.emit!
      const control = opts.control!
      emit({ type: 'status', runId: 'a', status: 'running', error: null })
      for (let step = 1; step <= 10_000; step++) {
        if (control.stop) break
        if (control.pause) {
          emit({ type: 'status', runId: 'a', status: 'paused', error: null })
          while (control.pause && !control.stop) await tick(2)
          if (control.stop) break
          emit({ type: 'status', runId: 'a', status: 'running', error: null })
        }
        stepsRun = step
        emit({ type: 'progress', progress: progress('a', step) })
        await tick(1)
      }
      emit({ type: 'status', runId: 'a', status: 'stopped', error: null })
      return fakeRun({ id: 'a', status: 'stopped', step: stepsRun })
    }
    const spawner = inProcessSpawner({ trainRun })
    const events = recorder()
    const host = new TrainerHost({ spawn: spawner.spawn, emit: events.emit, store, datasetsDir: '/d', backendCacheFile: null, progressIntervalMs: 20 })
    host.enqueue('a', '/runs/a')
    await until(() => expect(events.of('train.progress').length).toBeGreaterThan(2))
    await host.pause('a')
    await until(() => expect(host.job('a')?.state).toBe('paused'))
    const pausedAt = stepsRun
    await tick(50)
    expect(stepsRun).toBe(pausedAt)
    host.resume('a')
    await until(() => expect(stepsRun).toBeGreaterThan(pausedAt + 3))
    await host.stop('a')
    expect(host.job('a')).toBeNull()
    expect(events.of('train.status').map((s) => s.status)).toEqual(['running', 'paused', 'running', 'stopped'])
    const steps = events.of('train.progress').map((p) => p.step)
    expect(steps).toEqual([...steps].sort((x, y) => x - y))
  })

  it('an engine error becomes a failed run with a readable reason', async () => {
    const store = memoryStore({ '/runs/a': { id: 'a', status: 'stopped' } })
    const spawner = inProcessSpawner({
      trainRun: async () => {
        throw new RangeError('Array buffer allocation failed')
      }
    })
    const events = recorder()
    const host = new TrainerHost({ spawn: spawner.spawn, emit: events.emit, store, datasetsDir: '/d', backendCacheFile: null })
    host.enqueue('a', '/runs/a')
    await until(() => expect(store.runs['/runs/a']!.status).toBe('failed'))
    expect(store.runs['/runs/a']!.error?.message).toMatch(/ran out of memory/)
  })
})
