import { randomUUID } from 'node:crypto'
import { join, relative, sep } from 'node:path'
import type { GeneratedImage, JobProgress } from '@shared/contract'
import { exportModel } from '../generate/export-model'
import { readFavorites, writeFavorites } from '../generate/favorites'
import { generateImages } from '../generate/images'
import { latentWalk } from '../generate/walk'
import type { Studio } from '../services/studio'
import { listCheckpoints } from '../trainer/run/checkpoint'
import { readRun } from '../trainer/run/runs'
import { cacheDir } from '../util/home'
import type { DomainRequests, Handlers } from './types'

/** A path inside the run folder as the renderer names it (forward slashes, relative). */
function inRun(runDir: string, path: string): string {
  return relative(runDir, path).split(sep).join('/')
}

function backendChoice(studio: Studio): { backendCacheFile: string } {
  return { backendCacheFile: join(cacheDir(studio.home), 'backends.json') }
}

const pngDataUrl = (png: Buffer): string => `data:image/png;base64,${png.toString('base64')}`

export const generateHandlers = {
  'generate.checkpoints': async ({ id }, studio) => {
    const dir = studio.runs.dirOf(id)
    await readRun(dir)
    return (await listCheckpoints(dir)).map((name) => ({ name, step: Number(name.slice('step-'.length)) }))
  },

  /** Previews answer with data URLs; `save` writes PNGs (and the sheet) under the run's exports/. */
  'generate.images': async ({ id, checkpoint, seeds, truncation, upscale, sheet, save, collection }, studio) => {
    const dir = studio.runs.dirOf(id)
    const result = await generateImages(dir, {
      ...backendChoice(studio),
      checkpoint,
      seeds,
      truncation,
      upscale,
      sheet,
      collection,
      outDir: save ? undefined : null
    })
    const images: GeneratedImage[] = result.images.map((img) => {
      const file = img.file ? inRun(dir, img.file) : null
      return { seed: img.seed, url: file ?? pngDataUrl(img.png!), file }
    })
    const sheetUrl = result.sheet ? (result.sheet.file ? inRun(dir, result.sheet.file) : pngDataUrl(result.sheet.png)) : null
    return { images, sheet: sheetUrl, dir: result.outDir ? inRun(dir, result.outDir) : null, checkpoint: result.checkpoint, step: result.step }
  },

  /** Progress goes out as `jobs.progress` (kind `walk`) under the caller's jobId when it gave one. */
  'generate.walk': async ({ id, checkpoint, seeds, keyframes, easing, seconds, fps, format, truncation, upscale, jobId }, studio) => {
    const dir = studio.runs.dirOf(id)
    const job = jobId ?? randomUUID()
    const label = { render: 'Rendering frames', encode: `Encoding ${format.toUpperCase()}`, done: 'Done' } as const
    const result = await latentWalk(dir, {
      ...backendChoice(studio),
      checkpoint,
      seeds,
      keyframes,
      easing,
      seconds: seconds ?? (seeds ? 4 : undefined),
      fps,
      format,
      truncation,
      upscale,
      onProgress: (p) => {
        const progress: JobProgress = { jobId: job, kind: 'walk', done: p.done, total: p.total, label: label[p.phase] }
        studio.events.emit('jobs.progress', progress)
      }
    })
    return { file: inRun(dir, result.out), frames: result.frames }
  },

  'generate.favorites': async ({ id, seeds }, studio) => {
    const dir = studio.runs.dirOf(id)
    await readRun(dir)
    return { seeds: seeds === undefined ? await readFavorites(dir) : await writeFavorites(dir, seeds) }
  },

  'export.model': async ({ id, checkpoint }, studio) => {
    const dir = studio.runs.dirOf(id)
    const result = await exportModel(dir, { ...backendChoice(studio), checkpoint })
    return { dir: result.dir, page: inRun(dir, join(result.dir, 'index.html')), checkpoint: result.checkpoint, step: result.step }
  }
} satisfies Handlers<DomainRequests<'generate'> | 'export.model'>
