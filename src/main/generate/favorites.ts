import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import type { Collection, CollectionItem, FavoritesFile } from '@shared/collections'
import { StudioError } from '@shared/errors'
import { SEED_MAX } from '@shared/config'
import { readJson, writeJsonAtomic } from '../util/fs'

/**
 * Starred seeds and named collections live in the run folder (`favorites.json`, written
 * atomically), so they survive sessions and travel with the run when it is copied to another
 * machine. A collection holds seeds and latents (a latent found by exploring, e.g. a variation,
 * has no seed of its own); a latent is stored as the plain numbers fed to the generator before
 * truncation ψ.
 *
 * Format 1 held only `seeds`; it is read as format 2 with no collections and rewritten as 2 on the
 * next change.
 */

export const FAVORITES_FILE = 'favorites.json'
const FORMAT = 2
const MAX_FAVORITES = 1000
export const MAX_COLLECTIONS = 100
export const MAX_COLLECTION_ITEMS = 1000
export const MAX_COLLECTION_NAME = 80
const MAX_LABEL = 200

export type { Collection, CollectionItem, FavoritesFile }

interface FavoritesJson extends FavoritesFile {
  formatVersion: number
  updatedAt: string
}

/** What can be added: a seed, or a latent (with an optional label saying where it came from). */
export type NewItem = { seed: number; label?: string } | { latent: readonly number[]; label?: string; seed?: undefined }

function checkSeed(s: unknown): number {
  if (typeof s !== 'number' || !Number.isInteger(s) || s < 0 || s > SEED_MAX) throw new StudioError('bad-input', `Seed ${String(s)} is out of range (0 to ${SEED_MAX}).`)
  return s
}

function normalise(seeds: readonly number[]): number[] {
  for (const s of seeds) checkSeed(s)
  const out = [...new Set(seeds)].sort((a, b) => a - b)
  if (out.length > MAX_FAVORITES) throw new StudioError('bad-input', `At most ${MAX_FAVORITES} favourite seeds per run.`)
  return out
}

export function checkCollectionName(name: string): string {
  const trimmed = typeof name === 'string' ? name.trim() : ''
  if (trimmed.length === 0) throw new StudioError('bad-input', 'A collection needs a name.')
  if (trimmed.length > MAX_COLLECTION_NAME) throw new StudioError('bad-input', `A collection name is at most ${MAX_COLLECTION_NAME} characters.`)
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f]/.test(trimmed)) throw new StudioError('bad-input', 'A collection name cannot hold control characters.')
  return trimmed
}

const sameName = (a: string, b: string): boolean => a.localeCompare(b, undefined, { sensitivity: 'accent' }) === 0

/** Reads one stored item; drops what is malformed rather than failing the whole file. */
function readItem(raw: unknown): CollectionItem | null {
  if (!raw || typeof raw !== 'object') return null
  const r = raw as Record<string, unknown>
  const seed = typeof r.seed === 'number' && Number.isInteger(r.seed) && r.seed >= 0 && r.seed <= SEED_MAX ? r.seed : null
  const latent = Array.isArray(r.latent) && r.latent.length > 0 && r.latent.every((v) => typeof v === 'number' && Number.isFinite(v)) ? (r.latent as number[]) : null
  if (seed === null && latent === null) return null
  return {
    id: typeof r.id === 'string' && r.id ? r.id : randomUUID(),
    seed: latent ? null : seed,
    latent,
    label: typeof r.label === 'string' ? r.label.slice(0, MAX_LABEL) : '',
    addedAt: typeof r.addedAt === 'string' ? r.addedAt : new Date(0).toISOString()
  }
}

function readCollection(raw: unknown): Collection | null {
  if (!raw || typeof raw !== 'object') return null
  const r = raw as Record<string, unknown>
  if (typeof r.name !== 'string' || !r.name.trim()) return null
  const items = Array.isArray(r.items) ? r.items.map(readItem).filter((i): i is CollectionItem => i !== null) : []
  const epoch = new Date(0).toISOString()
  return {
    name: r.name.trim().slice(0, MAX_COLLECTION_NAME),
    createdAt: typeof r.createdAt === 'string' ? r.createdAt : epoch,
    updatedAt: typeof r.updatedAt === 'string' ? r.updatedAt : epoch,
    items
  }
}

