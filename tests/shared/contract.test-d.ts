import { describe, expectTypeOf, test } from 'vitest'
import type { EventName, Events, ParsedParams, RequestName, Results, StudioApi } from '@shared/contract'
import type { handlers } from '../../src/main/handlers'
import type { Handler } from '../../src/main/handlers/types'
import type { Studio } from '../../src/main/services/studio'

type Registry = typeof handlers

describe('the handler registry covers the contract', () => {
  test('every request has a handler', () => {
    // Fails (names the missing requests) when a request in the contract has no handler.
    type Missing = Exclude<RequestName, keyof Registry>
    expectTypeOf<Missing>().toEqualTypeOf<never>()
  })

  test('no handler for a request the contract does not have', () => {
    type Extra = Exclude<keyof Registry, RequestName>
    expectTypeOf<Extra>().toEqualTypeOf<never>()
  })

  test('each handler takes the parsed params and returns the contract result', () => {
    type Checked = { [K in RequestName]: Registry[K] extends Handler<K> ? true : K }
    expectTypeOf<Checked[RequestName]>().toEqualTypeOf<true>()
    expectTypeOf<Registry['runs.start']>().parameters.toEqualTypeOf<[ParsedParams<'runs.start'>, Studio]>()
    expectTypeOf<Awaited<ReturnType<Registry['runs.list']>>>().toEqualTypeOf<Results['runs.list']>()
  })
})

describe('the renderer-facing API', () => {
  test('one method per request, on() returns an unsubscribe', () => {
    expectTypeOf<Exclude<RequestName, keyof StudioApi>>().toEqualTypeOf<never>()
    expectTypeOf<StudioApi['runs.get']>().returns.toEqualTypeOf<Promise<Results['runs.get']>>()
    expectTypeOf<ReturnType<StudioApi['on']>>().toEqualTypeOf<() => void>()
    expectTypeOf<Parameters<StudioApi['on']>[0]>().toEqualTypeOf<EventName>()
    expectTypeOf<Events['train.status']['status']>().toEqualTypeOf<'running' | 'paused' | 'stopped' | 'completed' | 'failed'>()
  })
})
