import { toErrorShape } from '@shared/errors'
import type { z } from 'zod'
import { describeZodError } from '@shared/config'
import { requestSchemas, type ParsedParams, type Reply, type RequestName } from '@shared/contract'
import type { StudioErrorShape } from '@shared/errors'
import type { HandlerRegistry } from '../handlers/types'
import type { Studio } from '../services/studio'

/** One request from an untrusted caller (IPC or WebSocket), answered as a Reply. Never throws. */
export type Dispatch = (name: unknown, params: unknown) => Promise<Reply<RequestName>>

const MAX_MESSAGE = 600

export function isRequestName(name: unknown): name is RequestName {
  return typeof name === 'string' && Object.hasOwn(requestSchemas, name)
}

/**
 * Validates the request name and its params with the contract's zod schemas, then calls the
 * handler. Invalid input → `invalid-params` with a readable message; anything thrown → `{ code,
 * message }` (stack traces stay in the log).
 */
export function createDispatcher(
  handlers: HandlerRegistry,
  studio: Studio,
  options: { log?: (message: string, err: unknown) => void } = {}
): Dispatch {
  const log = options.log ?? ((message, err) => console.error(`gan-studio: ${message}`, err))
  return async (name, params) => {
    if (!isRequestName(name)) {
      const shown = typeof name === 'string' ? `"${clip(name, 80)}"` : typeof name
      return fail({ code: 'invalid-params', message: `Unknown request ${shown}.` })
    }
    const parsed = parseParams(name, params)
    if (!parsed.success) return fail({ code: 'invalid-params', message: clip(`${name}: ${parsed.message}`, MAX_MESSAGE) })
    try {
      const handler = handlers[name] as (p: ParsedParams<RequestName>, s: Studio) => Promise<unknown>
      const result = await handler(parsed.data, studio)
      return { ok: true, result } as Reply<RequestName>
    } catch (err) {
      const error = toErrorShape(err)
      if (error.code === 'internal') log(`${name} failed`, err)
      return fail({ code: error.code, message: clip(error.message, MAX_MESSAGE) })
    }
  }
}

/** Params through the request's schema; a missing params object counts as `{}`. */
export function parseParams<K extends RequestName>(
  name: K,
  params: unknown
): { success: true; data: ParsedParams<K> } | { success: false; message: string } {
  const schema = requestSchemas[name] as unknown as z.ZodType<ParsedParams<K>>
  const result = schema.safeParse(params === undefined || params === null ? {} : params)
  if (result.success) return { success: true, data: result.data }
  return { success: false, message: describeZodError(result.error) }
}

function fail(error: StudioErrorShape): Reply<RequestName> {
  return { ok: false, error }
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}