/** The run's starred seeds and collections; empty when the file does not exist yet. */
export async function readFavoritesFile(runDir: string): Promise<FavoritesFile> {
  let raw: Partial<FavoritesJson>
  try {
    raw = await readJson<Partial<FavoritesJson>>(join(runDir, FAVORITES_FILE))
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return { seeds: [], collections: [] }
    throw new StudioError('bad-input', `The favourites file in ${runDir} is unreadable: ${(err as Error).message}`)
  }
  if (typeof raw !== 'object' || raw === null) throw new StudioError('bad-input', `The favourites file in ${runDir} is not a JSON object.`)
  if (typeof raw.formatVersion === 'number' && raw.formatVersion > FORMAT)
    throw new StudioError('bad-input', `The favourites in ${runDir} were written by a newer GAN Studio; update it to read them.`)
  const seeds = Array.isArray(raw.seeds) ? normalise(raw.seeds.filter((s): s is number => typeof s === 'number')) : []
  const collections = Array.isArray(raw.collections) ? raw.collections.map(readCollection).filter((c): c is Collection => c !== null) : []
  return { seeds, collections }
}

/**
 * Read-modify-write of one run's file, one at a time per run folder: two changes arriving together
 * (two clicks, two windows) must not both read the old file and lose one of them.
 */
const queues = new Map<string, Promise<unknown>>()
async function update(runDir: string, change: (file: FavoritesFile) => FavoritesFile | Promise<FavoritesFile>): Promise<FavoritesFile> {
  const key = join(runDir, FAVORITES_FILE)
  const previous = queues.get(key) ?? Promise.resolve()
  const next = previous.then(async () => {
    const changed = await change(await readFavoritesFile(runDir))
    const stored: FavoritesJson = { formatVersion: FORMAT, seeds: normalise(changed.seeds), collections: changed.collections, updatedAt: new Date().toISOString() }
    await writeJsonAtomic(key, stored)
    return { seeds: stored.seeds, collections: stored.collections }
  })
  const settled = next.catch(() => undefined)
  queues.set(key, settled)
  void settled.then(() => {
    if (queues.get(key) === settled) queues.delete(key)
  })
  return next
}

/** The run's starred seeds, ascending; none when the file does not exist yet. */
export async function readFavorites(runDir: string): Promise<number[]> {
  return (await readFavoritesFile(runDir)).seeds
}

/** Replaces the run's starred seeds (collections are kept). Returns them as stored (unique, ascending). */
export async function writeFavorites(runDir: string, seeds: readonly number[]): Promise<number[]> {
  const stored = normalise(seeds)
  return (await update(runDir, (f) => ({ ...f, seeds: stored }))).seeds
}

/** Stars or unstars one seed. */
export async function setFavorite(runDir: string, seed: number, starred: boolean): Promise<number[]> {
  checkSeed(seed)
  return (await update(runDir, (f) => ({ ...f, seeds: starred ? [...f.seeds, seed] : f.seeds.filter((s) => s !== seed) }))).seeds
}

function find(file: FavoritesFile, name: string): Collection {
  const found = file.collections.find((c) => sameName(c.name, name))
  if (!found) throw new StudioError('not-found', `There is no collection "${name}" in this run${file.collections.length ? ` (collections: ${file.collections.map((c) => c.name).join(', ')})` : ''}.`)
  return found
}

export async function listCollections(runDir: string): Promise<Collection[]> {
  return (await readFavoritesFile(runDir)).collections
}

export async function createCollection(runDir: string, name: string): Promise<FavoritesFile> {
  const clean = checkCollectionName(name)
  return update(runDir, (f) => {
    if (f.collections.some((c) => sameName(c.name, clean))) throw new StudioError('bad-input', `A collection named "${clean}" already exists.`)
    if (f.collections.length >= MAX_COLLECTIONS) throw new StudioError('bad-input', `At most ${MAX_COLLECTIONS} collections per run.`)
    const now = new Date().toISOString()
    return { ...f, collections: [...f.collections, { name: clean, createdAt: now, updatedAt: now, items: [] }] }
  })
}

