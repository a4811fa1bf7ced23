import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { directionNameProblem, MAX_SAVED_DIRECTIONS, sameDirectionName, type SavedDirection } from '@shared/directions'
import { StudioError } from '@shared/errors'
import { readJson, writeJsonAtomic } from '../../util/fs'

/**
 * Directions an artist named and saved: `directions.json` in the run folder (written atomically),
 * so they travel with the run. Each holds its latent vector itself (unit length, a flip already
 * applied) and a scale, so it keeps working when the run's principal directions are computed
 * again for a newer checkpoint; where it came from (a component of a checkpoint) is kept to say so.
 * Files only: no tensors, so the studio's own process reads and writes it.
 */

export const SAVED_DIRECTIONS_FILE = 'directions.json'
const FORMAT = 1

interface SavedDirectionsJson {
  formatVersion: number
  updatedAt: string
  directions: SavedDirection[]
}

export type { SavedDirection }

export interface NewDirection {
  name: string
  /** Any non-zero length; stored normalised. */
  vector: readonly number[]
  scale?: number
  component?: number | null
  checkpoint?: string | null
  step?: number | null
}

export function checkDirectionName(name: string): string {
  const problem = directionNameProblem(typeof name === 'string' ? name : '')
  if (problem) throw new StudioError('bad-input', problem)
  return name.trim()
}

function readOne(raw: unknown): SavedDirection | null {
  if (!raw || typeof raw !== 'object') return null
  const r = raw as Record<string, unknown>
  if (typeof r.name !== 'string' || directionNameProblem(r.name) !== null) return null
  if (!Array.isArray(r.vector) || r.vector.length === 0 || !r.vector.every((v) => typeof v === 'number' && Number.isFinite(v))) return null
  const epoch = new Date(0).toISOString()
  const int = (v: unknown): number | null => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : null)
  return {
    id: typeof r.id === 'string' && r.id ? r.id : randomUUID(),
    name: r.name.trim(),
    vector: r.vector as number[],
    scale: typeof r.scale === 'number' && Number.isFinite(r.scale) && r.scale > 0 ? r.scale : 1,
    component: int(r.component),
    checkpoint: typeof r.checkpoint === 'string' ? r.checkpoint : null,
    step: int(r.step),
    createdAt: typeof r.createdAt === 'string' ? r.createdAt : epoch,
    updatedAt: typeof r.updatedAt === 'string' ? r.updatedAt : epoch
  }
}

/** The run's saved directions, in the order they were saved; none when the file does not exist yet. */
export async function readSavedDirections(runDir: string): Promise<SavedDirection[]> {
  let raw: Partial<SavedDirectionsJson>
  try {
    raw = await readJson<Partial<SavedDirectionsJson>>(join(runDir, SAVED_DIRECTIONS_FILE))
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return []
    throw new StudioError('bad-input', `The saved directions in ${runDir} are unreadable: ${(err as Error).message}`)
  }
  if (typeof raw !== 'object' || raw === null) throw new StudioError('bad-input', `The saved directions in ${runDir} are not a JSON object.`)
  if (typeof raw.formatVersion === 'number' && raw.formatVersion > FORMAT)
    throw new StudioError('bad-input', `The saved directions in ${runDir} were written by a newer GAN Studio; update it to read them.`)
  return Array.isArray(raw.directions) ? raw.directions.map(readOne).filter((d): d is SavedDirection => d !== null) : []
}

/** One change at a time per run folder (two clicks must not both read the old file and lose one). */
const queues = new Map<string, Promise<unknown>>()
function update(runDir: string, change: (list: SavedDirection[]) => SavedDirection[]): Promise<SavedDirection[]> {
  const key = join(runDir, SAVED_DIRECTIONS_FILE)
  const next = (queues.get(key) ?? Promise.resolve()).then(async () => {
    const directions = change(await readSavedDirections(runDir))
    await writeJsonAtomic(key, { formatVersion: FORMAT, updatedAt: new Date().toISOString(), directions } satisfies SavedDirectionsJson)
    return directions
  })
  const settled = next.catch(() => undefined)
  queues.set(key, settled)
  void settled.then(() => {
    if (queues.get(key) === settled) queues.delete(key)
  })
  return next
}

/** A saved direction by name (case and accents as a person would mean them), or a clear error. */
export function findSavedDirection(list: readonly SavedDirection[], name: string): SavedDirection {
  const found = list.find((d) => sameDirectionName(d.name, name))
  if (!found)
    throw new StudioError('not-found', `There is no saved direction “${name.trim()}” in this run${list.length ? ` (saved: ${list.map((d) => d.name).join(', ')})` : ''}.`)
  return found
}

/** Saves a new named direction; `latentDim` is the run's (the vector must match it). */
export async function saveDirection(runDir: string, d: NewDirection, opts: { latentDim: number }): Promise<SavedDirection[]> {
  const name = checkDirectionName(d.name)
  if (d.vector.length !== opts.latentDim) throw new StudioError('bad-input', `A direction for this run has ${opts.latentDim} values (got ${d.vector.length}).`)
  if (!d.vector.every((v) => typeof v === 'number' && Number.isFinite(v))) throw new StudioError('bad-input', 'A direction holds a value that is not a finite number.')
  const length = Math.hypot(...d.vector)
  if (!(length > 1e-6)) throw new StudioError('bad-input', 'A direction cannot be all zeros: move a slider first.')
  const scale = d.scale ?? 1
  if (!Number.isFinite(scale) || scale <= 0 || scale > 100) throw new StudioError('bad-input', `A direction's scale is more than 0 and at most 100 (got ${scale}).`)
  const now = new Date().toISOString()
  const saved: SavedDirection = {
    id: randomUUID(),
    name,
    vector: d.vector.map((v) => Number(Math.fround(v / length).toPrecision(7))),
    scale,
    component: d.component ?? null,
    checkpoint: d.checkpoint ?? null,
    step: d.step ?? null,
    createdAt: now,
    updatedAt: now
  }
  return update(runDir, (list) => {
    if (list.some((o) => sameDirectionName(o.name, name))) throw new StudioError('bad-input', `A direction named “${name}” is already saved; choose another name or delete it first.`)
    if (list.length >= MAX_SAVED_DIRECTIONS) throw new StudioError('bad-input', `At most ${MAX_SAVED_DIRECTIONS} saved directions per run.`)
    return [...list, saved]
  })
}

export async function renameDirection(runDir: string, name: string, newName: string): Promise<SavedDirection[]> {
  const clean = checkDirectionName(newName)
  return update(runDir, (list) => {
    const d = findSavedDirection(list, name)
    if (list.some((o) => o !== d && sameDirectionName(o.name, clean))) throw new StudioError('bad-input', `A direction named “${clean}” is already saved.`)
    return list.map((o) => (o === d ? { ...o, name: clean, updatedAt: new Date().toISOString() } : o))
  })
}

export async function deleteDirection(runDir: string, name: string): Promise<SavedDirection[]> {
  return update(runDir, (list) => {
    const d = findSavedDirection(list, name)
    return list.filter((o) => o !== d)
  })
}
