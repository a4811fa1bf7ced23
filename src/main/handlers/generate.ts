import { randomUUID } from 'node:crypto'
import { join, relative, sep } from 'node:path'
import type { GeneratedImage, JobProgress } from '@shared/contract'
import { readFavorites, writeFavorites } from '../generate/favorites'
import type { Studio } from '../services/studio'
import { listCheckpoints } from '../trainer/run/checkpoint'
import { readRun } from '../trainer/run/runs'
import type { DomainRequests, Handlers } from './types'

/**
 * Making images, walks and model exports: each is a job for a trainer child (studio.jobs), so this
 * process never loads tfjs and keeps answering while frames render. Walks report `jobs.progress`
 * and can be cancelled with `jobs.cancel`.
 */

/** A path inside the run folder as the renderer names it (forward slashes, relative). */
function inRun(runDir: string, path: string): string {
  return relative(runDir, path).split(sep).join('/')
}

const pngDataUrl = (png: Uint8Array): string => `data:image/png;base64,${Buffer.from(png.buffer, png.byteOffset, png.byteLength).toString('base64')}`

/** The run folder for an id, refused clearly before any child is asked. */
async function runDirOf(studio: Studio, id: string): Promise<string> {
  const dir = studio.runs.dirOf(id)
  await readRun(dir)
  return dir
}

const WALK_LABELS = { render: 'Rendering frames', encode: 'Encoding', done: 'Done' } as const

export const generateHandlers = {
  'generate.checkpoints': async ({ id }, studio) => {
    const dir = await runDirOf(studio, id)
    return (await listCheckpoints(dir)).map((name) => ({ name, step: Number(name.slice('step-'.length)) }))
  },

  /** Previews answer with data URLs; `save` writes PNGs (and the sheet) under the run's exports/. */
  'generate.images': async ({ id, checkpoint, seeds, truncation, upscale, sheet, save, collection }, studio) => {
    const dir = await runDirOf(studio, id)
    const result = await studio.jobs.run('generate', {
      runDir: dir,
      ...(checkpoint ? { checkpoint } : {}),
      seeds,
      truncation,
      upscale,
      sheet,
      save,
      collection
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
    const dir = await runDirOf(studio, id)
    const job = jobId ?? randomUUID()
    const label = { ...WALK_LABELS, encode: `Encoding ${format.toUpperCase()}` }
    const result = await studio.jobs.run(
      'walk',
      {
        runDir: dir,
        ...(checkpoint ? { checkpoint } : {}),
        ...(seeds ? { seeds } : {}),
        ...(keyframes ? { keyframes } : {}),
        easing,
        ...(seconds !== undefined || seeds ? { seconds: seconds ?? 4 } : {}),
        fps,
        format,
        truncation,
        upscale
      },
      {
        jobId: job,
        onEvent: (event) => {
          if (event.type !== 'job-progress') return
          const progress: JobProgress = { jobId: job, kind: 'walk', done: event.done, total: event.total, label: label[event.phase] }
          studio.events.emit('jobs.progress', progress)
        }
      }
    )
    return { file: inRun(dir, result.out), frames: result.frames }
  },

  'generate.favorites': async ({ id, seeds }, studio) => {
    const dir = await runDirOf(studio, id)
    return { seeds: seeds === undefined ? await readFavorites(dir) : await writeFavorites(dir, seeds) }
  },

  'export.model': async ({ id, checkpoint }, studio) => {
    const dir = await runDirOf(studio, id)
    const result = await studio.jobs.run('export', { runDir: dir, ...(checkpoint ? { checkpoint } : {}) })
    return { dir: result.dir, page: inRun(dir, join(result.dir, 'index.html')), checkpoint: result.checkpoint, step: result.step }
  },

  /** Cancels a walk (or another job started with a jobId); `cancelled` is false when none was running. */
  'jobs.cancel': async ({ jobId }, studio) => ({ cancelled: studio.jobs.cancel(jobId) })
} satisfies Handlers<DomainRequests<'generate'> | 'export.model' | 'jobs.cancel'>
