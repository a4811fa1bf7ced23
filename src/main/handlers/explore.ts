import { randomUUID } from 'node:crypto'
import { relative, sep } from 'node:path'
import type { FindProgress, JobProgress } from '@shared/contract'
import { trainingTimelapse } from '../explore/timelapse'
import { addToCollection, createCollection, deleteCollection, readFavoritesFile, removeFromCollection, renameCollection } from '../generate/favorites'
import { readRun } from '../trainer/run/runs'
import type { Studio } from '../services/studio'
import type { DomainRequests, Handlers } from './types'

/** A path inside the run folder as the renderer names it (forward slashes, relative). */
function inRun(runDir: string, path: string): string {
  return relative(runDir, path).split(sep).join('/')
}

const pngDataUrl = (png: Uint8Array): string => `data:image/png;base64,${Buffer.from(png.buffer, png.byteOffset, png.byteLength).toString('base64')}`

/** The bytes of a base64 data URL (the contract has checked its form). */
function dataUrlBytes(url: string): Uint8Array {
  const bytes = Buffer.from(url.slice(url.indexOf(',') + 1), 'base64')
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/** The run folder for an id, refused clearly before any child is asked. */
async function runDirOf(studio: Studio, id: string): Promise<string> {
  const dir = studio.runs.dirOf(id)
  await readRun(dir)
  return dir
}

/**
 * The explore tools. Timelapse and collections read and write files only and run here; rendering
 * (images, variations, a collection's export) is a job for a trainer child (studio.jobs), so this
 * process never loads tfjs.
 */
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

  /** Tensor work below runs as trainer-child jobs (studio.jobs), cancellable by the caller's jobId. */
  'explore.render': async ({ id, checkpoint, items, truncation, jobId }, studio) => {
    const dir = await runDirOf(studio, id)
    const r = await studio.jobs.run('render', { runDir: dir, ...(checkpoint ? { checkpoint } : {}), items, truncation }, jobId ? { jobId } : {})
    return { images: r.pngs.map(pngDataUrl), checkpoint: r.checkpoint, step: r.step }
  },

  'explore.variations': async ({ id, checkpoint, center, strength, count, variationSeed, truncation, jobId }, studio) => {
    const dir = await runDirOf(studio, id)
    const r = await studio.jobs.run(
      'variations',
      { runDir: dir, ...(checkpoint ? { checkpoint } : {}), center, strength, count, variationSeed, truncation },
      jobId ? { jobId } : {}
    )
    const wire = (v: { latent: number[]; png: Uint8Array }): { latent: number[]; image: string } => ({ latent: v.latent, image: pngDataUrl(v.png) })
    return { center: wire(r.center), neighbours: r.neighbours.map(wire), checkpoint: r.checkpoint, step: r.step }
  },

  /** Progress (with a preview of the best match now and then) goes out as `explore.findProgress` under the caller's jobId. */
  'explore.find': async ({ id, checkpoint, image, steps, starts, jobId }, studio) => {
    const dir = await runDirOf(studio, id)
    const job = jobId ?? randomUUID()
    const target = 'dataUrl' in image ? { bytes: dataUrlBytes(image.dataUrl), ...(image.name ? { name: image.name } : {}) } : { datasetImage: image.datasetImage, datasetsDir: studio.datasets.dir }
    const r = await studio.jobs.run(
      'find',
      { runDir: dir, ...(checkpoint ? { checkpoint } : {}), target, steps, starts },
      {
        jobId: job,
        onEvent: (event) => {
          if (event.type !== 'find-progress') return
          const progress: FindProgress = {
            jobId: job,
            phase: event.phase,
            done: event.done,
            total: event.total,
            loss: event.loss,
            preview: event.preview ? pngDataUrl(event.preview) : null,
            ...(event.target ? { target: pngDataUrl(event.target) } : {})
          }
          studio.events.emit('explore.findProgress', progress)
        }
      }
    )
    const { png, targetPng, ...rest } = r
    return { ...rest, image: pngDataUrl(png), target: pngDataUrl(targetPng) }
  },

  /** Progress goes out as `jobs.progress` (kind `export`) under the caller's jobId when it gave one. */
  'explore.exportCollection': async ({ id, name, checkpoint, truncation, upscale, jobId }, studio) => {
    const dir = await runDirOf(studio, id)
    const job = jobId ?? randomUUID()
    const r = await studio.jobs.run(
      'exportCollection',
      { runDir: dir, ...(checkpoint ? { checkpoint } : {}), name, truncation, upscale },
      {
        jobId: job,
        onEvent: (event) => {
          if (event.type !== 'job-progress') return
          const progress: JobProgress = { jobId: job, kind: 'export', done: event.done, total: event.total, label: event.phase === 'done' ? 'Done' : 'Rendering images' }
          studio.events.emit('jobs.progress', progress)
        }
      }
    )
    return { dir: inRun(dir, r.dir), count: r.files.length, checkpoint: r.checkpoint, step: r.step }
  }
} satisfies Handlers<DomainRequests<'explore'>>
