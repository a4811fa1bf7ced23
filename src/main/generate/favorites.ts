import { join } from 'node:path'
import { StudioError } from '@shared/errors'
import { SEED_MAX } from '@shared/config'
import { readJson, writeJsonAtomic } from '../util/fs'

/**
 * Starred seeds live in the run folder (`favorites.json`, written atomically), so they travel with
 * the run when it is copied to another machine.
 */

export const FAVORITES_FILE = 'favorites.json'
const FORMAT = 1
const MAX_FAVORITES = 1000

interface FavoritesJson {
  formatVersion: number
  seeds: number[]
  updatedAt: string
}

function normalise(seeds: readonly number[]): number[] {
  for (const s of seeds)
    if (!Number.isInteger(s) || s < 0 || s > SEED_MAX) throw new StudioError('bad-input', `Seed ${s} is out of range (0 to ${SEED_MAX}).`)
  const out = [...new Set(seeds)].sort((a, b) => a - b)
  if (out.length > MAX_FAVORITES) throw new StudioError('bad-input', `At most ${MAX_FAVORITES} favourite seeds per run.`)
  return out
}

/** The run's starred seeds, ascending; none when the file does not exist yet. */
export async function readFavorites(runDir: string): Promise<number[]> {
  let raw: Partial<FavoritesJson>
  try {
    raw = await readJson<Partial<FavoritesJson>>(join(runDir, FAVORITES_FILE))
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return []
    throw new StudioError('bad-input', `The favourites file in ${runDir} is unreadable: ${(err as Error).message}`)
  }
  if (typeof raw.formatVersion === 'number' && raw.formatVersion > FORMAT)
    throw new StudioError('bad-input', `The favourites in ${runDir} were written by a newer GAN Studio; update it to read them.`)
  return Array.isArray(raw.seeds) ? normalise(raw.seeds.filter((s): s is number => typeof s === 'number')) : []
}

/** Replaces the run's starred seeds. Returns them as stored (unique, ascending). */
export async function writeFavorites(runDir: string, seeds: readonly number[]): Promise<number[]> {
  const stored = normalise(seeds)
  await writeJsonAtomic(join(runDir, FAVORITES_FILE), { formatVersion: FORMAT, seeds: stored, updatedAt: new Date().toISOString() } satisfies FavoritesJson)
  return stored
}

/** Stars or unstars one seed. */
export async function setFavorite(runDir: string, seed: number, starred: boolean): Promise<number[]> {
  const current = await readFavorites(runDir)
  return writeFavorites(runDir, starred ? [...current, seed] : current.filter((s) => s !== seed))
}
