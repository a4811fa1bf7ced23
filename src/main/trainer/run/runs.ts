import { randomBytes } from 'node:crypto'
import { promises as fsp, type Dirent } from 'node:fs'
import { hostname } from 'node:os'
import { basename, join } from 'node:path'
import type { RunConfig } from '@shared/config'
import { toDatasetSummary, type DatasetJson, type DatasetSummary } from '@shared/datasets'
import { StudioError, toErrorShape, type StudioErrorShape } from '@shared/errors'
import { sampleFileName, type MetricRecord, type RunJson, type RunSummary, type SampleSnapshot } from '@shared/runs'
import { exists, writeFileAtomic, writeJsonAtomic } from '../../util/fs'
import { APP_VERSION } from '../../util/version'
import { goodCheckpoints, latestGoodCheckpoint } from './checkpoint'
import { META_FORMAT, parseRunJson, parseRunMeta, RUN_FORMAT, type RunMeta } from './format'

/** The run folder on disk (see the README): run.json, metrics.jsonl, samples/, checkpoints/, exports/. */

export { RUN_FORMAT }
const RUN_JSON = 'run.json'
const META_JSON = 'meta.json'
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

/** Why run.json could not be read: missing, written by a newer version, or damaged (with the reason). */
export class RunFileError extends StudioError {
  constructor(
    readonly kind: 'missing' | 'newer' | 'damaged',
    message: string
  ) {
    super(kind === 'missing' ? 'not-found' : 'bad-input', message)
  }
}

/**
 * Reads run.json with its schema (migrating older formats) and lays the user's edits (meta.json)
 * over it. Throws a RunFileError that says what is wrong.
 */
export async function readRun(dir: string): Promise<RunJson> {
  let text: string
  try {
    text = await fsp.readFile(join(dir, RUN_JSON), 'utf8')
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') throw new RunFileError('missing', `No run at ${dir} (run.json is missing).`)
    throw new RunFileError('damaged', `The run at ${dir} has an unreadable run.json: ${(err as Error).message}`)
  }
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    throw new RunFileError('damaged', `The run at ${dir} has a damaged run.json (${text.trim() === '' ? 'it is empty' : 'not valid JSON: truncated?'}).`)
  }
  const parsed = parseRunJson(raw)
  if (!parsed.ok) {
    const newer = /newer GAN Studio/.test(parsed.reason)
    throw new RunFileError(newer ? 'newer' : 'damaged', `The run at ${dir}: ${parsed.reason}.`)
  }
  return { ...parsed.value, ...(await readRunMeta(dir)) }
}

/** The user's edits (meta.json); empty when there are none or the file is unreadable. */
export async function readRunMeta(dir: string): Promise<RunMeta> {
  let raw: unknown
  try {
    raw = JSON.parse(await fsp.readFile(join(dir, META_JSON), 'utf8'))
  } catch {
    return {}
  }
  const parsed = parseRunMeta(raw)
  return parsed.ok ? parsed.value : {}
}

const metaWrites = new Map<string, Promise<unknown>>()

/**
 * Records a rename, tags or a note in meta.json. Only the studio's side calls this (the training
 * loop never writes meta.json), and writes to one run are queued one after the other, so no edit
 * is lost to another writer.
 */
