import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { promises as fsp } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { RunConfigSchema } from '@shared/config'
import type { DatasetSummary } from '@shared/datasets'
import { run as runsCommand, statusText } from '../../../../src/main/cli/commands/runs'
import type { CliIo } from '../../../../src/main/cli/io'
import { latestGoodCheckpoint, listCheckpoints, saveCheckpoint } from '../../../../src/main/trainer/run/checkpoint'
import { parseCheckpointManifest, parseRunJson } from '../../../../src/main/trainer/run/format'
import {
  createRun,
  listRuns,
  readOrRebuildRun,
  readRun,
  updateRun,
  writeRun,
  writeRunMeta
} from '../../../../src/main/trainer/run/runs'

/** Corrupt, lying and half-written run folders: none may hide a run, break the list or be trusted. */

const dataset = { id: 'ds-1', name: 'flowers', count: 10 } as DatasetSummary
const config = RunConfigSchema.parse({ source: '/data/flowers', name: 'My run', steps: 200 })
const meta = (step: number) => ({
  step,
  imagesSeen: step * 4,
  trainingMs: step,
  appVersion: 'test',
  config,
  rng: [1, 2, 3, 4] as [number, number, number, number],
  gOptStep: step,
  dOptStep: step
})
const tensor = { t: { shape: [4], data: new Float32Array([1, 2, 3, 4]) } }

async function newRun(runsDir?: string): Promise<{ runsDir: string; dir: string; id: string }> {
  const root = runsDir ?? (await mkdtemp(join(tmpdir(), 'gs-state-')))
  const { dir, run } = await createRun({ runsDir: root, config, dataset })
  return { runsDir: root, dir, id: run.id }
}

async function editJson(file: string, edit: (v: Record<string, unknown>) => unknown): Promise<void> {
  const value = JSON.parse(await fsp.readFile(file, 'utf8')) as Record<string, unknown>
  await fsp.writeFile(file, JSON.stringify(edit(value), null, 2))
}

function cliIo(): { io: CliIo; out: string[] } {
  const out: string[] = []
  return { io: { out: (l) => out.push(l), err: (l) => out.push(l), tty: false }, out }
}

afterEach(() => {
  vi.restoreAllMocks()
})

