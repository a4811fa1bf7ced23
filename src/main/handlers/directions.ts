import { randomUUID } from 'node:crypto'
import type { JobProgress } from '@shared/contract'
import { deleteDirection, readSavedDirections, renameDirection, saveDirection } from '../generate/explore/saved-directions'
import { readRun } from '../trainer/run/runs'
import type { DomainRequests, Handlers } from './types'

/**
 * Directions (sliders). The principal directions are a tensor job for a trainer child (read from
 * the run folder's cache there, else computed, with progress and cancel); saved directions are a
 * file in the run folder, read and written here. Applying a direction is latent arithmetic the
 * studio does itself, rendering through `explore.render`.
 */
export const directionsHandlers = {
  /** Progress goes out as `jobs.progress` (kind `directions`) under the caller's jobId when it gave one. */
  'directions.components': async ({ id, checkpoint, count, recompute, jobId }, studio) => {
    const dir = studio.runs.dirOf(id)
    await readRun(dir)
    const job = jobId ?? randomUUID()
    return studio.jobs.run(
      'directions',
      { runDir: dir, ...(checkpoint ? { checkpoint } : {}), count, recompute },
      {
        jobId: job,
        onEvent: (event) => {
          if (event.type !== 'job-progress') return
          const progress: JobProgress = { jobId: job, kind: 'directions', done: event.done, total: event.total, label: event.phase === 'done' ? 'Done' : 'Finding directions' }
          studio.events.emit('jobs.progress', progress)
        }
      }
    )
  },

  'directions.saved': async ({ id }, studio) => {
    const dir = studio.runs.dirOf(id)
    await readRun(dir)
    return readSavedDirections(dir)
  },

  'directions.edit': async (params, studio) => {
    const dir = studio.runs.dirOf(params.id)
    const run = await readRun(dir)
    switch (params.action) {
      case 'save':
        return saveDirection(
          dir,
          { name: params.name, vector: params.vector!, scale: params.scale, component: params.component ?? null, checkpoint: params.checkpoint ?? null, step: params.checkpoint ? Number(params.checkpoint.slice(5)) : null },
          { latentDim: run.config.model.latentDim }
        )
      case 'rename':
        return renameDirection(dir, params.name, params.newName!)
      case 'delete':
        return deleteDirection(dir, params.name)
    }
  }
} satisfies Handlers<DomainRequests<'directions'>>
