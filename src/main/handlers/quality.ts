import { readRun } from '../trainer/run/runs'
import type { DomainRequests, Handlers } from './types'

export const qualityHandlers = {
  /** The training images nearest one generated image (a sample-grid tile, a saved PNG or a preview). */
  'quality.nearest': async ({ id, image, count }, studio) => {
    const dir = studio.runs.dirOf(id)
    return studio.nearest.find(dir, await readRun(dir), image, count)
  }
} satisfies Handlers<DomainRequests<'quality'>>
