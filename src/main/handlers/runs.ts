import type { DomainRequests, Handlers } from './types'

export const runsHandlers = {
  'runs.list': async (_params, studio) => studio.runs.list(),
  'runs.get': async ({ id }, studio) => studio.runs.get(id),
  'runs.metrics': async ({ id, sinceStep }, studio) => studio.runs.metrics(id, sinceStep),
  'runs.samples': async ({ id }, studio) => studio.runs.samples(id),
  'runs.estimate': async ({ config }, studio) => studio.estimate(config),
  'runs.start': async ({ config, from }, studio) => studio.runs.start(config, from),
  'runs.pause': async ({ id }, studio) => studio.runs.pause(id),
  'runs.resume': async ({ id, steps }, studio) => studio.runs.resume(id, steps),
  'runs.stop': async ({ id }, studio) => studio.runs.stop(id),
  'runs.rename': async ({ id, name }, studio) => studio.runs.rename(id, name),
  'runs.update': async ({ id, tags, note }, studio) =>
    studio.runs.update(id, { ...(tags !== undefined ? { tags } : {}), ...(note !== undefined ? { note } : {}) }),
  'runs.delete': async ({ id }, studio) => {
    await studio.runs.delete(id)
    return { ok: true as const }
  },
  /** Desktop: opens the folder in the file manager. Browser: just says where it is (on the serving machine). */
  'runs.openFolder': async ({ id }, studio) => {
    const summary = await studio.runs.summary(id)
    if (studio.shell) await studio.shell.openPath(summary.dir)
    return { path: summary.dir }
  }
} satisfies Handlers<DomainRequests<'runs'>>
