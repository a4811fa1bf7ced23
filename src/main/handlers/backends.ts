import type { DomainRequests, Handlers } from './types'

export const backendsHandlers = {
  'backends.list': async (_params, studio) => studio.backends()
} satisfies Handlers<DomainRequests<'backends'>>
