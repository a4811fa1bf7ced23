import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { CROP_MODES, RESOLUTIONS, type CropMode, type Preprocess } from '@shared/config'
import { StudioError } from '@shared/errors'
import type { QualityScores } from '@shared/runs'
import { importDataset, loadDatasetPixels } from '../../trainer/data/dataset'
import { decodeImage, resolvePreprocess, SkipFile } from '../../trainer/data/decode'
import { resolveSourceFolder, scanImageFolder } from '../../trainer/data/scan'
import { fromUint8, QualityReference } from '../../trainer/quality'
import { datasetsDir } from '../../util/home'
import { parseChoice, parseIntFlag, UsageError, type CliIo } from '../io'

export const QUALITY_USAGE =
  'gan-studio quality --images <dir> --dataset <dir> --resolution 32|64|128|256 --crop pad|crop|center|stretch [--background <css colour>] [--limit N] [--json]'

/** `crop` is accepted for `center` (cropping to the middle square). */
const CROP_CHOICES = [...CROP_MODES, 'crop'] as const

/**
 * Decodes the images of a folder (sorted by path, at most `limit`) exactly as an import would,
 * as uint8 RGB. Unreadable files are skipped and counted.
 */
export async function readImageFolder(dir: string, preprocess: Preprocess, limit: number): Promise<{ pixels: Uint8Array; count: number; skipped: number }> {
  const pp = resolvePreprocess(preprocess)
  const scan = await scanImageFolder(await resolveSourceFolder(dir))
  const size = pp.resolution * pp.resolution * 3
  const chunks: Uint8Array[] = []
  let skipped = 0
  for (const entry of scan.images) {
    if (chunks.length >= limit) break
    try {
      chunks.push((await decodeImage(entry.path, entry.size, pp)).pixels)
    } catch (err) {
      if (!(err instanceof SkipFile)) throw err
      skipped += 1
    }
  }
  const pixels = new Uint8Array(chunks.length * size)
  chunks.forEach((c, i) => pixels.set(c, i * size))
  return { pixels, count: chunks.length, skipped }
}

/** Scores a folder of images against a dataset folder. */
export async function scoreFolder(opts: { images: string; dataset: string; preprocess: Preprocess; limit?: number }): Promise<QualityScores & { datasetCount: number; skipped: number }> {
  const limit = opts.limit ?? 256
  const generated = await readImageFolder(opts.images, opts.preprocess, limit)
  if (generated.count < 2) throw new StudioError('no-images', `${opts.images} has ${generated.count === 0 ? 'no usable images' : 'only one usable image'}; scoring needs at least two.`)
  const dataset = await importDataset({ source: opts.dataset, preprocess: opts.preprocess, datasetsDir: datasetsDir() })
  const pixels = await loadDatasetPixels(dataset, datasetsDir())
  const reference = QualityReference.fromPixels(pixels, dataset.count, dataset.resolution, { images: generated.count })
  const scores = reference.measure(fromUint8(generated.pixels, generated.count, dataset.resolution))
  return { ...scores, datasetCount: dataset.count, skipped: generated.skipped }
}

const fixed = (v: number | null, digits: number): string => (v === null ? '-' : v.toFixed(digits))

export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      images: { type: 'string' },
      dataset: { type: 'string' },
      resolution: { type: 'string' },
      crop: { type: 'string' },
      background: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean', default: false }
    }
  })
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}". Usage: ${QUALITY_USAGE}`)
  if (!values.images || !values.dataset || !values.resolution)
    throw new UsageError(`--images, --dataset and --resolution are required. Usage: ${QUALITY_USAGE}`)
  const resolution = parseChoice('resolution', values.resolution, RESOLUTIONS)!
  const cropFlag = parseChoice('crop', values.crop ?? 'center', CROP_CHOICES)!
  const crop: CropMode = cropFlag === 'crop' ? 'center' : cropFlag
  const limit = parseIntFlag('limit', values.limit, 2, 4096) ?? 256
  const preprocess: Preprocess = { resolution, crop, background: values.background ?? '#ffffff' }
  const images = resolve(values.images)
  const dataset = resolve(values.dataset)

  const s = await scoreFolder({ images, dataset, preprocess, limit })
  if (values.json) {
    io.out(JSON.stringify({ swd: s.swd, kid: s.kid, variety: s.variety, memorisation: s.memorisation, count: s.count }))
    return 0
  }
  io.out(`Scored ${s.count} images from ${images} against ${s.datasetCount} training images (${resolution} px, ${crop})${s.skipped ? `; ${s.skipped} unreadable skipped` : ''}.`)
  io.out(`  SWD           ${fixed(s.swd, 2).padStart(9)}   sliced Wasserstein distance ×1000 on 7×7 Laplacian-pyramid patches; lower is better`)
  io.out(`  KID           ${fixed(s.kid, 4).padStart(9)}   kernel distance in a fixed random network's feature space; lower is better, ~0 at best`)
  io.out(`  variety       ${fixed(s.variety, 3).padStart(9)}   spread among the images ÷ spread among the training images; ≈1 healthy, near 0: all alike`)
  io.out(`  memorisation  ${fixed(s.memorisation, 3).padStart(9)}   distance to the nearest training image ÷ typical distance between them; near 0: copies`)
  return 0
}
