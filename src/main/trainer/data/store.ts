import { createHash } from 'node:crypto'
import { promises as fsp } from 'node:fs'
import { basename, join } from 'node:path'
import { z } from 'zod'
import { CROP_MODES, ResolutionSchema, describeZodError } from '@shared/config'
import type { DatasetJson } from '@shared/datasets'
import { StudioError } from '@shared/errors'
import { readJson } from '../../util/fs'
import type { ResolvedPreprocess } from './decode'

/**
 * On-disk layout of one dataset: `<datasetsDir>/<id>/dataset.json` and `cache-<res>.bin`.
 *
 * One dataset per (source folder, preprocessing). The id reads as
 * `<folder-slug>-<8 hex of the folder's absolute path>-<res>[-<crop>][-<background rrggbb>]`,
 * with crop left out when it is `center` and the background when it is white, e.g.
 * `flowers-3fa2c1d0-32` or `flowers-3fa2c1d0-64-pad-000000`. So the same folder imported at 32 px
 * and at 64 px keeps two caches side by side, and runs that alternate between them never rebuild.
 */
export const DATASET_FORMAT_VERSION = 1
export const DATASET_JSON = 'dataset.json'

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/

export function cacheFileName(resolution: number): string {
  return `cache-${resolution}.bin`
}

export function datasetIdFor(absSource: string, pp: ResolvedPreprocess): string {
  const slug = slugify(basename(absSource)) || 'dataset'
  const hash = createHash('sha256').update(absSource).digest('hex').slice(0, 8)
  const parts = [slug, hash, String(pp.resolution)]
  if (pp.crop !== 'center') parts.push(pp.crop)
  if (pp.background.hex !== '#ffffff') parts.push(pp.background.hex.slice(1))
  return parts.join('-')
}

export function slugify(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '')
}

/** The folder of dataset `id`; an id that could escape `datasetsDir` is refused. */
export function datasetDir(datasetsDir: string, id: string): string {
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) throw new StudioError('bad-input', `"${String(id).slice(0, 80)}" is not a dataset id.`)
  return join(datasetsDir, id)
}

const nonNegInt = z.number().int().min(0)
const skippedSchema = z.object({ file: z.string(), reason: z.string() })

/** dataset.json, format 1. Unknown extra fields are kept (a newer minor writer may add some). */
export const DatasetJsonV1Schema = z.looseObject({
  formatVersion: z.literal(1),
  id: z.string().regex(ID_PATTERN),
  name: z.string(),
  source: z.string().min(1),
  createdAt: z.string(),
  updatedAt: z.string(),
  resolution: ResolutionSchema,
  crop: z.enum(CROP_MODES),
  background: z.string(),
  count: z.number().int().min(1),
  scanned: nonNegInt,
  duplicates: nonNegInt,
  duplicateFiles: z.array(z.object({ file: z.string(), sameAs: z.string() })).optional(),
  skipped: z.array(skippedSchema),
  stats: z.object({
    minWidth: z.number(),
    maxWidth: z.number(),
    minHeight: z.number(),
    maxHeight: z.number(),
    medianWidth: z.number(),
    medianHeight: z.number(),
    minAspect: z.number(),
    maxAspect: z.number(),
    medianAspect: z.number(),
    withAlpha: nonNegInt
  }),
  cacheFile: z.string().regex(/^cache-\d+\.bin$/),
  fingerprint: z.string(),
  files: z.array(z.string())
})

/**
 * Reads `<dir>/dataset.json` and checks it. Says clearly why it can't be used:
 * missing (`not-found`), not JSON, written by a newer GAN Studio (unknown `formatVersion`),
 * or damaged (fields missing or wrong) — all `bad-input` with the file's path.
 */
export async function readDatasetJson(dir: string): Promise<DatasetJson> {
  const file = join(dir, DATASET_JSON)
  let raw: unknown
  try {
    raw = await readJson<unknown>(file)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new StudioError('not-found', `No dataset at ${dir} (dataset.json is missing).`)
    if (err instanceof SyntaxError)
      throw new StudioError('bad-input', `${file} is damaged (not valid JSON). Import the folder again to rebuild it.`)
    throw err
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new StudioError('bad-input', `${file} is not a GAN Studio dataset file.`)
  const version = (raw as { formatVersion?: unknown }).formatVersion
  if (version === undefined) throw new StudioError('bad-input', `${file} is not a GAN Studio dataset file (it has no formatVersion).`)
  if (version !== DATASET_FORMAT_VERSION) {
    if (typeof version === 'number' && Number.isInteger(version) && version > DATASET_FORMAT_VERSION)
      throw new StudioError(
        'bad-input',
        `${file} was written by a newer version of GAN Studio (dataset format ${version}; this version reads format ${DATASET_FORMAT_VERSION}). ` +
          'Update GAN Studio, or import the folder again to rebuild the dataset for this version.'
      )
    throw new StudioError('bad-input', `${file} has an unknown dataset format (${JSON.stringify(version)}); import the folder again to rebuild it.`)
  }
  const parsed = DatasetJsonV1Schema.safeParse(raw)
  if (!parsed.success)
    throw new StudioError('bad-input', `${file} is damaged (${describeZodError(parsed.error)}). Import the folder again to rebuild it.`)
  const json = parsed.data as DatasetJson
  if (json.files.length !== json.count)
    throw new StudioError('bad-input', `${file} is damaged (count is ${json.count} but ${json.files.length} files are listed). Import the folder again to rebuild it.`)
  return json
}

export function expectedCacheBytes(json: Pick<DatasetJson, 'count' | 'resolution'>): number {
  return json.count * json.resolution * json.resolution * 3
}

/** Size of the cache file, or null when it is missing. */
export async function cacheFileSize(dir: string, json: Pick<DatasetJson, 'cacheFile'>): Promise<number | null> {
  try {
    const st = await fsp.stat(join(dir, json.cacheFile))
    return st.isFile() ? st.size : null
  } catch {
    return null
  }
}
