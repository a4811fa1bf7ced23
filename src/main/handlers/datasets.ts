import type { DomainRequests, Handlers } from './types'

export const datasetsHandlers = {
  'datasets.list': async (_params, studio) => studio.datasets.list(),
  'datasets.preview': async ({ source, preprocess, limit }, studio) => studio.datasets.preview(source, preprocess, limit),
  'datasets.import': async ({ source, preprocess }, studio) => studio.datasets.importSummary(source, preprocess),
  'datasets.images': async ({ id, offset, limit }, studio) => studio.datasets.images(id, offset, limit),
  'datasets.delete': async ({ id }, studio) => {
    await studio.datasets.delete(id)
    return { ok: true as const }
  }
} satisfies Handlers<DomainRequests<'datasets'>>
