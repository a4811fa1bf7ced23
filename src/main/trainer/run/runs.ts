import { randomBytes } from 'node:crypto'
import { promises as fsp } from 'node:fs'
import { basename, join } from 'node:path'
import type { RunConfig } from '@shared/config'
import { toDatasetSummary, type DatasetJson, type DatasetSummary } from '@shared/datasets'
import { StudioError } from '@shared/errors'
import { RUN_STATUSES, sampleFileName, type MetricRecord, type RunJson, type RunSummary, type SampleSnapshot } from '@shared/runs'
import { readJson, writeFileAtomic, writeJsonAtomic } from '../../util/fs'
import { APP_VERSION } from '../../util/version'

/** The run folder on disk (see the README): run.json, metrics.jsonl, samples/, checkpoints/, exports/. */

export const RUN_FORMAT = 1
const RUN_JSON = 'run.json'
const METRICS = 'metrics.jsonl'

function slug(text: string): string {
  return (
    text
      .normalize('NFKD')
      .replace(/[^\w\s-]/g, '')
      .trim()
      .toLowerCase()
      .replace(/[\s_]+/g, '-')
      .slice(0, 40) || 'run'
  )
}

export function newRunId(name: string, now = new Date()): string {
  const stamp = now.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-')
  return `${stamp}-${slug(name)}-${randomBytes(2).toString('hex')}`
}

export async function createRun(opts: { runsDir: string; config: RunConfig; dataset: DatasetJson | DatasetSummary }): Promise<{ dir: string; run: RunJson }> {
  const name = opts.config.name ?? `${opts.dataset.name} ${opts.config.preprocess.resolution}px`
  const id = newRunId(name)
  const dir = join(opts.runsDir, id)
  await fsp.mkdir(join(dir, 'samples'), { recursive: true })
  await fsp.mkdir(join(dir, 'checkpoints'), { recursive: true })
  const now = new Date().toISOString()
  const run: RunJson = {
    formatVersion: RUN_FORMAT,
    id,
    name,
    createdAt: now,
    updatedAt: now,
    appVersion: APP_VERSION,
    config: { ...opts.config, name },
    dataset: toDatasetSummary(opts.dataset),
    backend: null,
    status: 'stopped',
    step: 0,
    imagesSeen: 0,
    trainingMs: 0,
    latestCheckpoint: null,
    latestCheckpointStep: 0,
    error: null,
    tags: [],
    note: ''
  }
  await writeJsonAtomic(join(dir, RUN_JSON), run)
  await fsp.writeFile(join(dir, METRICS), '')
  return { dir, run }
}

/** Reads run.json; migrates what it can, and says clearly what it cannot. */
export async function readRun(dir: string): Promise<RunJson> {
  let raw: Partial<RunJson> & { formatVersion?: number }
  try {
    raw = await readJson(join(dir, RUN_JSON))
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') throw new StudioError('not-found', `No run at ${dir} (run.json is missing).`)
    throw new StudioError('bad-input', `The run at ${dir} has an unreadable run.json: ${(err as Error).message}`)
  }
  if (typeof raw.formatVersion !== 'number' || raw.formatVersion > RUN_FORMAT)
    throw new StudioError(
      'bad-input',
      `The run at ${dir} was written by a newer GAN Studio (format ${String(raw.formatVersion)}); update GAN Studio to open it.`
    )
  if (!raw.id || !raw.config || !raw.status || !RUN_STATUSES.includes(raw.status))
    throw new StudioError('bad-input', `The run at ${dir} has an incomplete run.json.`)
  return {
    tags: [],
    note: '',
    error: null,
    backend: null,
    trainingMs: 0,
    imagesSeen: 0,
    latestCheckpoint: null,
    latestCheckpointStep: 0,
    ...raw
  } as RunJson
}

export async function writeRun(dir: string, run: RunJson): Promise<RunJson> {
  const next = { ...run, updatedAt: new Date().toISOString() }
  await writeJsonAtomic(join(dir, RUN_JSON), next)
  return next
}

export async function updateRun(dir: string, patch: Partial<RunJson>): Promise<RunJson> {
  const run = await readRun(dir)
  return writeRun(dir, { ...run, ...patch })
}

export async function deleteRun(dir: string): Promise<void> {
  await readRun(dir) // refuse to delete a folder that is not a run
  await fsp.rm(dir, { recursive: true, force: true })
}

export async function appendMetrics(dir: string, records: MetricRecord[]): Promise<void> {
  if (records.length === 0) return
  await fsp.appendFile(join(dir, METRICS), records.map((r) => JSON.stringify(r)).join('\n') + '\n')
}

/** Metrics with step > sinceStep. A torn last line (crash mid-append) is ignored. */
export async function readMetrics(dir: string, sinceStep = -1): Promise<MetricRecord[]> {
  let text: string
  try {
    text = await fsp.readFile(join(dir, METRICS), 'utf8')
  } catch {
    return []
  }
  const out: MetricRecord[] = []
  for (const line of text.split('\n')) {
    if (!line) continue
    try {
      const rec = JSON.parse(line) as MetricRecord
      if (rec.step > sinceStep) out.push(rec)
    } catch {
      // torn line
    }
  }
  return out
}

/** Drops metric lines past `step` (used when resuming from a checkpoint older than the log). */
export async function truncateMetrics(dir: string, step: number): Promise<void> {
  const kept = (await readMetrics(dir)).filter((r) => r.step <= step)
  await writeFileAtomic(join(dir, METRICS), kept.map((r) => JSON.stringify(r) + '\n').join(''))
}

export async function listSamples(dir: string, runId?: string): Promise<SampleSnapshot[]> {
  let names: string[]
  try {
    names = await fsp.readdir(join(dir, 'samples'))
  } catch {
    return []
  }
  const id = runId ?? basename(dir)
  return names
    .map((n) => /^step-(\d+)\.png$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ runId: id, step: Number(m[1]), file: sampleFileName(Number(m[1])) }))
    .sort((a, b) => a.step - b.step)
}

export function summarizeRun(dir: string, run: RunJson, samples: SampleSnapshot[] = []): RunSummary {
  const last = samples[samples.length - 1]
  return {
    id: run.id,
    name: run.name,
    dir,
    status: run.status,
    step: run.step,
    steps: run.config.steps,
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
    datasetName: run.dataset.name,
    resolution: run.config.preprocess.resolution,
    backend: run.backend?.used ?? null,
    thumbnail: last ? last.file : null,
    resumable: run.status !== 'completed' && run.latestCheckpoint !== null,
    tags: run.tags,
    note: run.note,
    error: run.error
  }
}

/** Every readable run under runsDir, newest first; unreadable folders are skipped. */
export async function listRuns(runsDir: string): Promise<RunSummary[]> {
  let names: string[]
  try {
    names = await fsp.readdir(runsDir)
  } catch {
    return []
  }
  const out: RunSummary[] = []
  for (const name of names) {
    const dir = join(runsDir, name)
    try {
      const run = await readRun(dir)
      out.push(summarizeRun(dir, run, await listSamples(dir, run.id)))
    } catch {
      // not a run folder
    }
  }
  return out.sort((a, b) => b.createdAt.localeCompare(a.createdAt))
}
