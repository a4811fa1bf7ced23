import { randomUUID } from 'node:crypto'
import { relative, sep } from 'node:path'
import type { JobProgress } from '@shared/contract'
import { trainingTimelapse } from '../explore/timelapse'
import type { DomainRequests, Handlers } from './types'

/** A path inside the run folder as the renderer names it (forward slashes, relative). */
function inRun(runDir: string, path: string): string {
  return relative(runDir, path).split(sep).join('/')
}

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
  }
} satisfies Handlers<DomainRequests<'explore'>>
