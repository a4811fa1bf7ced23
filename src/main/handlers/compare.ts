import { compareRuns } from '../trainer/run/compare'
import type { DomainRequests, Handlers } from './types'

export const compareHandlers = {
  'compare.runs': async ({ ids, step }, studio) => {
    const result = await compareRuns(
      ids.map((id) => studio.runs.dirOf(id)),
      { step }
    )
    // The library's view of each run (a live job's status and step), not only what run.json says.
    return { ...result, runs: await Promise.all(ids.map((id) => studio.runs.summary(id))) }
  }
} satisfies Handlers<DomainRequests<'compare'>>
