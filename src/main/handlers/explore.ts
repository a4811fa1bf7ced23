import { randomUUID } from 'node:crypto'
import { join, relative, sep } from 'node:path'
import type { JobProgress } from '@shared/contract'
import { exportCollection } from '../explore/collection-export'
import { renderSources } from '../explore/render'
import { trainingTimelapse } from '../explore/timelapse'
import { makeVariations } from '../explore/variations'
import { addToCollection, createCollection, deleteCollection, readFavoritesFile, removeFromCollection, renameCollection } from '../generate/favorites'
import { readRun } from '../trainer/run/runs'
import { cacheDir } from '../util/home'
import type { Studio } from '../services/studio'
import type { DomainRequests, Handlers } from './types'

/** A path inside the run folder as the renderer names it (forward slashes, relative). */
function inRun(runDir: string, path: string): string {
  return relative(runDir, path).split(sep).join('/')
}

function backendChoice(studio: Studio): { backendCacheFile: string } {
  return { backendCacheFile: join(cacheDir(studio.home), 'backends.json') }
}

const pngDataUrl = (png: Buffer): string => `data:image/png;base64,${png.toString('base64')}`

export const exploreHandlers = {
  /** Progress goes out as `jobs.progress` (kind `timelapse`) under the caller's jobId when it gave one. */
  'explore.timelapse': async ({ id, cell, format, fps, jobId }, studio) => {
    const dir = studio.runs.dirOf(id)
    const job = jobId ?? randomUUID()
    const label = { read: 'Reading sample grids', encode: `Encoding ${format.toUpperCase()}`, done: 'Done' } as const
    const result = await trainingTimelapse(dir, {
      cell,
      format,
      fps,
      onProgress: (p) => {
        const progress: JobProgress = { jobId: job, kind: 'timelapse', done: p.done, total: p.total, label: label[p.phase] }
        studio.events.emit('jobs.progress', progress)
      }
    })
    return { file: inRun(dir, result.out), frames: result.steps.length, steps: result.steps }
  },

  'explore.collections': async ({ id }, studio) => {
    const dir = studio.runs.dirOf(id)
    await readRun(dir)
    return readFavoritesFile(dir)
  },

  'explore.collection': async (params, studio) => {
    const dir = studio.runs.dirOf(params.id)
    const run = await readRun(dir)
    switch (params.action) {
      case 'create':
        return createCollection(dir, params.name)
      case 'rename':
        return renameCollection(dir, params.name, params.newName!)
      case 'delete':
        return deleteCollection(dir, params.name)
      case 'add':
        return addToCollection(dir, params.name, params.items!, { latentDim: run.config.model.latentDim, create: params.create })
      case 'remove':
        return removeFromCollection(dir, params.name, { ids: params.itemIds! })
    }
  },

  'explore.render': async ({ id, checkpoint, items, truncation }, studio) => {
    const dir = studio.runs.dirOf(id)
    const r = await renderSources(dir, items, { ...backendChoice(studio), checkpoint, truncation })
    return { images: r.pngs.map(pngDataUrl), checkpoint: r.checkpoint, step: r.step }
  },

  'explore.variations': async ({ id, checkpoint, center, strength, count, variationSeed, truncation }, studio) => {
    const dir = studio.runs.dirOf(id)
    const r = await makeVariations(dir, { ...backendChoice(studio), checkpoint, center, strength, count, variationSeed, truncation })
    const wire = (v: { latent: Float32Array; png: Buffer }): { latent: number[]; image: string } => ({ latent: Array.from(v.latent), image: pngDataUrl(v.png) })
    return { center: wire(r.center), neighbours: r.neighbours.map(wire), checkpoint: r.checkpoint, step: r.step }
  },

  'explore.exportCollection': async ({ id, name, checkpoint, truncation, upscale }, studio) => {
    const dir = studio.runs.dirOf(id)
    const r = await exportCollection(dir, name, { ...backendChoice(studio), checkpoint, truncation, upscale })
    return { dir: inRun(dir, r.dir), count: r.files.length, checkpoint: r.checkpoint, step: r.step }
  }
} satisfies Handlers<DomainRequests<'explore'>>
