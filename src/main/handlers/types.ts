import type { ParsedParams, RequestName, Results } from '@shared/contract'
import type { Studio } from '../services/studio'

/**
 * A request handler: gets params already validated (and defaulted) by the contract's zod schema,
 * and the studio's services. Returns the contract's result; throws StudioError for anything a
 * person should read (the bridge turns every throw into `{ code, message }`).
 */
export type Handler<K extends RequestName> = (params: ParsedParams<K>, studio: Studio) => Promise<Results[K]>

/** Handlers for a set of requests: one file per domain exports one of these. */
export type Handlers<K extends RequestName> = { [P in K]: Handler<P> }

/** Every request, handled: the registry must have exactly this type. */
export type HandlerRegistry = Handlers<RequestName>

/** Request names of one domain, e.g. `DomainRequests<'runs'>`. */
export type DomainRequests<D extends string> = Extract<RequestName, `${D}.${string}`>