export async function writeRunMeta(dir: string, patch: RunMeta): Promise<RunMeta> {
  const previous = metaWrites.get(dir) ?? Promise.resolve()
  const next = previous.catch(() => undefined).then(async () => {
    const merged: RunMeta = { ...(await readRunMeta(dir)), ...patch }
    await writeJsonAtomic(join(dir, META_JSON), { formatVersion: META_FORMAT, ...merged })
    return merged
  })
  metaWrites.set(dir, next)
  try {
    return await next
  } finally {
    if (metaWrites.get(dir) === next) metaWrites.delete(dir)
  }
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

/**
 * run.json, rebuilt from the newest good checkpoint when it is missing or damaged (the damaged
 * file is kept beside it as `run.json.damaged-<time>`). A run.json from a newer version is never
 * overwritten. Throws when there is nothing to rebuild from.
 */
export async function readOrRebuildRun(dir: string, log?: (message: string) => void): Promise<RunJson> {
  try {
    return await readRun(dir)
  } catch (err) {
    if (!(err instanceof RunFileError) || err.kind === 'newer') throw err
    const ckpt = await latestGoodCheckpoint(dir)
    if (!ckpt) throw new StudioError('bad-input', `${err.message} It has no good checkpoint to rebuild it from.`)
    const stamp = new Date().toISOString().replace(/[:.]/g, '-')
    if (err.kind === 'damaged') await fsp.rename(join(dir, RUN_JSON), join(dir, `${RUN_JSON}.damaged-${stamp}`)).catch(() => undefined)
    const m = ckpt.manifest
    const id = basename(dir)
    const created = await fsp.stat(dir).then((st) => (st.birthtimeMs > 0 ? st.birthtime : st.mtime).toISOString(), () => m.createdAt)
    const run: RunJson = {
      formatVersion: RUN_FORMAT,
      id,
      name: m.config.name ?? id,
      createdAt: created,
      updatedAt: new Date().toISOString(),
      appVersion: APP_VERSION,
      config: m.config,
      // The real summary is written when training starts (the dataset is re-imported from config.source).
      dataset: { id: '', name: basename(m.config.source) || 'dataset', count: 0 } as unknown as DatasetSummary,
      backend: null,
      status: 'stopped',
      step: m.step,
      imagesSeen: m.imagesSeen,
      trainingMs: m.trainingMs,
      latestCheckpoint: ckpt.name,
      latestCheckpointStep: m.step,
      error: null,
      tags: [],
      note: '',
      owner: null
    }
    await writeRun(dir, run)
    log?.(`Rebuilt run.json of ${dir} from checkpoint ${ckpt.name} (step ${m.step}); the old file was ${err.kind === 'missing' ? 'missing' : `kept as ${RUN_JSON}.damaged-${stamp}`}.`)
    return readRun(dir)
  }
}

export async function deleteRun(dir: string): Promise<void> {
  // Refuse to delete a folder that is not a run; a damaged run can be deleted.
  await readRun(dir).catch(async (err: unknown) => {
    if (err instanceof RunFileError && err.kind === 'damaged' && (await describeDamagedRun(dir, err.message))) return
    throw err
  })
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

/** Shown for a run whose run.json says `running` though nothing trains it any more: the process died under it. */
export const INTERRUPTED: StudioErrorShape = {
  code: 'crashed',
  message: 'Interrupted: GAN Studio stopped while this run was training (a crash or a forced quit). Resume continues from its last checkpoint.'
}

/** True unless `owner` is a process on this machine that no longer exists. */
export function ownerAlive(owner: RunJson['owner']): boolean {
  if (!owner || owner.host !== hostname()) return true
  try {
    process.kill(owner.pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export function summarizeRun(dir: string, run: RunJson, samples: SampleSnapshot[] = []): RunSummary {
  const last = samples[samples.length - 1]
  const interrupted = run.status === 'running' && !ownerAlive(run.owner)
  return {
    id: run.id,
    name: run.name,
    dir,
    status: interrupted ? 'failed' : run.status,
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
    error: interrupted ? INTERRUPTED : run.error,
    damaged: null
  }
}

const RUN_PARTS = [RUN_JSON, 'checkpoints', METRICS, 'samples']

/**
 * The run list's entry for a folder whose run.json cannot be read: why, and what can be
 * recovered. null when the folder holds nothing of a run (not a run folder).
 */
export async function describeDamagedRun(dir: string, reason: string): Promise<RunSummary | null> {
  const present = (await Promise.all(RUN_PARTS.map((p) => exists(join(dir, p))))).some(Boolean)
  if (!present) return null
  const id = basename(dir)
  const samples = await listSamples(dir, id)
  const good = await goodCheckpoints(dir)
  const newest = good.newest
  const recovery =
    good.count > 0
      ? `${good.count} good checkpoint${good.count === 1 ? '' : 's'} (newest at step ${newest!.step}): resume will rebuild run.json.`
      : samples.length > 0 || (await exists(join(dir, METRICS)))
        ? 'No good checkpoint: training cannot continue, but its samples and metrics are still in the folder.'
        : 'Nothing to recover: no good checkpoint, samples or metrics.'
  const st = await fsp.stat(dir)
  const last = samples[samples.length - 1]
  return {
    id,
    name: newest?.config.name ?? id,
    dir,
    status: 'failed',
    step: newest?.step ?? 0,
    steps: newest?.config.steps ?? 0,
    createdAt: (st.birthtimeMs > 0 ? st.birthtime : st.mtime).toISOString(),
    updatedAt: st.mtime.toISOString(),
    datasetName: newest ? basename(newest.config.source) : '',
    resolution: newest?.config.preprocess.resolution ?? 0,
    backend: null,
    thumbnail: last ? last.file : null,
    resumable: good.count > 0,
    tags: [],
    note: '',
    error: { code: 'bad-input', message: reason },
    damaged: { reason, recovery }
  }
}

/**
 * Every run under runsDir, newest first. A folder whose run.json cannot be read is listed as
 * damaged (with the reason and what can be recovered), never dropped; a folder with nothing of a
 * run in it is not a run.
 */
export async function listRuns(runsDir: string): Promise<RunSummary[]> {
  let entries: Dirent[]
  try {
    entries = await fsp.readdir(runsDir, { withFileTypes: true })
  } catch {
    return []
  }
  const out: RunSummary[] = []
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue
    const dir = join(runsDir, entry.name)
    try {
      const run = await readRun(dir)
      out.push(summarizeRun(dir, run, await listSamples(dir, run.id)))
    } catch (err) {
      const damaged = await describeDamagedRun(dir, toErrorShape(err).message).catch(() => null)
      if (damaged) out.push(damaged)
    }
  }
  return out.sort((a, b) => String(b.createdAt).localeCompare(String(a.createdAt)))
}