describe('run.json that cannot be read is listed as damaged, never dropped', () => {
  it.each([
    ['a createdAt that is not a date', (dir: string) => editJson(join(dir, 'run.json'), (v) => ({ ...v, createdAt: 123 })), /createdAt/],
    ['a truncated run.json', async (dir: string) => fsp.writeFile(join(dir, 'run.json'), '{"formatVersion": 1, "id": "x", "na'), /not valid JSON/],
    ['a missing run.json', (dir: string) => fsp.rm(join(dir, 'run.json')), /run\.json is missing/],
    ['no dataset', (dir: string) => editJson(join(dir, 'run.json'), ({ dataset: _d, ...v }) => v), /dataset/],
    ['an empty run.json', (dir: string) => fsp.writeFile(join(dir, 'run.json'), ''), /empty/]
  ])('%s', async (_what, damage, reason) => {
    const good = await newRun()
    const bad = await newRun(good.runsDir)
    for (const s of [10, 20, 30]) await saveCheckpoint(bad.dir, meta(s), tensor)
    await damage(bad.dir)

    const list = await listRuns(good.runsDir)
    expect(list.map((r) => r.id).sort()).toEqual([good.id, bad.id].sort())
    const entry = list.find((r) => r.id === bad.id)!
    expect(entry.damaged?.reason).toMatch(reason)
    expect(entry.damaged?.recovery).toBe('3 good checkpoints (newest at step 30): resume will rebuild run.json.')
    expect(entry).toMatchObject({ status: 'failed', resumable: true, step: 30, name: 'My run' })
    expect(list.find((r) => r.id === good.id)?.damaged).toBeNull()

    // The CLI lists both and says what is wrong and what can be done.
    const { io, out } = cliIo()
    expect(await runsCommand([good.runsDir], io)).toBe(0)
    expect(out.join('\n')).toMatch(/damaged \(resumable\)/)
    expect(out.join('\n')).toContain('resume will rebuild run.json')

    // Resume rebuilds run.json from the newest good checkpoint and keeps the damaged file.
    const rebuilt = await readOrRebuildRun(bad.dir)
    expect(rebuilt).toMatchObject({ id: bad.id, step: 30, latestCheckpoint: 'step-000030', status: 'stopped' })
    expect(rebuilt.config).toEqual(config)
    expect((await readRun(bad.dir)).step).toBe(30)
    if (!/missing/.test(String(reason))) expect((await fsp.readdir(bad.dir)).some((n) => n.startsWith('run.json.damaged-'))).toBe(true)
  })

  it('a damaged run without checkpoints says so, and a folder with nothing of a run is not a run', async () => {
    const { runsDir, dir } = await newRun()
    await fsp.writeFile(join(dir, 'run.json'), '{')
    await fsp.mkdir(join(runsDir, 'not-a-run'))
    const list = await listRuns(runsDir)
    expect(list).toHaveLength(1)
    expect(list[0]!.damaged?.recovery).toMatch(/No good checkpoint/)
    expect(list[0]!.resumable).toBe(false)
    await expect(readOrRebuildRun(dir)).rejects.toThrow(/no good checkpoint to rebuild it from/)
  })

  it('a run.json from a newer version is refused and never rebuilt over', async () => {
    const { dir } = await newRun()
    await saveCheckpoint(dir, meta(10), tensor)
    await editJson(join(dir, 'run.json'), (v) => ({ ...v, formatVersion: 99 }))
    await expect(readOrRebuildRun(dir)).rejects.toThrow(/newer GAN Studio/)
    expect(JSON.parse(await fsp.readFile(join(dir, 'run.json'), 'utf8')).formatVersion).toBe(99)
  })

  it('fills fields added after the first release when an older run.json lacks them', () => {
    const parsed = parseRunJson({
      formatVersion: 1,
      id: 'r',
      name: 'old',
      createdAt: '2025-01-01T00:00:00.000Z',
      config: { source: '/x' },
      dataset: { id: 'd', name: 'd', count: 1 },
      status: 'stopped',
      step: 0
    })
    expect(parsed.ok && parsed.value).toMatchObject({ tags: [], note: '', backend: null, owner: null, updatedAt: '2025-01-01T00:00:00.000Z' })
    expect(parsed.ok && parsed.value.config.model.arch).toBe('dcgan')
  })
})

