import { appHandlers } from './app'
import { backendsHandlers } from './backends'
import { compareHandlers } from './compare'
import { datasetsHandlers } from './datasets'
import { directionsHandlers } from './directions'
import { exploreHandlers } from './explore'
import { fsHandlers } from './fs'
import { generateHandlers } from './generate'
import { qualityHandlers } from './quality'
import { runsHandlers } from './runs'
import type { HandlerRegistry } from './types'

export type { Handler, HandlerRegistry, Handlers, DomainRequests } from './types'

/**
 * Every request's handler, one domain file each. `satisfies HandlerRegistry` makes a missing or
 * misspelt handler a compile error (and tests/shared/contract.test-d.ts checks the same).
 */
export const handlers = {
  ...appHandlers,
  ...fsHandlers,
  ...datasetsHandlers,
  ...backendsHandlers,
  ...runsHandlers,
  ...generateHandlers,
  ...compareHandlers,
  ...qualityHandlers,
  ...exploreHandlers,
  ...directionsHandlers
} satisfies HandlerRegistry
