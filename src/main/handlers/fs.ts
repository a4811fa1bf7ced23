import { listFolder } from '../services/folders'
import type { DomainRequests, Handlers } from './types'

export const fsHandlers = {
  'fs.listDir': async ({ path }) => listFolder(path)
} satisfies Handlers<DomainRequests<'fs'>>