export async function renameCollection(runDir: string, name: string, newName: string): Promise<FavoritesFile> {
  const clean = checkCollectionName(newName)
  return update(runDir, (f) => {
    const c = find(f, name)
    if (f.collections.some((o) => o !== c && sameName(o.name, clean))) throw new StudioError('bad-input', `A collection named "${clean}" already exists.`)
    return { ...f, collections: f.collections.map((o) => (o === c ? { ...o, name: clean, updatedAt: new Date().toISOString() } : o)) }
  })
}

export async function deleteCollection(runDir: string, name: string): Promise<FavoritesFile> {
  return update(runDir, (f) => {
    const c = find(f, name)
    return { ...f, collections: f.collections.filter((o) => o !== c) }
  })
}

/**
 * Adds seeds and latents to a collection (created when `create` is set and it does not exist).
 * A seed already in it is not added twice. Latents must have `latentDim` finite values.
 */
export async function addToCollection(runDir: string, name: string, items: readonly NewItem[], opts: { latentDim: number; create?: boolean }): Promise<FavoritesFile> {
  const clean = checkCollectionName(name)
  const now = new Date().toISOString()
  const fresh: CollectionItem[] = items.map((item) => {
    const label = typeof item.label === 'string' ? item.label.slice(0, MAX_LABEL) : ''
    if ('latent' in item && item.latent !== undefined) {
      if (item.latent.length !== opts.latentDim) throw new StudioError('bad-input', `A latent for this run has ${opts.latentDim} values (got ${item.latent.length}).`)
      if (!item.latent.every((v) => typeof v === 'number' && Number.isFinite(v) && Math.abs(v) < 1e4)) throw new StudioError('bad-input', 'A latent holds a value that is not a finite number.')
      return { id: randomUUID(), seed: null, latent: item.latent.map((v) => Math.fround(v)), label, addedAt: now }
    }
    return { id: randomUUID(), seed: checkSeed((item as { seed: unknown }).seed), latent: null, label, addedAt: now }
  })
  return update(runDir, (f) => {
    let collections = f.collections
    if (!collections.some((c) => sameName(c.name, clean))) {
      if (!opts.create) find(f, clean)
      if (collections.length >= MAX_COLLECTIONS) throw new StudioError('bad-input', `At most ${MAX_COLLECTIONS} collections per run.`)
      collections = [...collections, { name: clean, createdAt: now, updatedAt: now, items: [] }]
    }
    const c = find({ ...f, collections }, clean)
    const seeds = new Set(c.items.map((i) => i.seed).filter((s) => s !== null))
    const added: CollectionItem[] = []
    for (const item of fresh) {
      if (item.seed !== null && seeds.has(item.seed)) continue
      if (item.seed !== null) seeds.add(item.seed)
      added.push(item)
    }
    if (c.items.length + added.length > MAX_COLLECTION_ITEMS) throw new StudioError('bad-input', `A collection holds at most ${MAX_COLLECTION_ITEMS} items.`)
    return { ...f, collections: collections.map((o) => (o === c ? { ...o, items: [...o.items, ...added], updatedAt: now } : o)) }
  })
}

/** Removes items from a collection by id, or by seed. Unknown ids/seeds are ignored. */
export async function removeFromCollection(runDir: string, name: string, which: { ids?: readonly string[]; seeds?: readonly number[] }): Promise<FavoritesFile> {
  const ids = new Set(which.ids ?? [])
  const seeds = new Set(which.seeds ?? [])
  return update(runDir, (f) => {
    const c = find(f, name)
    const items = c.items.filter((i) => !ids.has(i.id) && !(i.seed !== null && seeds.has(i.seed)))
    return { ...f, collections: f.collections.map((o) => (o === c ? { ...o, items, updatedAt: new Date().toISOString() } : o)) }
  })
}