describe('checkpoints: the whole checkpoint is checked, the step comes from it', () => {
  it('a manifest whose step was edited is damaged (the checksum covers the manifest)', async () => {
    const { dir } = await newRun()
    await saveCheckpoint(dir, meta(40), tensor)
    await saveCheckpoint(dir, meta(60), tensor)
    await editJson(join(dir, 'checkpoints', 'step-000060', 'manifest.json'), (v) => ({ ...v, imagesSeen: 5000 * 4 }))
    const skipped: string[] = []
    const good = await latestGoodCheckpoint(dir, (_n, why) => skipped.push(why))
    expect(good?.manifest.step).toBe(40)
    expect(skipped[0]).toMatch(/checksum mismatch/)
  })

  it('a manifest whose step disagrees with its folder is damaged, also for format 1 checkpoints', async () => {
    const { dir } = await newRun()
    await saveCheckpoint(dir, meta(20), tensor)
    // A format-1 checkpoint (checksum over the tensors only) is still read, its step checked.
    const v1 = join(dir, 'checkpoints', 'step-000060')
    await fsp.cp(join(dir, 'checkpoints', 'step-000020'), v1, { recursive: true })
    const bin = await fsp.readFile(join(v1, 'tensors.bin'))
    const sha = createHash('sha256').update(bin).digest('hex')
    await editJson(join(v1, 'manifest.json'), (v) => ({ ...v, formatVersion: 1, step: 60, sha256: sha }))
    expect((await latestGoodCheckpoint(dir))?.manifest.step).toBe(60)
    await editJson(join(v1, 'manifest.json'), (v) => ({ ...v, step: 5000 }))
    const skipped: string[] = []
    expect((await latestGoodCheckpoint(dir, (_n, why) => skipped.push(why)))?.manifest.step).toBe(20)
    expect(skipped[0]).toMatch(/manifest says step 5000/)
    expect(parseCheckpointManifest({ formatVersion: 7 })).toMatchObject({ ok: false, reason: expect.stringMatching(/newer GAN Studio/) })
  })

  it('pruning keeps the newest good checkpoints and moves damaged ones aside instead of deleting them', async () => {
    const { dir } = await newRun()
    for (const s of [10, 50, 60, 70]) await saveCheckpoint(dir, meta(s), tensor)
    for (const s of ['step-000050', 'step-000060', 'step-000070']) await fsp.truncate(join(dir, 'checkpoints', s, 'tensors.bin'), 3)
    // Training restarts below the damaged ones and writes new good checkpoints: none may be pruned.
    for (const s of [20, 30, 40]) {
      await saveCheckpoint(dir, meta(s), tensor)
      expect(await listCheckpoints(dir)).toContain(`step-0000${s}`)
    }
    expect(await listCheckpoints(dir)).toEqual(['step-000040', 'step-000030', 'step-000020'])
    const aside = await fsp.readdir(join(dir, 'checkpoints', 'damaged'))
    expect(aside.sort()).toEqual(['step-000050', 'step-000060', 'step-000070'])
    expect(await fsp.readFile(join(dir, 'checkpoints', 'damaged', 'step-000070', 'reason.txt'), 'utf8')).toMatch(/truncated/)
  })

  it('a full disk: the partial checkpoint is removed and the message names the folder and the space needed', async () => {
    const { dir } = await newRun()
    await saveCheckpoint(dir, meta(10), tensor)
    const realOpen = fsp.open.bind(fsp)
    vi.spyOn(fsp, 'open').mockImplementation(async (...args: Parameters<typeof fsp.open>) => {
      const handle = await realOpen(...args)
      if (String(args[0]).includes('.tmp-') && String(args[0]).endsWith('tensors.bin')) {
        handle.writeFile = async () => {
          await handle.write(Buffer.alloc(8))
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
        }
      }
      return handle
    })
    const big = { t: { shape: [1024, 512], data: new Float32Array(1024 * 512) } }
    const error = await saveCheckpoint(dir, meta(20), big).then(
      () => null,
      (e: unknown) => e as Error
    )
    expect(error).toBeInstanceOf(Error)
    expect(error?.message).toContain(join(dir, 'checkpoints'))
    expect(error?.message).toMatch(/needs about 3 MB/)
    expect(await fsp.readdir(join(dir, 'checkpoints'))).toEqual(['step-000010'])
  })
})

describe('a run whose process died is interrupted, not running', () => {
  it('shows as interrupted and resumable in the run list and the CLI', async () => {
    const { runsDir, dir, id } = await newRun()
    await saveCheckpoint(dir, meta(10), tensor)
    const dead = spawnSync(process.execPath, ['-e', 'process.pid']).pid!
    await updateRun(dir, { status: 'running', latestCheckpoint: 'step-000010', latestCheckpointStep: 10, owner: { pid: dead, host: hostname() } })
    const [summary] = await listRuns(runsDir)
    expect(summary).toMatchObject({ id, status: 'failed', resumable: true, error: { code: 'crashed' } })
    expect(statusText(summary!)).toBe('interrupted (resumable)')
    // A live owner keeps it running.
    await updateRun(dir, { owner: { pid: process.pid, host: hostname() } })
    expect((await listRuns(runsDir))[0]!.status).toBe('running')
  })
})

describe('user edits have one owner: meta.json', () => {
  it('a rename survives the training loop writing its own copy of run.json', async () => {
    const { dir } = await newRun()
    const loopCopy = await readRun(dir)
    await Promise.all([writeRunMeta(dir, { name: 'Renamed' }), writeRunMeta(dir, { tags: ['a'] }), writeRunMeta(dir, { note: 'n' })])
    await writeRun(dir, { ...loopCopy, step: 40 })
    expect(await readRun(dir)).toMatchObject({ name: 'Renamed', tags: ['a'], note: 'n', step: 40 })
  })
})
