import { describe, expect, it } from 'vitest'
import { TensorJobs, type TensorJobsOptions } from '../../../src/main/services/tensor-jobs'
import type { JobMethods } from '../../../src/main/trainer/child-messages'
import { fakeSpawner, tick, until, type FakeChild } from './fakes'

const walkInput: JobMethods['walk']['input'] = { runDir: '/runs/a', seeds: [1, 2], seconds: 1, fps: 4, format: 'gif', truncation: 1, upscale: 1 }
const exportInput: JobMethods['export']['input'] = { runDir: '/runs/a' }

function setup(options: Partial<TensorJobsOptions> = {}) {
  const spawner = fakeSpawner()
  const jobs = new TensorJobs({
    spawn: spawner.spawn,
    init: { type: 'init', datasetsDir: '/datasets', backendCacheFile: '/cache/backends.json', progressIntervalMs: 100 },
    exitGraceMs: 50,
    idleMs: 40,
    ...options
  })
  return { jobs, children: spawner.children }
}

function jobsSent(child: FakeChild): Extract<FakeChild['sent'][number], { type: 'job' }>[] {
  return child.sent.filter((m): m is Extract<FakeChild['sent'][number], { type: 'job' }> => m.type === 'job')
}

describe('TensorJobs: generate, walk and export in a trainer child', () => {
  it('sends init then the jobs once the child is ready, runs several in one child, and routes events', async () => {
    const { jobs, children } = setup()
    const events: unknown[] = []
    const walk = jobs.run('walk', walkInput, { jobId: 'walk-1', onEvent: (e) => events.push(e) })
    const exported = jobs.run('export', exportInput)
    expect(children).toHaveLength(1)
    const child = children[0]!
    expect(child.sent).toEqual([])
    child.post({ type: 'ready', pid: 1 })
    await tick()
    expect(child.sent.map((m) => m.type)).toEqual(['init', 'job', 'job'])
    const [w, e] = jobsSent(child)
    expect(w).toMatchObject({ method: 'walk', input: walkInput })
    expect(e).toMatchObject({ method: 'export', input: exportInput })
    expect(jobs.jobs().sort()).toEqual(['export-2', 'walk-1'])

    child.post({ type: 'event', jobId: w!.jobId, event: { type: 'job-progress', phase: 'render', done: 2, total: 4 } })
    child.post({ type: 'event', jobId: e!.jobId, event: { type: 'job-progress', phase: 'render', done: 9, total: 9 } })
    expect(events).toEqual([{ type: 'job-progress', phase: 'render', done: 2, total: 4 }])
    child.post({ type: 'done', jobId: e!.jobId, output: { dir: '/x', files: [], checkpoint: 'step-000001', step: 1 } })
    await expect(exported).resolves.toMatchObject({ dir: '/x' })
    child.post({ type: 'done', jobId: w!.jobId, output: { out: '/w.gif', frames: 4, checkpoint: 'step-000001', step: 1 } })
    await expect(walk).resolves.toMatchObject({ frames: 4 })
    expect(jobs.jobs()).toEqual([])
  })

  it('keeps the child warm for the next job, then lets it go once idle', async () => {
    const { jobs, children } = setup({ idleMs: 80 })
    const first = jobs.run('export', exportInput)
    const child = children[0]!
    child.post({ type: 'ready', pid: 1 })
    await tick()
    child.post({ type: 'done', jobId: jobsSent(child)[0]!.jobId, output: { dir: '/a' } })
    await first
    const second = jobs.run('export', exportInput)
    await tick()
    expect(children).toHaveLength(1)
    child.post({ type: 'done', jobId: jobsSent(child)[1]!.jobId, output: { dir: '/b' } })
    await expect(second).resolves.toMatchObject({ dir: '/b' })
    expect(child.sent.at(-1)?.type).toBe('job')
    await until(() => expect(child.sent.at(-1)).toEqual({ type: 'exit' }))
    expect(child.exited).toBe(true)
    // A later job starts a fresh child.
    void jobs.run('export', exportInput).catch(() => undefined)
    expect(children).toHaveLength(2)
    await jobs.shutdown()
  })

  it('cancel asks the child, and the job ends as cancelled', async () => {
    const { jobs, children } = setup()
    const walk = jobs.run('walk', walkInput, { jobId: 'w1' })
    const child = children[0]!
    child.post({ type: 'ready', pid: 1 })
    await tick()
    expect(jobs.cancel('nope')).toBe(false)
    expect(jobs.cancel('w1')).toBe(true)
    const jobId = jobsSent(child)[0]!.jobId
    expect(child.sent.at(-1)).toEqual({ type: 'cancel', jobId })
    child.post({ type: 'failed', jobId, error: { code: 'cancelled', message: 'The walk was cancelled.' } })
    await expect(walk).rejects.toMatchObject({ code: 'cancelled', message: 'The walk was cancelled.' })
    expect(child.killed).toBe(false)
  })

  it('a child that does not answer a cancel in time: the job ends as cancelled anyway', async () => {
    const { jobs, children } = setup({ cancelGraceMs: 30 })
    const walk = jobs.run('walk', walkInput, { jobId: 'w1' })
    children[0]!.post({ type: 'ready', pid: 1 })
    await tick()
    jobs.cancel('w1')
    await expect(walk).rejects.toMatchObject({ code: 'cancelled' })
  })

  it('refuses a second job under a job id that is running', async () => {
    const { jobs } = setup()
    void jobs.run('walk', walkInput, { jobId: 'same' }).catch(() => undefined)
    await expect(jobs.run('walk', walkInput, { jobId: 'same' })).rejects.toMatchObject({ code: 'busy' })
    await jobs.shutdown()
  })

  it('a child that dies fails its jobs with a reason, and the next job gets a new child', async () => {
    const { jobs, children } = setup()
    const walk = jobs.run('walk', walkInput)
    children[0]!.post({ type: 'ready', pid: 1 })
    await tick()
    children[0]!.exit({ code: null, signal: 'SIGKILL' })
    await expect(walk).rejects.toMatchObject({ code: 'crashed', message: expect.stringMatching(/^The image-making process was killed/) })
    const next = jobs.run('export', exportInput)
    expect(children).toHaveLength(2)
    children[1]!.post({ type: 'ready', pid: 2 })
    await tick()
    children[1]!.post({ type: 'done', jobId: jobsSent(children[1]!)[0]!.jobId, output: { dir: '/c' } })
    await expect(next).resolves.toMatchObject({ dir: '/c' })
  })

  it('a child that cannot start fails the job clearly', async () => {
    const jobs = new TensorJobs({
      spawn: () => {
        throw new Error('no such file')
      },
      init: { type: 'init', datasetsDir: '/d', backendCacheFile: null, progressIntervalMs: 100 }
    })
    await expect(jobs.run('export', exportInput)).rejects.toMatchObject({ code: 'crashed', message: 'The image-making process could not start: no such file' })
  })

  it('after shutdown, running jobs are cancelled and new ones refused', async () => {
    const { jobs, children } = setup()
    const walk = jobs.run('walk', walkInput, { jobId: 'w' })
    children[0]!.post({ type: 'ready', pid: 1 })
    await tick()
    await jobs.shutdown()
    const child = children[0]!
    expect(child.sent.map((m) => m.type)).toEqual(['init', 'job', 'cancel', 'exit'])
    await expect(walk).rejects.toMatchObject({ code: 'cancelled' })
    await expect(jobs.run('export', exportInput)).rejects.toMatchObject({ code: 'busy' })
  })
})
