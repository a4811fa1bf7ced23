import { promises as fsp } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { RunConfigSchema } from '@shared/config'
import type { DatasetSummary } from '@shared/datasets'
import { appendMetrics, createRun, listRuns, readMetrics, readRun, truncateMetrics, updateRun } from '../../../../src/main/trainer/run/runs'

const dataset = { id: 'ds-1', name: 'flowers', count: 10 } as DatasetSummary
const config = RunConfigSchema.parse({ source: '/x', name: 'My run' })
const metric = (step: number) => ({ step, t: step, imagesSeen: step, gLoss: 1, dLoss: 1, dReal: 0, dFake: 0, imagesPerSec: 1 })

describe('run folders', () => {
  it('creates a run folder a person can read, and lists it', async () => {
    const runsDir = await mkdtemp(join(tmpdir(), 'gs-runs-'))
    const { dir, run } = await createRun({ runsDir, config, dataset })
    expect(run.name).toBe('My run')
    expect((await fsp.readdir(dir)).sort()).toEqual(['checkpoints', 'metrics.jsonl', 'run.json', 'samples'])
    const again = await readRun(dir)
    expect(again.config).toEqual(run.config)
    await updateRun(dir, { status: 'failed', error: { code: 'crashed', message: 'The trainer stopped.' } })
    const [summary] = await listRuns(runsDir)
    expect(summary?.id).toBe(run.id)
    expect(summary?.status).toBe('failed')
    expect(summary?.resumable).toBe(false) // no checkpoint yet
  })

  it('ignores a torn last metrics line and truncates past a checkpoint', async () => {
    const runsDir = await mkdtemp(join(tmpdir(), 'gs-runs-'))
    const { dir } = await createRun({ runsDir, config, dataset })
    await appendMetrics(dir, [metric(10), metric(20), metric(30)])
    await fsp.appendFile(join(dir, 'metrics.jsonl'), '{"step": 40, "gLo')
    expect((await readMetrics(dir)).map((m) => m.step)).toEqual([10, 20, 30])
    expect((await readMetrics(dir, 10)).map((m) => m.step)).toEqual([20, 30])
    await truncateMetrics(dir, 20)
    expect((await readMetrics(dir)).map((m) => m.step)).toEqual([10, 20])
  })

  it('refuses a run.json from a newer version with a clear message', async () => {
    const runsDir = await mkdtemp(join(tmpdir(), 'gs-runs-'))
    const { dir } = await createRun({ runsDir, config, dataset })
    const raw = JSON.parse(await fsp.readFile(join(dir, 'run.json'), 'utf8')) as Record<string, unknown>
    await fsp.writeFile(join(dir, 'run.json'), JSON.stringify({ ...raw, formatVersion: 99 }))
    await expect(readRun(dir)).rejects.toThrow(/newer GAN Studio/)
    await expect(readRun(join(runsDir, 'nope'))).rejects.toThrow(/No run at/)
  })
})
